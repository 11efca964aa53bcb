// The messages that used to mislead (issue 14, Must show 5), each now named for what
// happened, asserted by code: a full temp disk, a missing bucket, a missing folder store,
// S3 without credentials or with a malformed endpoint, a malformed alert channel, and `clean 1e1`.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'
import { type JobRun, runJobProcess } from '../helpers/run-job.ts'
import { s3Env } from '../helpers/s3-server.ts'
import { tempFolder } from './restore-fixtures.ts'

let source: { name: string; url: string }

beforeAll(async () => {
  source = await createDatabase('messages_src')
  // About 5 MB of hex that gzip cannot shrink below 2 MB.
  await sql(
    source.url,
    `CREATE TABLE public.blobs (id bigint PRIMARY KEY, body text NOT NULL);
     INSERT INTO public.blobs SELECT g, md5(random()::text) || md5(random()::text) FROM generate_series(1, 80000) g;`,
  )
})
afterAll(async () => dropDatabase(source.name))

const state = () => ({ LIFEBOAT_STATE_FILE: `${tempFolder('state')}/status.json` })

/** The one error line a job prints. */
function errorLine(run: JobRun, job: string): string {
  const lines = run.stderr.split('\n').filter((l) => l.startsWith(`lifeboat ${job}: error`))
  expect(lines, run.stderr).toHaveLength(1)
  return lines[0]!
}

describe('a temp folder that fills up', () => {
  const mount = tempFolder('small-disk')
  beforeAll(() => {
    // A 1 MiB disk of its own (the tests run as root, as CI does).
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount])
  })
  afterAll(() => {
    execFileSync('umount', [mount])
  })

  it('is TEMP_DISK_FULL naming the folder, not a database error about a destroyed stream', async () => {
    const store = tempFolder('disk-full-store')
    const run = await runJobProcess('backup', [], {
      DATABASE_URL: source.url,
      BACKUP_STORE: store,
      LIFEBOAT_TEMP_DIR: mount,
      ...state(),
    })
    expect(run.code).toBe(1)
    const line = errorLine(run, 'backup')
    expect(line).toContain(`error TEMP_DISK_FULL: the temp folder ${mount} ran out of space (ENOSPC)`)
    expect(line).not.toContain('Cannot call write after a stream was destroyed')
    expect(readdirSync(mount)).toEqual([])
    expect(
      existsSync(join(store, 'database-backups')) ? readdirSync(join(store, 'database-backups')) : [],
    ).toEqual([])
  })
})

describe('a store that does not exist', () => {
  it('a missing bucket is STORE_MISSING (NoSuchBucket), not "backup not found"', async () => {
    const env = {
      ...s3Env(inject('s3Endpoint'), 'x'),
      BACKUP_STORE: 's3://no-such-bucket-lifeboat/x',
      ...state(),
    }
    const list = await runJobProcess('list', [], env)
    expect(list.code).toBe(1)
    expect(errorLine(list, 'list')).toMatch(
      /error STORE_MISSING: .*the bucket does not exist \(NoSuchBucket\)/,
    )
    const verify = await runJobProcess('verify', ['latest'], env)
    expect(verify.code).toBe(1)
    expect(errorLine(verify, 'verify')).toContain('error STORE_MISSING')
  })

  it('a missing folder store is an error, not "no complete backups"', async () => {
    const missing = join(tempFolder('gone'), 'not-mounted')
    for (const job of ['list', 'monitor', 'clean']) {
      const run = await runJobProcess(job, [], { BACKUP_STORE: `file://${missing}`, ...state() })
      expect(run.code, `${job}: ${run.stderr}`).toBe(1)
      expect(errorLine(run, job)).toContain(`error STORE_MISSING: cannot list ${missing}/database-backups/`)
      expect(run.stdout).not.toContain('no complete backups')
    }
    expect(existsSync(missing)).toBe(false)
  })
})

describe('an S3 store without working settings', () => {
  /** The test s3rver, with no credentials anywhere the SDK looks (no files, no instance metadata). */
  function withoutCredentials(): Record<string, string> {
    const {
      AWS_ACCESS_KEY_ID: _id,
      AWS_SECRET_ACCESS_KEY: _secret,
      ...env
    } = s3Env(inject('s3Endpoint'), 'x')
    const empty = join(tempFolder('aws-empty'), 'empty')
    writeFileSync(empty, '')
    return {
      ...env,
      AWS_SHARED_CREDENTIALS_FILE: empty,
      AWS_CONFIG_FILE: empty,
      AWS_EC2_METADATA_DISABLED: 'true',
      ...state(),
    }
  }

  it('no credentials is CONFIG_MISSING naming the settings (exit 2), not a store error to retry', async () => {
    const run = await runJobProcess('list', [], withoutCredentials())
    expect(run.code, run.stderr).toBe(2)
    const line = errorLine(run, 'list')
    expect(line).toMatch(
      /error CONFIG_MISSING: .*no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
    )
    expect(line).not.toContain('retry')
  })

  it('an endpoint that is not a URL is CONFIG_INVALID naming AWS_ENDPOINT_URL_S3 (exit 2)', async () => {
    const env = { ...s3Env(inject('s3Endpoint'), 'x'), AWS_ENDPOINT_URL_S3: 'notaurl', ...state() }
    const run = await runJobProcess('list', [], env)
    expect(run.code, run.stderr).toBe(2)
    expect(errorLine(run, 'list')).toContain(
      'error CONFIG_INVALID: AWS_ENDPOINT_URL_S3 must be an http(s) URL',
    )
  })
})

describe('a malformed alert setting', () => {
  it('fails the backup preflight with exit 2 before anything is written', async () => {
    const store = tempFolder('alert-store')
    mkdirSync(store, { recursive: true })
    const run = await runJobProcess('backup', [], {
      DATABASE_URL: source.url,
      BACKUP_STORE: store,
      SLACK_WEBHOOK_URL: 'hooks.slack.com/services/T000/B000/not-a-url',
      ...state(),
    })
    expect(run.code).toBe(2)
    expect(errorLine(run, 'backup')).toMatch(
      /error CONFIG_INVALID: preflight: Alerts: SLACK_WEBHOOK_URL must be an http\(s\) URL/,
    )
    expect(run.stderr).not.toContain('not-a-url')
    expect(readdirSync(store).filter((name) => name === 'database-backups')).toEqual([])
  })
})

describe('clean 1e1', () => {
  it('is refused (exit 2), not read as 10 days', async () => {
    const run = await runJobProcess('clean', ['1e1'], { BACKUP_STORE: tempFolder('clean-1e1'), ...state() })
    expect(run.code).toBe(2)
    expect(errorLine(run, 'clean')).toContain(
      'error CONFIG_INVALID: [days] must be a whole number ≥ 1, got "1e1"',
    )
  })
})
