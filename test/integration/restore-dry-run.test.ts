// backup:restore --dry-run: the restore's phases up to every check against the target,
// then its plan printed (what would be created, loaded, emptied, left out), and nothing
// written: the target is the same before and after, whatever the verdict.
import { generateIdentity, identityToRecipient } from 'age-encryption'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { encryptStream } from '../../lib/adapters/crypto/age.ts'
import { listAudit } from '../../lib/audit/trail.ts'
import { runBackup } from '../../lib/backup/postgres-source.ts'
import { Secret } from '../../lib/core/secret.ts'
import { selectEverything } from '../../lib/core/selection.ts'
import { createSampleData, SAMPLE_SCHEMA_SQL } from '../../lib/demo/sample-data.ts'
import { createDatabase, dropDatabase, sql, withClient } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { s3Env } from '../helpers/s3-server.ts'
import { testSigningKey } from '../helpers/signing.ts'
import { fingerprint, folderStore, tempFolder } from './restore-fixtures.ts'

let source: { name: string; url: string }
let env: Record<string, string>
let id: string
const created: string[] = []

async function target(label: string, schema = false): Promise<string> {
  const db = await createDatabase(label)
  created.push(db.name)
  if (schema) await sql(db.url, SAMPLE_SCHEMA_SQL)
  return db.url
}

function dryRun(url: string, args: string[]) {
  return runJobProcess('restore', [id, '--dry-run', ...args], { ...env, TARGET_DATABASE_URL: url })
}

beforeAll(async () => {
  source = await createDatabase('dry_run_src')
  created.push(source.name)
  await withClient(source.url, (client) => createSampleData(client, { metricsRows: 300 }))
  env = s3Env(inject('s3Endpoint'), `dry-run-${process.pid}`)
  const backup = await runJobProcess('backup', ['--json', '--compress', '1'], {
    ...env,
    DATABASE_URL: source.url,
  })
  expect(backup.code, backup.stderr).toBe(0)
  id = backup.json!.id as string
}, 120_000)
afterAll(async () => {
  await Promise.all(created.map(dropDatabase))
})

describe('restore --dry-run', () => {
  it('into an empty database prints the plan, schema statements included, and writes nothing', async () => {
    const url = await target('dry_run_empty')
    const before = await fingerprint(url)
    const run = await dryRun(url, ['--create-schema'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^public\.organizations\s+\d+\s+.*create and load$/m)
    expect(run.stdout).toMatch(
      /schema\.sql: \d+ statements \(\d+ before the data, \d+ after\): .*\b14 CreateStmt\b/,
    )
    expect(run.stdout).toMatch(new RegExp(`dry run: ${id} would restore \\d+ tables, .*nothing was written`))
    expect(await fingerprint(url)).toEqual(before)
  })

  it('prints the plan as JSON with --json, tables left out by the selection named', async () => {
    const url = await target('dry_run_json', true)
    const run = await dryRun(url, ['--json', '-t', 'public.organizations'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.json).toMatchObject({
      dryRun: true,
      id,
      tables: [{ table: 'public.organizations', action: 'load' }],
      schema: null,
      signature: { status: 'verified' },
    })
    expect(run.json!.skipped).toContain('public.metrics')
  })

  it('into a target that holds rows exits 1 naming the tables a real restore would refuse', async () => {
    const url = await target('dry_run_full', true)
    const restored = await runJobProcess('restore', [id], { ...env, TARGET_DATABASE_URL: url })
    expect(restored.code, restored.stderr).toBe(0)
    const before = await fingerprint(url)
    const run = await dryRun(url, [])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/error TARGET_NOT_EMPTY: .*public\.organizations/)
    expect(await fingerprint(url)).toEqual(before)
    // With --truncate the plan empties each table first; still nothing is written.
    const truncate = await dryRun(url, ['--truncate'])
    expect(truncate.code, truncate.stderr).toBe(0)
    expect(truncate.stdout).toMatch(/^public\.organizations\s+.*empty and load$/m)
    expect(await fingerprint(url)).toEqual(before)
  }, 120_000)
})

describe('restore --dry-run of an encrypted backup without BACKUP_AGE_IDENTITY', () => {
  it('fails as the restore does: one DECRYPT_FAILED line, exit 1, a --json error and an audit record', async () => {
    const recipient = await identityToRecipient(await generateIdentity())
    const store = folderStore()
    await runBackup(
      {
        store,
        emit: () => {},
        now: () => new Date(),
        tempDir: tempFolder('dry-run-spool'),
        signingKey: testSigningKey(),
        encrypt: () => encryptStream([recipient]),
      },
      {
        source: new Secret(source.url),
        sourceSetting: 'DATABASE_URL',
        selection: selectEverything,
        jobs: 1,
        gzipLevel: 1,
      },
    )
    const url = await target('dry_run_age', true)
    const run = await runJobProcess('restore', ['latest', '--dry-run', '--json'], {
      BACKUP_STORE: store.location,
      TARGET_DATABASE_URL: url,
    })
    expect(run.code, run.stderr).toBe(1)
    expect(run.stderr.trim().split('\n').at(-1)).toMatch(
      /^lifeboat restore: error DECRYPT_FAILED: .*BACKUP_AGE_IDENTITY/,
    )
    expect(run.stderr).not.toMatch(/Unhandled|\n\s+at /)
    expect(run.json).toMatchObject({ ok: false, error: { code: 'DECRYPT_FAILED' } })
    const [audit] = await listAudit(store, { until: new Date(), limit: 1, event: 'restore' })
    expect(audit?.record).toMatchObject({ outcome: 'failure', error: { code: 'DECRYPT_FAILED' } })
  })
})
