// The audit trail end to end: backup, verify, clean and monitor each append a record
// (success and failure), `backup:audit` lists them newest first, no secret is ever
// written, GitHub runs name the actor and run URL, and a failed append only warns.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../lib/adapters/postgres/throwaway.ts'
import { FileStore } from '../../lib/adapters/store/file-store.ts'
import type { AuditRecord } from '../../lib/audit/record.ts'
import { appendAudit, listAudit } from '../../lib/audit/trail.ts'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'

let db: { name: string; url: string }
let folder: string
let env: Record<string, string>

beforeAll(async () => {
  db = await createDatabase('audit')
  await sql(db.url, `CREATE TABLE items AS SELECT g AS id FROM generate_series(1, 20) g`)
  folder = mkdtempSync(join(resolve('.tmp'), 'audit-'))
  env = {
    BACKUP_STORE: folder,
    LIFEBOAT_STATE_FILE: join(mkdtempSync(join(resolve('.tmp'), 'state-')), 'status.json'),
  }
})
afterAll(async () => dropDatabase(db.name))

/** Every file under audit/, as text. */
function auditFiles(root: string): string[] {
  return (readdirSync(join(root, 'audit'), { recursive: true }) as string[])
    .filter((path) => path.endsWith('.json'))
    .map((path) => readFileSync(join(root, 'audit', path), 'utf8'))
}

type Listed = AuditRecord & { key: string }

describe('every job appends an audit record', () => {
  it('backup, verify, clean, monitor (and their failures) are listed newest first by backup:audit', async () => {
    const unreachable = `postgresql://app:Sup3rS3cretPw@127.0.0.1:${await freePort()}/app`
    const failedBackup = await runJobProcess('backup', [], { ...env, DATABASE_URL: unreachable })
    expect(failedBackup.code).toBe(1)
    const backup = await runJobProcess('backup', ['--json'], { ...env, DATABASE_URL: db.url })
    expect(backup.code, backup.stderr).toBe(0)
    const id = backup.json!.id as string
    expect((await runJobProcess('verify', [], env)).code).toBe(0)
    expect((await runJobProcess('verify', ['backup-2001-01-01T000000Z'], env)).code).toBe(1)
    expect((await runJobProcess('clean', ['--dry-run'], env)).code).toBe(0)
    expect((await runJobProcess('clean', [], env)).code).toBe(0)
    expect((await runJobProcess('monitor', [], env)).code).toBe(0)

    const run = await runJobProcess('audit', ['--json'], env)
    expect(run.code, run.stderr).toBe(0)
    const records = run.json!.records as Listed[]
    expect(records.map((r) => `${r.event}:${r.outcome}`)).toEqual([
      'monitor:success',
      'clean:success',
      'clean:success',
      'verify:failure',
      'verify:success',
      'backup:success',
      'backup:failure',
    ])
    const [monitor, clean, dryRun, failedVerify, verify, ok, failed] = records
    expect(ok).toMatchObject({ backupId: id, details: { tables: 1, rows: 20 } })
    expect(verify).toMatchObject({ backupId: id, details: { mode: 'full', checked: [`${id}: ok`] } })
    expect(failedVerify!.error).toMatchObject({ code: 'BACKUP_NOT_FOUND' })
    expect(failed!.error).toMatchObject({ code: 'DB_UNREACHABLE' })
    expect(dryRun!.details).toMatchObject({ dryRun: true, keptIds: [id], deletedIds: [] })
    expect(clean!.details).toMatchObject({ dryRun: false })
    expect(monitor).toMatchObject({ backupId: id, outcome: 'success' })
    for (const record of records) {
      expect(record.actor).toEqual({ kind: 'local', user: expect.any(String), host: expect.any(String) })
      expect(record.key).toMatch(
        new RegExp(`^audit/\\d{4}/\\d{2}/\\d{2}/\\d{6}\\.\\d{3}Z-${record.event}-[0-9a-f]+\\.json$`),
      )
      expect(Date.parse(record.at)).toBeGreaterThanOrEqual(Date.parse(record.startedAt!))
    }
    // No secret in any record: the database password of the failed run is redacted.
    const text = auditFiles(folder).join('\n')
    expect(text).not.toContain('Sup3rS3cretPw')
    expect(text).not.toContain(new URL(db.url).password)

    const table = await runJobProcess('audit', ['--limit', '3'], env)
    expect(table.code).toBe(0)
    const lines = table.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^time \(UTC\)\s+event\s+outcome\s+backup\s+who\s+note$/)
    expect(lines.slice(1, 4).map((l) => l.split(/\s+/)[2])).toEqual(['monitor', 'clean', 'clean'])
    expect(lines.at(-1)).toBe(`3 records in ${folder}`)

    const onlyVerify = await runJobProcess('audit', ['--event', 'verify', '--json'], env)
    expect((onlyVerify.json!.records as Listed[]).map((r) => r.outcome)).toEqual(['failure', 'success'])
    const none = await runJobProcess('audit', ['--since', '2001-01-01', '--event', 'drill'], env)
    expect(none.stdout).toContain('no audit records since 2001-01-01')
  })

  it('names the GitHub actor and run URL in Actions', async () => {
    const run = await runJobProcess('monitor', [], {
      ...env,
      GITHUB_ACTIONS: 'true',
      GITHUB_ACTOR: 'octocat',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'acme/lifeboat',
      GITHUB_RUN_ID: '4242',
      GITHUB_WORKFLOW: 'Backup monitor',
    })
    expect(run.code, run.stderr).toBe(0)
    const listed = await runJobProcess('audit', ['--limit', '1', '--json'], env)
    expect((listed.json!.records as Listed[])[0]!.actor).toEqual({
      kind: 'github',
      actor: 'octocat',
      runUrl: 'https://github.com/acme/lifeboat/actions/runs/4242',
      repository: 'acme/lifeboat',
      workflow: 'Backup monitor',
      runId: '4242',
    })
  })

  it('refuses a bad --since with exit 2', async () => {
    const run = await runJobProcess('audit', ['--since', 'last week'], env)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('--since must be like 7d')
  })
})

describe('appendAudit', () => {
  it('never overwrites: two records at the same millisecond get two keys', async () => {
    const store = new FileStore(mkdtempSync(join(resolve('.tmp'), 'audit-append-')))
    const record: AuditRecord = {
      version: 1,
      event: 'drill',
      at: '2026-11-25T02:00:00.000Z',
      outcome: 'success',
      actor: { kind: 'local', user: 'ana', host: 'laptop' },
      details: {},
    }
    const first = await appendAudit(store, record)
    const second = await appendAudit(store, { ...record, outcome: 'failure' })
    expect(first).not.toBe(second)
    const listed = await listAudit(store, {
      since: new Date('2026-11-01T00:00:00Z'),
      until: new Date('2026-12-01T00:00:00Z'),
      limit: 10,
    })
    expect(listed.map((l) => l.record?.outcome).sort()).toEqual(['failure', 'success'])
  })

  it('a store that cannot take the record only warns; the job keeps its exit code', async () => {
    const root = mkdtempSync(join(resolve('.tmp'), 'audit-broken-'))
    // A file where the audit/ folder should be: every append fails.
    writeFileSync(join(root, 'audit'), 'not a folder')
    const run = await runJobProcess('backup', [], { ...env, BACKUP_STORE: root, DATABASE_URL: db.url })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain('warning: audit record not written')
  })
})
