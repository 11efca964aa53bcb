// No silent loss (issue 14, Must show 1): two backups started in the same second both
// land, each restorable; a backup made under a clock a year ahead never becomes `latest`
// and monitor fails on it; 7 empty backups cannot push 5 real ones out of the floor, and
// a selection that matches nothing is an error that writes nothing.
import { readdirSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { openStore } from '../../lib/adapters/store/open-store.ts'
import type { Store } from '../../lib/adapters/store/store.ts'
import { BACKUPS_PREFIX, backupIdFor } from '../../lib/archive/layout.ts'
import type { Manifest } from '../../lib/archive/manifest.ts'
import { readStoreConfig, SettingsReader } from '../../lib/core/config.ts'
import { readSidecar } from '../../lib/inventory/read-inventory.ts'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'
import { plantBackup } from '../helpers/plant-backup.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { s3Env } from '../helpers/s3-server.ts'
import { backupOf, folderStore, restore, restoreDeps, tempFolder } from './restore-fixtures.ts'

const DAY = 86_400_000
let source: { name: string; url: string }
const targets: string[] = []

beforeAll(async () => {
  source = await createDatabase('silent_src')
  await sql(
    source.url,
    `CREATE TABLE public.orders (id bigint PRIMARY KEY, note text NOT NULL);
     INSERT INTO public.orders SELECT g, 'order ' || g FROM generate_series(1, 500) g;`,
  )
})
afterAll(async () => {
  await Promise.all([source.name, ...targets].map(dropDatabase))
})

async function freshTarget(): Promise<string> {
  const target = await createDatabase('silent_target')
  targets.push(target.name)
  return target.url
}

function s3Store(prefix: string): { store: Store; env: Record<string, string> } {
  const env = s3Env(inject('s3Endpoint'), `${prefix}-${process.pid}-${Date.now()}`)
  const reader = new SettingsReader(env)
  const config = readStoreConfig(reader)
  reader.finish()
  return { store: openStore(config!), env }
}

describe('two backups started in the same second', () => {
  for (const [kind, make] of [
    ['the S3 API server', () => s3Store('together').store],
    ['a folder', () => folderStore()],
  ] as const) {
    it(`both land on ${kind} under distinct ids, each restorable`, async () => {
      const store = make()
      const now = new Date(Math.floor(Date.now() / 1000) * 1000)
      const [a, b] = await Promise.all([
        backupOf(source.url, store, { now }),
        backupOf(source.url, store, { now }),
      ])
      expect(a.id).not.toBe(b.id)
      expect([a.id, b.id].sort()).toEqual([backupIdFor(now), backupIdFor(new Date(now.getTime() + 1000))])
      for (const id of [a.id, b.id]) {
        const target = await freshTarget()
        const restored = await restore(restoreDeps(store), id, target, { createSchema: true })
        expect(restored.id).toBe(id)
        expect((await sql(target, 'SELECT count(*)::int AS n FROM public.orders')).rows[0].n).toBe(500)
      }
    })
  }
})

describe('a backup made under a clock a year ahead', () => {
  it('is flagged by list, never latest for restore, fails monitor, and holds no place in the floor', async () => {
    const store = folderStore()
    const env = {
      BACKUP_STORE: `file://${store.location}`,
      LIFEBOAT_STATE_FILE: `${tempFolder('state')}/s.json`,
    }
    const real = await backupOf(source.url, store)
    const ahead = await backupOf(source.url, store, { now: new Date(Date.now() + 365 * DAY) })

    const list = await runJobProcess('list', ['--json'], env)
    expect(list.code, list.stderr).toBe(0)
    const listed = list.json!.backups as { id: string; flags: string[] }[]
    expect(listed.map((b) => [b.id, b.flags])).toEqual([
      [ahead.id, ['clock-ahead']],
      [real.id, []],
    ])
    expect((list.json!.warnings as string[]).join()).toContain(`${ahead.id} is dated`)

    const restored = await restore(restoreDeps(store), 'latest', await freshTarget(), { createSchema: true })
    expect(restored.id).toBe(real.id)

    const monitor = await runJobProcess('monitor', [], env)
    expect(monitor.code).toBe(1)
    expect(monitor.stderr).toMatch(/error MONITOR_FAILED: .*dated ahead of the store's clock/)
    expect(monitor.stderr).toContain(ahead.id)

    const clean = await runJobProcess('clean', ['--min-keep', '1', '--dry-run', '--json'], env)
    expect(clean.code, clean.stderr).toBe(0)
    const keep = (clean.json!.plan as { keep: { id: string; reasons: string[]; notGood?: string[] }[] }).keep
    expect(keep.find((k) => k.id === real.id)!.reasons).toContain('floor')
    expect(keep.find((k) => k.id === ahead.id)).toMatchObject({
      reasons: ['within-age'],
      notGood: ["dated ahead of the store's clock"],
    })
  })
})

describe('7 empty backups and 5 real ones 31 to 35 days old', () => {
  it('-t nosuchtable exits 1 and writes nothing', async () => {
    const store = tempFolder('empty-selection')
    const run = await runJobProcess('backup', ['-t', 'nosuchtable'], {
      DATABASE_URL: source.url,
      BACKUP_STORE: store,
      LIFEBOAT_STATE_FILE: `${tempFolder('state')}/s.json`,
    })
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(
      /error SELECTION_EMPTY: no table in database \S+ matched the selection \(-t nosuchtable\)/,
    )
    expect(readdirSync(store).filter((name) => name === 'database-backups')).toEqual([])
  })

  it('clean keeps every real one (the floor) and says why the empty ones do not count', async () => {
    const { store, env } = s3Store('empties')
    const template = await backupOf(source.url, store)
    const sidecar = await readSidecar(store, template.id)
    const archive = await readAll(store, sidecar.archive!.key)
    await store.delete((await store.list(BACKUPS_PREFIX)).map((o) => o.key))
    const real: string[] = []
    for (let days = 31; days <= 35; days++) real.push(await plant(store, archive, sidecar, days, false))
    const empty: string[] = []
    for (let days = 1; days <= 7; days++) empty.push(await plant(store, archive, sidecar, days, true))

    const monitor = await runJobProcess('monitor', [], {
      ...env,
      LIFEBOAT_STATE_FILE: `${tempFolder('s')}/s.json`,
    })
    expect(monitor.code).toBe(1)
    expect(monitor.stderr).toMatch(
      /error MONITOR_FAILED: the newest complete backup backup-\S+ is 3\d\.\d days old/,
    )

    const run = await runJobProcess('clean', ['--json'], {
      ...env,
      LIFEBOAT_STATE_FILE: `${tempFolder('s')}/s.json`,
    })
    expect(run.code, run.stderr).toBe(0)
    expect(run.json!.deleted).toEqual([])
    const keep = (run.json!.plan as { keep: { id: string; reasons: string[]; notGood?: string[] }[] }).keep
    for (const id of real) expect(keep.find((k) => k.id === id)!.reasons).toEqual(['floor'])
    for (const id of empty) {
      expect(keep.find((k) => k.id === id)).toMatchObject({
        reasons: ['within-age'],
        notGood: ['empty: it holds no table'],
      })
    }
    const text = await runJobProcess('clean', ['--dry-run'], {
      ...env,
      LIFEBOAT_STATE_FILE: `${tempFolder('s')}/s.json`,
    })
    expect(text.stdout).toContain(`keep    ${empty[0]}`)
    expect(text.stdout).toMatch(/\(within-age; not good: empty: it holds no table\)/)
  })
})

async function readAll(store: Store, key: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of await store.get(key)) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks)
}

/** A copy of a real backup as if made `days` ago; `empty` rewrites its sidecar as holding no table. */
async function plant(store: Store, archive: Buffer, template: Manifest, days: number, empty: boolean) {
  const emptied = (sidecar: Manifest): Manifest => ({
    ...sidecar,
    tables: [],
    restoreOrder: [],
    sequences: [],
    totals: { tables: 0, rows: 0, bytes: 0 },
  })
  return plantBackup(store, { archive, sidecar: template }, new Date(Date.now() - days * DAY), {
    ...(empty ? { edit: emptied } : {}),
  })
}
