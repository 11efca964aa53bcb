// The backup job against a real PostgreSQL server, a folder and a real S3 API.
import { mkdtempSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { openStore } from '../../lib/adapters/store/open-store.ts'
import { sidecarKey } from '../../lib/archive/layout.ts'
import { parseManifest } from '../../lib/archive/manifest.ts'
import { readStoreConfig, SettingsReader } from '../../lib/core/config.ts'
import { createSampleData } from '../../lib/demo/sample-data.ts'
import { listInventory, readSidecar } from '../../lib/inventory/read-inventory.ts'
import { extractWithTar, readNdjson, sha256sumCheck } from '../helpers/archive.ts'
import { createDatabase, dropDatabase, withClient } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { s3Env } from '../helpers/s3-server.ts'

let source: { name: string; url: string }

beforeAll(async () => {
  source = await createDatabase('backup_src')
  await withClient(source.url, (client) => createSampleData(client, { metricsRows: 5_000 }))
})
afterAll(async () => dropDatabase(source.name))

function folderStore(): string {
  return mkdtempSync(join(resolve('.tmp'), 'store-'))
}

describe('backup into a folder', () => {
  it('writes an archive that tar extracts and sha256sum -c accepts, then its sidecar', async () => {
    const folder = folderStore()
    const run = await runJobProcess('backup', ['--json'], {
      DATABASE_URL: source.url,
      BACKUP_STORE: `file://${folder}`,
    })
    expect(run.code, run.stderr).toBe(0)
    const id = run.json!.id as string
    expect(id).toMatch(/^backup-\d{4}-\d{2}-\d{2}T\d{6}Z$/)

    const root = extractWithTar(join(folder, 'database-backups', `${id}.tar.gz`))
    expect(root.endsWith(id)).toBe(true)
    expect(sha256sumCheck(root)).toContain('data/public.metrics.ndjson: OK')
    const sidecar = parseManifest(await readFile(join(folder, sidecarKey(id)), 'utf8'), 'sidecar')
    const inside = parseManifest(await readFile(join(root, 'manifest.json'), 'utf8'), 'manifest')
    expect(sidecar.tables).toEqual(inside.tables)
    expect(sidecar.archive?.bytes).toBe(run.json!.archiveBytes)
    expect(inside.tables.find((t) => t.name === 'metrics')?.rows).toBe(5_000)
  })

  it('writes each row as JSON with every value as its PostgreSQL text output', async () => {
    const folder = folderStore()
    const run = await runJobProcess('backup', ['--json', '-t', 'public.buildings'], {
      DATABASE_URL: source.url,
      BACKUP_STORE: folder,
    })
    expect(run.code, run.stderr).toBe(0)
    const root = extractWithTar(join(folder, 'database-backups', `${run.json!.id}.tar.gz`))
    const [first] = readNdjson(root, 'data/public.buildings.ndjson')
    expect(first).toMatchObject({ id: '1', organization_id: '2', name: 'Building 1' })
    expect(first!.location).toBe('(13.41,52.51)')
    expect(Object.values(first!).every((v) => v === null || typeof v === 'string')).toBe(true)
  })

  it('includes auth but leaves out Supabase-managed schemas by default', async () => {
    await withClient(source.url, async (client) => {
      await client.query(
        'CREATE SCHEMA IF NOT EXISTS realtime; CREATE TABLE IF NOT EXISTS realtime.messages (id int)',
      )
    })
    const folder = folderStore()
    const run = await runJobProcess('backup', ['--json'], { DATABASE_URL: source.url, BACKUP_STORE: folder })
    expect(run.code, run.stderr).toBe(0)
    const manifest = await readSidecar(openStore({ url: `file://${folder}` }), run.json!.id as string)
    const names = manifest.tables.map((t) => `${t.schema}.${t.name}`)
    expect(names).toContain('auth.users')
    expect(names).not.toContain('realtime.messages')
  })

  it('lists tables in restore order, referenced tables first', async () => {
    const folder = folderStore()
    const run = await runJobProcess('backup', ['--json'], { DATABASE_URL: source.url, BACKUP_STORE: folder })
    const manifest = await readSidecar(openStore({ url: `file://${folder}` }), run.json!.id as string)
    const order = manifest.restoreOrder
    expect(order.indexOf('public.organizations')).toBeLessThan(order.indexOf('public.buildings'))
    expect(order.indexOf('public.buildings')).toBeLessThan(order.indexOf('public.devices'))
    expect(order.indexOf('public.devices')).toBeLessThan(order.indexOf('public.metrics'))
    expect(manifest.tables.map((t) => `${t.schema}.${t.name}`)).toEqual(order)
  })

  it('honours -n, -N, -t and -T as pg_dump does', async () => {
    const folder = folderStore()
    const store = openStore({ url: `file://${folder}` })
    const tablesOf = async (args: string[]) => {
      const run = await runJobProcess('backup', ['--json', ...args], {
        DATABASE_URL: source.url,
        BACKUP_STORE: folder,
      })
      expect(run.code, run.stderr).toBe(0)
      return (await readSidecar(store, run.json!.id as string)).tables.map((t) => `${t.schema}.${t.name}`)
    }
    expect(await tablesOf(['-n', 'auth'])).toEqual(['auth.users'])
    expect(await tablesOf(['-N', 'auth'])).not.toContain('auth.users')
    expect(await tablesOf(['-t', 'public.parts', '-t', 'suppliers'])).toEqual([
      'public.suppliers',
      'public.parts',
    ])
    expect(await tablesOf(['-n', 'public', '-T', 'public.metrics', '-T', 'net*'])).not.toEqual(
      expect.arrayContaining(['public.metrics', 'public.network_insights']),
    )
  })
})

describe('backup into the S3 API', () => {
  it('uploads the archive and then the sidecar, which reads back', async () => {
    const env = { DATABASE_URL: source.url, ...s3Env(inject('s3Endpoint'), 'backup-test') }
    const run = await runJobProcess('backup', ['--json', '--jobs', '2'], env)
    expect(run.code, run.stderr).toBe(0)
    const reader = new SettingsReader(env)
    const store = openStore(readStoreConfig(reader)!)
    const [newest] = await listInventory(store)
    expect(newest).toMatchObject({ id: run.json!.id, complete: true })
    expect(newest!.archive!.size).toBe(run.json!.archiveBytes)
    const manifest = await readSidecar(store, newest!.id)
    expect(manifest.totals.rows).toBe(run.json!.rows)
    expect(manifest.source).toMatchObject({ kind: 'postgres', consistent: true })
    expect(JSON.stringify(manifest)).not.toContain(new URL(source.url).password)
  })
})
