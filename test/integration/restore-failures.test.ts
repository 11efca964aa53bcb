// Restore failures: whatever breaks, and whenever, the target is exactly as before.
// Damaged archives are refused in pass 1 naming the file; failures during the load
// (constraint, dangling foreign key, lost connection) roll the transaction back.
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { gunzipSync, gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../../lib/adapters/postgres/connection.ts'
import { loadTable } from '../../lib/adapters/postgres/load-table.ts'
import type { FileStore } from '../../lib/adapters/store/file-store.ts'
import type { BackupResult } from '../../lib/backup/postgres-source.ts'
import type { LifeboatError } from '../../lib/core/errors.ts'
import type { ProgressEvent } from '../../lib/core/events.ts'
import { Secret } from '../../lib/core/secret.ts'
import { createSampleData, SAMPLE_SCHEMA_SQL } from '../../lib/demo/sample-data.ts'
import { createDatabase, dropDatabase, sql, withClient } from '../helpers/database.ts'
import { backupOf, fingerprint, folderStore, restore, restoreDeps, tempFolder } from './restore-fixtures.ts'

let source: { name: string; url: string }
let store: FileStore
let backup: BackupResult
const created: string[] = []

/** A target with the sample schema and some rows of its own, so "unchanged" means something. */
async function occupiedTarget(label: string): Promise<string> {
  const db = await createDatabase(label)
  created.push(db.name)
  await sql(db.url, SAMPLE_SCHEMA_SQL)
  await sql(
    db.url,
    `INSERT INTO public.organizations (name, slug) VALUES ('Keep me', 'keep');
     INSERT INTO public.suppliers (name, country) VALUES ('Old supplier', 'DE');
     INSERT INTO public.buildings (organization_id, name) VALUES (1, 'Old building');`,
  )
  return db.url
}

async function failure(promise: Promise<unknown>): Promise<LifeboatError> {
  try {
    await promise
  } catch (error) {
    return error as LifeboatError
  }
  throw new Error('expected the restore to fail')
}

/** Rewrites a copy of the archive with one byte of `marker`'s first occurrence changed. */
function flipByteAfter(archive: string, marker: string): string {
  const tar = gunzipSync(readFileSync(archive))
  const at = tar.indexOf(marker)
  expect(at).toBeGreaterThan(0)
  const position = at + marker.length
  // A digit for another digit keeps the line valid JSON: only the checksum can tell.
  tar[position] = tar[position] === 0x31 ? 0x32 : 0x31
  const out = join(tempFolder('flipped'), archive.split('/').at(-1)!)
  writeFileSync(out, gzipSync(tar))
  return out
}

beforeAll(async () => {
  source = await createDatabase('restore_fail_src')
  await withClient(source.url, (client) => createSampleData(client, { metricsRows: 20_000 }))
  store = folderStore()
  backup = await backupOf(source.url, store)
})
afterAll(async () => {
  await Promise.all([source.name, ...created].map(dropDatabase))
})

describe('a damaged archive is refused before anything is written', () => {
  it('a byte flipped inside one data file (local archive): VERIFY_FAILED naming the file', async () => {
    const target = await occupiedTarget('restore_flip')
    const before = await fingerprint(target)
    const flipped = flipByteAfter(store.locate(backup.key), '"title":"Maintenance thread #')
    const error = await failure(restore(restoreDeps(), flipped, target, { truncate: true }))
    expect(error.code).toBe('VERIFY_FAILED')
    expect(error.message).toContain('data/public.conversations.ndjson')
    expect(error.details).toContain('data/public.conversations.ndjson: sha256 does not match the manifest')
    expect(await fingerprint(target)).toEqual(before)
  })

  it('a byte flipped in a stored archive: named as soon as it is read (sidecar), rolled back', async () => {
    const damaged = folderStore()
    const copy = await backupOf(source.url, damaged)
    const flipped = flipByteAfter(damaged.locate(copy.key), '"title":"Maintenance thread #')
    writeFileSync(damaged.locate(copy.key), readFileSync(flipped))
    const target = await occupiedTarget('restore_flip_store')
    const before = await fingerprint(target)
    const error = await failure(restore(restoreDeps(damaged), 'latest', target, { truncate: true }))
    expect(error.code).toBe('VERIFY_FAILED')
    expect(error.message).toContain('failing: data/public.conversations.ndjson')
    expect(await fingerprint(target)).toEqual(before)
  })

  it('an archive cut short: VERIFY_FAILED naming the file it broke in', async () => {
    const target = await occupiedTarget('restore_cut')
    const before = await fingerprint(target)
    const whole = readFileSync(store.locate(backup.key))
    const cut = join(tempFolder('cut'), `${backup.id}.tar.gz`)
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6)))
    const error = await failure(restore(restoreDeps(), cut, target, { truncate: true }))
    expect(error.code).toBe('VERIFY_FAILED')
    expect(error.message).toMatch(/truncated/)
    expect(error.message).toMatch(/failing: data\/[a-z_.]+\.ndjson/)
    expect(await fingerprint(target)).toEqual(before)
  })

  it('a file that is not an archive', async () => {
    const target = await occupiedTarget('restore_garbage')
    const garbage = join(tempFolder('garbage'), 'backup.tar.gz')
    writeFileSync(garbage, 'not a backup\n')
    const error = await failure(restore(restoreDeps(), garbage, target, { truncate: true }))
    expect(error.code).toBe('VERIFY_FAILED')
  })
})

