// backup:monitor with a second copy: a complete backup older than the replication lag that the
// replica lacks is reported (a warning, exit 0: the primary copy is fine); once the replica
// holds it, nothing is reported. Folder stores stand in for the two buckets.
import { cpSync, mkdtempSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'

let db: { name: string; url: string }
let primary: string
let backupId: string
const state = () => ({
  LIFEBOAT_STATE_FILE: join(mkdtempSync(join(resolve('.tmp'), 'state-')), 'status.json'),
})

beforeAll(async () => {
  db = await createDatabase('replica_check')
  await sql(db.url, 'CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 20) g')
  primary = mkdtempSync(join(resolve('.tmp'), 'primary-'))
  const run = await runJobProcess('backup', ['--json'], {
    DATABASE_URL: db.url,
    BACKUP_STORE: primary,
    ...state(),
  })
  expect(run.code, run.stderr).toBe(0)
  backupId = run.json!.id as string
}, 60_000)
afterAll(async () => dropDatabase(db.name))

function monitor(replica: string) {
  return runJobProcess('monitor', ['--json'], {
    BACKUP_STORE: primary,
    BACKUP_REPLICA_STORE: `file://${replica}`,
    REPLICA_LAG_HOURS: '1',
    LIFEBOAT_NOW: new Date(Date.now() + 2 * 3_600_000).toISOString(),
    ...state(),
  })
}

describe('backup:monitor and the replica', () => {
  it('reports a backup missing from the replica', async () => {
    const replica = mkdtempSync(join(resolve('.tmp'), 'replica-'))
    const run = await monitor(replica)
    expect(run.code, run.stderr).toBe(0)
    const result = run.json as { replica: { missing: string[]; checked: number }; warnings: string[] }
    expect(result.replica).toMatchObject({ checked: 1, missing: [backupId] })
    expect(result.warnings.join('\n')).toContain(`${backupId} is missing from the replica`)
    expect(run.stderr).toContain('missing from the replica')
  }, 60_000)

  it('is quiet once the replica holds the backup', async () => {
    const replica = mkdtempSync(join(resolve('.tmp'), 'replica-'))
    cpSync(join(primary, 'database-backups'), join(replica, 'database-backups'), { recursive: true })
    const run = await monitor(replica)
    expect(run.code, run.stderr).toBe(0)
    expect((run.json as { replica: { missing: string[] } }).replica.missing).toEqual([])
  }, 60_000)
})
