// backup:monitor and the backup job's own anomaly check, on real backups of a table that
// shrinks by half and a table that disappears; freshness with the clock moved (LIFEBOAT_NOW).
import { mkdtempSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore } from '../../lib/adapters/store/open-store.ts'
import { archiveKey } from '../../lib/archive/layout.ts'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'
import { plantBackup, readTemplate } from '../helpers/plant-backup.ts'
import { alertEnv, type HttpReceiver, startSlackReceiver } from '../helpers/receivers.ts'
import { runJobProcess } from '../helpers/run-job.ts'

let db: { name: string; url: string }
let env: Record<string, string>
let slack: HttpReceiver
const ids: string[] = []

beforeAll(async () => {
  db = await createDatabase('monitor')
  await sql(
    db.url,
    `CREATE TABLE orders AS SELECT g AS id, 'order ' || g AS note FROM generate_series(1, 400) g`,
  )
  await sql(db.url, `CREATE TABLE users AS SELECT g AS id FROM generate_series(1, 40) g`)
  env = {
    BACKUP_STORE: mkdtempSync(join(resolve('.tmp'), 'monitor-')),
    LIFEBOAT_STATE_FILE: join(mkdtempSync(join(resolve('.tmp'), 'state-')), 'status.json'),
  }
  slack = await startSlackReceiver()
})
afterAll(async () => {
  await slack.close()
  await dropDatabase(db.name)
})

async function backup(): Promise<{ id: string; warnings: string[]; anomalies: { kind: string }[] }> {
  const run = await runJobProcess('backup', ['--json'], { DATABASE_URL: db.url, ...env })
  expect(run.code, run.stderr).toBe(0)
  ids.push(run.json!.id as string)
  return run.json as never
}

const later = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString()

describe('anomalies on real backups', () => {
  it('a first backup has nothing to compare with', async () => {
    const first = await backup()
    expect(first.warnings).toEqual([])
    const run = await runJobProcess('monitor', [], env)
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(`fresh: the newest complete backup ${first.id} is`)
    expect(run.stdout).toContain('anomalies: none (no earlier backup to compare with)')
  })

  it('the table shrinking by 50% is reported by the backup job and by monitor, with the numbers', async () => {
    await backup()
    await sql(db.url, 'DELETE FROM orders WHERE id > 200')
    const shrunk = await backup()
    const expected =
      'table public.orders has 200 rows, 50% fewer than the median 400 of the previous 2 backups (threshold 20%)'
    expect(shrunk.warnings).toContain(expected)
    expect(shrunk.anomalies).toEqual([
      expect.objectContaining({
        kind: 'row-drop',
        table: 'public.orders',
        rows: 200,
        median: 400,
        drop: 0.5,
      }),
    ])

    const run = await runJobProcess('monitor', ['--json'], { ...env, ...alertEnv({ slack }) })
    expect(run.code, run.stderr).toBe(0)
    expect(run.json).toMatchObject({ ok: true, job: 'monitor', baseline: 2, warnings: [expected] })
    expect(run.stderr).toContain(`warning: ${expected}`)
    // The alert path sees a warning, not a success.
    await slack.waitFor(1)
    const message = JSON.stringify(slack.requests.at(-1)!.json)
    expect(message).toContain('succeeded with warnings')
    expect(message).toContain('public.orders has 200 rows')
  })

  it('a table that disappears is named with its last row count', async () => {
    await sql(db.url, 'DROP TABLE users')
    const dropped = await backup()
    expect(dropped.warnings.join('\n')).toMatch(
      /table public\.users is missing from backup-\S+; backup-\S+ had it with 40 rows/,
    )
    const run = await runJobProcess('monitor', ['--json'], env)
    expect(run.code).toBe(0)
    expect((run.json!.anomalies as { kind: string; table?: string }[]).map((a) => a.kind)).toContain(
      'table-missing',
    )
  })

  it('ANOMALY_ROW_DROP raises the threshold', async () => {
    const run = await runJobProcess('monitor', ['--json'], {
      ...env,
      ANOMALY_ROW_DROP: '0.9',
      ANOMALY_SIZE_CHANGE: '10',
    })
    expect(run.code).toBe(0)
    expect((run.json!.anomalies as { kind: string }[]).map((a) => a.kind)).toEqual(['table-missing'])
  })
})

describe('freshness', () => {
  it('fails when the newest backup is older than the RPO plus grace, and passes within it', async () => {
    const stale = await runJobProcess('monitor', ['--json'], { ...env, LIFEBOAT_NOW: later(25.5) })
    expect(stale.code).toBe(1)
    expect(stale.json).toMatchObject({ ok: false, error: { code: 'MONITOR_FAILED' } })
    const message = (stale.json!.error as { message: string }).message
    expect(message).toMatch(
      new RegExp(
        `^the newest complete backup ${ids.at(-1)} is 25\\.\\d h old, more than the RPO of 24 h \\+ 60 min grace$`,
      ),
    )

    const within = await runJobProcess('monitor', [], { ...env, LIFEBOAT_NOW: later(24.5) })
    expect(within.code, within.stderr).toBe(0)
    const longer = await runJobProcess('monitor', ['--rpo-hours', '48'], {
      ...env,
      LIFEBOAT_NOW: later(25.5),
    })
    expect(longer.code, longer.stderr).toBe(0)
  })

  it('fails a store that holds no complete backup, and refuses a bad setting with exit 2', async () => {
    const empty = { ...env, BACKUP_STORE: mkdtempSync(join(resolve('.tmp'), 'monitor-empty-')) }
    const none = await runJobProcess('monitor', [], empty)
    expect(none.code).toBe(1)
    expect(none.stderr).toContain('error MONITOR_FAILED: the store holds no complete backup')
    const bad = await runJobProcess('monitor', [], { ...env, RPO_HOURS: 'daily' })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('RPO_HOURS')
  })

  it('passes over a backup whose stored archive is not the size its sidecar records, and says why', async () => {
    const folder = () => mkdtempSync(join(resolve('.tmp'), 'monitor-short-'))
    const made = { ...env, BACKUP_STORE: folder() }
    const real = await runJobProcess('backup', ['--json'], { DATABASE_URL: db.url, ...made })
    expect(real.code, real.stderr).toBe(0)
    const template = await readTemplate(
      openStore({ url: `file://${made.BACKUP_STORE}` }),
      String(real.json!.id),
    )
    const store = openStore({ url: `file://${folder()}` })
    const hour = 3_600_000
    const good = await plantBackup(store, template, new Date(Date.now() - 26 * hour))
    const short = await plantBackup(store, template, new Date(Date.now() - 1 * hour))
    const shortened = template.archive.subarray(0, template.archive.length - 100)
    await store.put(archiveKey(short, false), shortened)

    const run = await runJobProcess('monitor', [], { ...env, BACKUP_STORE: store.location })
    expect(run.code).toBe(1)
    const why = `${short} is not counted: its archive has ${shortened.length} bytes, the sidecar records ${template.archive.length}`
    expect(run.stderr).toMatch(
      new RegExp(
        `error MONITOR_FAILED: the newest complete backup ${good} is 26\\.\\d h old, more than .*; ${why}`,
      ),
    )
  })
})
