// Crashes leave no sensitive debris and no debris for ever (issue 14, Must show 4): kill -9
// of an encrypted backup leaves no plaintext rows on disk, the next run sweeps its temp
// folder, and clean removes the partial archive, the orphaned claim and stale multipart
// uploads (against an S3 API that keeps them: the test proxy tracks them, s3rver cannot).
import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { gunzipSync } from 'node:zlib'
import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { generateIdentity, identityToRecipient } from 'age-encryption'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { s3Env, TEST_BUCKET } from '../helpers/s3-server.ts'
import { tempFolder } from './restore-fixtures.ts'

const MARKER = 'PLAINTEXT-MARKER'
let source: { name: string; url: string }
let recipient: string

beforeAll(async () => {
  source = await createDatabase('debris_src')
  const tables = Array.from(
    { length: 120 },
    (_, i) =>
      `CREATE TABLE public.t${i} (id bigint PRIMARY KEY, secret text NOT NULL);
       INSERT INTO public.t${i} SELECT g, '${MARKER}-' || g || repeat('y', 150) FROM generate_series(1, 3000) g;`,
  )
  await sql(source.url, tables.join('\n'))
  recipient = await identityToRecipient(await generateIdentity())
})
afterAll(async () => dropDatabase(source.name))

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map((name) => join(dir, String(name)))
    .filter((path) => statSync(path).isFile())
}

/** The plaintext rows, raw or gzipped, anywhere in the file. */
function holdsPlaintext(path: string): boolean {
  const bytes = readFileSync(path)
  if (bytes.includes(Buffer.from(MARKER))) return true
  try {
    return gunzipSync(bytes).includes(Buffer.from(MARKER))
  } catch {
    return false
  }
}

function start(env: Record<string, string>): { child: ChildProcess; stderr: () => string } {
  let stderr = ''
  const child = spawn(process.execPath, ['--import', 'tsx', resolve('jobs', 'backup.ts')], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CI: 'true', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  return { child, stderr: () => stderr }
}

describe('kill -9 of an encrypted backup', () => {
  it('leaves no plaintext rows on disk; the next run sweeps the leftovers; clean removes the partial and the claim', async () => {
    const store = tempFolder('debris-store')
    const temp = tempFolder('debris-temp')
    const env = {
      DATABASE_URL: source.url,
      BACKUP_STORE: store,
      BACKUP_AGE_RECIPIENTS: recipient,
      LIFEBOAT_TEMP_DIR: temp,
      LIFEBOAT_STATE_FILE: `${tempFolder('state')}/status.json`,
    }
    const run = start(env)
    const deadline = Date.now() + 90_000
    // Mid-export: a few tables spooled and packed, more to come.
    while ((run.stderr().match(/public\.t\d+: [\d,]+ rows/g) ?? []).length < 5) {
      if (Date.now() > deadline) throw new Error(`the backup never got going:\n${run.stderr()}`)
      await new Promise((r) => setTimeout(r, 20))
    }
    const exited = new Promise((done) => run.child.once('exit', done))
    run.child.kill('SIGKILL')
    await exited

    const [work] = readdirSync(temp)
    expect(work).toMatch(/^lifeboat-backup-\d+-\w{6}$/)
    expect(statSync(join(temp, work!)).mode & 0o777).toBe(0o700)
    const leftovers = filesUnder(temp)
    expect(leftovers.length).toBeGreaterThan(0)
    expect(leftovers.filter(holdsPlaintext)).toEqual([])

    // The folder store holds the partial archive (hidden, never matched by backup-*.tar.gz*) and the claim.
    const stored = readdirSync(join(store, 'database-backups'))
    expect(stored.some((name) => /^\.partial-\d+-[0-9a-f]+-backup-.*\.tar\.gz\.age$/.test(name))).toBe(true)
    expect(stored.filter((name) => /^backup-.*\.tar\.gz.*$/.test(name))).toEqual([])

    const next = await runJobProcess('backup', [], env)
    expect(next.code, next.stderr).toBe(0)
    expect(next.stderr).toContain(
      `removed 1 temp folder(s) left by backups that were killed: ${join(temp, work!)}`,
    )
    expect(readdirSync(temp)).toEqual([])

    const later = new Date(Date.now() + 2 * 86_400_000).toISOString()
    const clean = await runJobProcess('clean', ['--json'], { ...env, LIFEBOAT_NOW: later })
    expect(clean.code, clean.stderr).toBe(0)
    expect((clean.json!.abortedUploads as { key: string }[]).map((u) => u.key)).toEqual([
      expect.stringMatching(/^database-backups\/backup-.*\.tar\.gz\.age$/),
    ])
    expect((clean.json!.deleted as { reason: string }[]).map((d) => d.reason)).toEqual(['orphaned-claim'])
    const left = readdirSync(join(store, 'database-backups'))
    expect(left.filter((name) => name.startsWith('.partial-'))).toEqual([])
    expect(left.filter((name) => name.endsWith('.claim'))).toHaveLength(1)
  })
})

describe('clean and unfinished multipart uploads', () => {
  it('leaves a fresh one alone and aborts it once it is older than a day, saying so', async () => {
    const s3 = s3Env(inject('s3Endpoint'), `multipart-${Date.now()}`)
    const env = { ...s3, LIFEBOAT_STATE_FILE: `${tempFolder('state')}/status.json` }
    const prefix = s3.BACKUP_STORE!.replace(`s3://${TEST_BUCKET}/`, '')
    const client = new S3Client({
      region: 'us-east-1',
      endpoint: s3.AWS_ENDPOINT_URL_S3!,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    })
    const Key = `${prefix}/database-backups/backup-2026-01-01T020000Z.tar.gz.age`
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: TEST_BUCKET, Key }))
    await client.send(
      new UploadPartCommand({
        Bucket: TEST_BUCKET,
        Key,
        UploadId,
        PartNumber: 1,
        Body: Buffer.alloc(1024, 1),
      }),
    )
    const pending = async () =>
      (await client.send(new ListMultipartUploadsCommand({ Bucket: TEST_BUCKET, Prefix: prefix }))).Uploads ??
      []
    expect((await pending()).map((u) => u.UploadId)).toEqual([UploadId])

    const fresh = await runJobProcess('clean', ['--json'], env)
    expect(fresh.code, fresh.stderr).toBe(0)
    expect(fresh.json!.abortedUploads).toEqual([])
    expect(await pending()).toHaveLength(1)

    const later = await runJobProcess('clean', [], {
      ...env,
      LIFEBOAT_NOW: new Date(Date.now() + 2 * 86_400_000).toISOString(),
    })
    expect(later.code, later.stderr).toBe(0)
    expect(later.stdout).toMatch(
      /aborted unfinished upload of database-backups\/backup-2026-01-01T020000Z\.tar\.gz\.age/,
    )
    expect(await pending()).toEqual([])
  })
})
