// A DR test (and a drill) from the replica: the primary region is gone, can we restore from the
// second copy? The backup is read from the replica store, which the reader may only list and
// read; the report, the access review, the audit event and the status go to the record store
// (LIFEBOAT_RECORD_STORE, the primary in the dr-test workflow). Folder stores stand in for the
// two buckets: the replica is byte-for-byte what it was after the runs.
import { createHash } from 'node:crypto'
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FileStore } from '../../lib/adapters/store/file-store.ts'
import { createSampleData } from '../../lib/demo/sample-data.ts'
import { createDatabase, dropDatabase, sql, withClient } from '../helpers/database.ts'
import { reportSchemaProblems } from '../helpers/report-schema.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { readReport, stateEnv, tempDir } from './drill-fixtures.ts'

let source: { name: string; url: string }
let primary: string
let replica: string
let backupId: string
const databases: string[] = []

/** Every file under a folder with the sha256 of its bytes, and every folder: what "unchanged" means. */
function snapshot(root: string): Record<string, string> {
  const entries: Record<string, string> = {}
  const walk = (relative: string) => {
    for (const name of readdirSync(join(root, relative)).sort()) {
      const path = join(relative, name)
      if (statSync(join(root, path)).isDirectory()) {
        entries[`${path}/`] = 'folder'
        walk(path)
      } else
        entries[path] = createHash('sha256')
          .update(readFileSync(join(root, path)))
          .digest('hex')
    }
  }
  walk('')
  return entries
}

/** The review the stack publishes; `trusts` varies so a change since the last review shows. */
function accessReview(trusts: string[]): string {
  return JSON.stringify({
    version: 1,
    stack: 'prod',
    bucket: 'arn:aws:s3:::acme-lifeboat-backups',
    principals: [
      { name: 'reader', kind: 'role', arn: 'arn:aws:iam::1:role/reader', trusts, allows: [], denies: [] },
    ],
  })
}

beforeAll(async () => {
  source = await createDatabase('replica_src')
  databases.push(source.name)
  await withClient(source.url, (client) => createSampleData(client, { metricsRows: 300 }))
  primary = tempDir('primary')
  const backup = await runJobProcess('backup', ['--json'], {
    DATABASE_URL: source.url,
    BACKUP_STORE: primary,
    ...stateEnv(),
  })
  expect(backup.code, backup.stderr).toBe(0)
  backupId = String(backup.json!.id)
  // The primary's last access review, from the DR test a quarter ago.
  mkdirSync(join(primary, 'drills'), { recursive: true })
  writeFileSync(
    join(primary, 'drills/access-review-2026-10-01T060000Z.json'),
    accessReview(['repo:acme/lifeboat:environment:staging']),
  )
  // Replication copied the backups; the replica also holds a stray review, newer by name, that
  // a DR test comparing with the replica's records instead of the record store's would pick.
  replica = tempDir('replica')
  cpSync(join(primary, 'database-backups'), join(replica, 'database-backups'), { recursive: true })
  mkdirSync(join(replica, 'drills'))
  writeFileSync(join(replica, 'drills/access-review-2099-01-01T000000Z.json'), accessReview([]))
}, 120_000)
afterAll(async () => {
  await Promise.all(databases.map(dropDatabase))
})

describe('a DR test from the replica, its records in the primary', () => {
  it('restores the replica’s newest backup, verified, and writes report, review, audit and status to the record store only', async () => {
    const before = snapshot(replica)
    const empty = await createDatabase('replica_dr_empty')
    databases.push(empty.name)
    const checks = join(tempDir('checks'), 'smoke.sql')
    writeFileSync(checks, '-- the users can sign in\nSELECT count(*) > 0 FROM auth.users;\n')
    const run = await runJobProcess('dr-test', ['--json'], {
      BACKUP_STORE: `file://${replica}`,
      LIFEBOAT_RECORD_STORE: `file://${primary}`,
      DR_TEST_DATABASE_URL: empty.url,
      DR_TEST_CHECKS: checks,
      LIFEBOAT_ACCESS_REVIEW: accessReview(['repo:acme/lifeboat:environment:staging']),
      ...stateEnv(),
    })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain(`listing the backups in ${replica}`)
    expect(run.stderr).toContain(`report written to ${primary}/drills/`)

    const records = new FileStore(primary)
    const report = await readReport(records, String(run.json!.id))
    expect(report.stores).toEqual({ backups: replica, records: primary })
    expect(report.backupId).toBe(backupId)
    expect(report.warnings).toEqual([])
    expect(report.outcome).toBe('success')
    expect(report.checks.map((c) => [c.name, c.ok])).toContainEqual(['smoke: the users can sign in', true])
    expect(report.checks.filter((c) => !c.ok)).toEqual([])
    expect(report.tables.length).toBeGreaterThan(0)
    expect(report.tables.every((t) => t.sha256Match && t.rowsRestored === t.rowsExpected)).toBe(true)
    expect(reportSchemaProblems(report)).toEqual([])
    const restored = await sql(empty.url, 'SELECT count(*)::int AS n FROM auth.users')
    expect(restored.rows[0].n).toBeGreaterThan(0)

    // Compared with the primary's last review, and stored beside it.
    expect(report.accessReview).toMatchObject({
      previousKey: 'drills/access-review-2026-10-01T060000Z.json',
      changes: [],
    })
    expect((await records.list('drills/access-review-')).map((o) => o.key)).toContain(
      report.accessReview!.key,
    )
    // The audit event and the status (failure count) are the primary's.
    const audit = (await records.list('audit/')).map((o) => o.key)
    const drTestEvent = audit.find((key) => /Z-dr-test-[0-9a-f]+\.json$/.test(key))
    expect(drTestEvent, audit.join(', ')).toBeDefined()
    const status = JSON.parse(readFileSync(join(primary, 'state/status.json'), 'utf8'))
    expect(status.jobs['dr-test']).toMatchObject({ consecutiveFailures: 0, lastStatus: 'success' })
    const event = JSON.parse(readFileSync(join(primary, drTestEvent!), 'utf8'))
    expect(event.details).toMatchObject({ 'backups read from': replica })

    expect(snapshot(replica)).toEqual(before)
  }, 180_000)

  it('a drill with --record-store: the Markdown names both stores, the replica is untouched', async () => {
    const before = snapshot(replica)
    const staging = await createDatabase('replica_drill_staging')
    databases.push(staging.name)
    const run = await runJobProcess('drill', ['--record-store', primary], {
      BACKUP_STORE: replica,
      STAGING_DATABASE_URL: staging.url,
      ...stateEnv(),
    })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(`| Backups read from | \`${replica}\` (records written to \`${primary}\`) |`)
    const reports = readdirSync(join(primary, 'drills')).filter((name) => name.startsWith('drill-'))
    expect(reports).toHaveLength(1)
    expect(snapshot(replica)).toEqual(before)
  }, 180_000)

  it('refuses a record store that is not one before touching anything (exit 2)', async () => {
    const before = snapshot(replica)
    const run = await runJobProcess('dr-test', [], {
      BACKUP_STORE: replica,
      LIFEBOAT_RECORD_STORE: 'primary-bucket',
      ...stateEnv(),
    })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('CONFIG_INVALID')
    expect(run.stderr).toContain('LIFEBOAT_RECORD_STORE must be s3://bucket/prefix')
    expect(snapshot(replica)).toEqual(before)
  })
})