describe('a failure during the load rolls everything back', () => {
  it('a row that violates a constraint added to the target: RESTORE_FAILED naming the table', async () => {
    const target = await occupiedTarget('restore_violation')
    // network_insights loads late: earlier tables are already in when this one fails.
    await sql(
      target,
      `ALTER TABLE public.network_insights ADD CONSTRAINT fast CHECK (latency_ms < interval '150 ms')`,
    )
    const before = await fingerprint(target)
    const events: ProgressEvent[] = []
    const error = await failure(restore(restoreDeps(store, events), 'latest', target, { truncate: true }))
    expect(error.code).toBe('RESTORE_FAILED')
    expect(error.message).toContain('loading public.network_insights')
    expect(error.message).toContain('"fast"')
    expect(events.filter((e) => e.type === 'table-done').length).toBeGreaterThan(5)
    expect(await fingerprint(target)).toEqual(before)
  })

  it('rows whose foreign-key parent is missing (triggers were off): found by the anti-join, rolled back', async () => {
    const db = await createDatabase('restore_dangling')
    created.push(db.name)
    const target = db.url
    await sql(
      target,
      `${SAMPLE_SCHEMA_SQL}; INSERT INTO public.organizations (name, slug) VALUES ('Only one', 'one')`,
    )
    const before = await fingerprint(target)
    const error = await failure(
      restore(restoreDeps(store), 'latest', target, {
        selection: { schemas: [], excludeSchemas: [], tables: ['public.buildings'], excludeTables: [] },
      }),
    )
    expect(error.code).toBe('RESTORE_FAILED')
    expect(error.message).toContain('buildings_organization_id_fkey')
    expect(error.details[0]).toMatch(/^public\.buildings: \d+ rows violate buildings_organization_id_fkey/)
    expect(await fingerprint(target)).toEqual(before)
  })

  it('a connection lost in the middle of the load: the server rolls back', async () => {
    const target = await occupiedTarget('restore_killed')
    const before = await fingerprint(target)
    const events: ProgressEvent[] = []
    let killed = false
    const deps = restoreDeps(store, events)
    const emit = deps.emit
    deps.emit = (event) => {
      emit(event)
      if (!killed && event.type === 'table-done') {
        killed = true
        // Synchronous on purpose: the restore cannot go on until its backend is gone.
        const script = `const pg = require('pg'); const c = new pg.Client(process.argv[1]);
          c.connect().then(() => c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'lifeboat restore' AND datname = current_database()"))
           .then(() => c.end())`
        const result = spawnSync(process.execPath, ['-e', script, target], { encoding: 'utf8' })
        expect(result.status, result.stderr).toBe(0)
      }
    }
    const error = await failure(restore(deps, 'latest', target, { truncate: true }))
    expect(killed).toBe(true)
    expect(error.code).toBe('RESTORE_FAILED')
    expect(error.message).toContain('the server rolled the transaction back')
    expect(await fingerprint(target)).toEqual(before)
  })

  it('--truncate of a table other tables reference: refused by the server, naming them, rolled back', async () => {
    const target = await occupiedTarget('restore_truncate_fk')
    const before = await fingerprint(target)
    const error = await failure(
      restore(restoreDeps(store), 'latest', target, {
        truncate: true,
        selection: { schemas: [], excludeSchemas: [], tables: ['public.suppliers'], excludeTables: [] },
      }),
    )
    expect(error.code).toBe('RESTORE_FAILED')
    expect(error.message).toContain('Table "parts" references "suppliers"')
    expect(await fingerprint(target)).toEqual(before)
  })

  it('a data file that differs from its manifest entry at load time is refused (pass 2 re-hashes)', async () => {
    const target = await occupiedTarget('restore_changed')
    const client = await connect(new Secret(target))
    try {
      await client.query('BEGIN')
      const table = backup.manifest.tables.find((t) => t.name === 'suppliers')!
      const lines = `${JSON.stringify({ id: '99', name: 'Injected', country: 'XX' })}\n`
      const error = await failure(loadTable(client, table, Readable.from([Buffer.from(lines)])))
      expect(error.code).toBe('RESTORE_FAILED')
      expect(error.message).toContain('changed since it was verified')
      await client.query('ROLLBACK')
    } finally {
      await client.end()
    }
  })
})
