// Restore through the engine against the real server: round trips, target safety,
// schema checks, subsets, triggers. Failure injection lives in restore-failures.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FileStore } from '../../lib/adapters/store/file-store.ts'
import type { BackupResult } from '../../lib/backup/postgres-source.ts'
import type { LifeboatError } from '../../lib/core/errors.ts'
import { Secret } from '../../lib/core/secret.ts'
import { createSampleData, SAMPLE_SCHEMA_SQL } from '../../lib/demo/sample-data.ts'
import { createDatabase, dropDatabase, sql, withClient } from '../helpers/database.ts'
import { backupOf, dataOnly, fingerprint, folderStore, restore, restoreDeps } from './restore-fixtures.ts'

let source: { name: string; url: string }
let store: FileStore
let backup: BackupResult
const created: string[] = []

async function emptyDatabase(label: string, schema = false): Promise<string> {
  const db = await createDatabase(label)
  created.push(db.name)
  if (schema) await sql(db.url, SAMPLE_SCHEMA_SQL)
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

beforeAll(async () => {
  source = await createDatabase('restore_src')
  await withClient(source.url, (client) => createSampleData(client, { metricsRows: 3_000 }))
  store = folderStore()
  backup = await backupOf(source.url, store)
})
afterAll(async () => {
  await Promise.all([source.name, ...created].map(dropDatabase))
})

describe('round trip', () => {
  it('restores the demo data into an empty database (--create-schema), identical by re-export', async () => {
    const target = await emptyDatabase('restore_new')
    const result = await restore(restoreDeps(store), 'latest', target, { createSchema: true })
    expect(result.id).toBe(backup.id)
    expect(result.schemaCreated).toBe(true)
    expect(result.tables.length).toBe(backup.manifest.tables.length)
    expect(result.tables.every((t) => t.sha256Match && t.rowsRestored === t.rowsExpected)).toBe(true)
    expect(result.rows).toBe(backup.manifest.totals.rows)
    expect(result.triggerMode).toBe('replica')
    expect(dataOnly(await fingerprint(target))).toEqual(dataOnly(await fingerprint(source.url)))
    // Sequences (identity, serial) continue after the restored ids.
    await withClient(target, async (client) => {
      const org = await client.query(
        `INSERT INTO public.organizations (name, slug) VALUES ('New', 'new') RETURNING id`,
      )
      expect(Number(org.rows[0].id)).toBe(21)
      await client.query(`INSERT INTO public.permissions (role, resource, action) VALUES ('x', 'y', 'z')`)
      const metric = await client.query(
        `INSERT INTO public.metrics (device_id, recorded_at) SELECT id, now() FROM public.devices LIMIT 1 RETURNING id`,
      )
      expect(Number(metric.rows[0].id)).toBe(3_001)
    })
  })

  it('restores into an existing empty schema, and the sequences match the source', async () => {
    const target = await emptyDatabase('restore_existing', true)
    const result = await restore(restoreDeps(store), backup.id, target)
    expect(result.schemaCreated).toBe(false)
    const [after, original] = [await fingerprint(target), await fingerprint(source.url)]
    expect(after).toEqual(original)
  })

  it('reads a local archive path in place (no temporary disk)', async () => {
    const target = await emptyDatabase('restore_file', true)
    const result = await restore(restoreDeps(), store.locate(backup.key), target)
    expect(result.tempBytes).toBe(0)
    expect(result.id).toBe(backup.id)
  })

  it('downloads a stored archive once: temporary disk is its stored size', async () => {
    const target = await emptyDatabase('restore_temp', true)
    const result = await restore(restoreDeps(store), 'latest', target)
    expect(result.tempBytes).toBe(backup.archiveBytes)
    expect(result.archiveBytes).toBe(backup.archiveBytes)
  })
})

describe('target safety', () => {
  it('refuses the database the backup came from without --confirm, and a wrong name', async () => {
    const before = await fingerprint(source.url)
    const error = await failure(restore(restoreDeps(store), 'latest', source.url, { truncate: true }))
    expect(error.code).toBe('TARGET_PROTECTED')
    expect(error.message).toContain('taken from')
    const wrong = await failure(
      restore(restoreDeps(store), 'latest', source.url, { truncate: true, confirm: 'prod' }),
    )
    expect(wrong.code).toBe('TARGET_PROTECTED')
    expect(await fingerprint(source.url)).toEqual(before)
  })

  it('restores into the source with --confirm <database name> and --truncate', async () => {
    const db = await createDatabase('restore_confirm')
    created.push(db.name)
    await withClient(db.url, (client) => createSampleData(client, { metricsRows: 100 }))
    const local = folderStore()
    const own = await backupOf(db.url, local)
    await sql(db.url, `DELETE FROM public.metrics WHERE id > 50`)
    const result = await restore(restoreDeps(local), own.id, db.url, { truncate: true, confirm: db.name })
    expect(result.truncated).toBe(true)
    expect((await sql(db.url, 'SELECT count(*)::int AS n FROM public.metrics')).rows[0].n).toBe(100)
  })

  it('refuses a database named by DATABASE_URL or marked lifeboat.environment = production', async () => {
    const target = await emptyDatabase('restore_marked', true)
    const viaEnv = await failure(
      restore(restoreDeps(store), 'latest', target, {
        production: [{ setting: 'DATABASE_URL', url: new Secret(target) }],
      }),
    )
    expect(viaEnv.code).toBe('TARGET_PROTECTED')
    expect(viaEnv.message).toContain('DATABASE_URL')
    const name = new URL(target).pathname.slice(1)
    await sql(target, `ALTER DATABASE "${name}" SET lifeboat.environment = 'production'`)
    const marked = await failure(restore(restoreDeps(store), 'latest', target))
    expect(marked.code).toBe('TARGET_PROTECTED')
    expect(marked.message).toContain("lifeboat.environment = 'production'")
    const confirmed = await restore(restoreDeps(store), 'latest', target, { confirm: name })
    expect(confirmed.tables.length).toBeGreaterThan(0)
  })

  it('refuses tables that already hold rows unless --truncate, and then replaces them', async () => {
    const target = await emptyDatabase('restore_filled', true)
    await sql(target, `INSERT INTO public.suppliers (name, country) VALUES ('Stale', 'XX')`)
    const before = await fingerprint(target)
    const error = await failure(restore(restoreDeps(store), 'latest', target))
    expect(error.code).toBe('TARGET_NOT_EMPTY')
    expect(error.details).toEqual(['public.suppliers'])
    expect(await fingerprint(target)).toEqual(before)
    await restore(restoreDeps(store), 'latest', target, { truncate: true })
    expect(dataOnly(await fingerprint(target))).toEqual(dataOnly(await fingerprint(source.url)))
  })

  it('refuses --create-schema when the tables exist already', async () => {
    const target = await emptyDatabase('restore_exists', true)
    const error = await failure(restore(restoreDeps(store), 'latest', target, { createSchema: true }))
    expect(error.code).toBe('TARGET_NOT_EMPTY')
    expect(error.message).toContain('--create-schema')
  })
})

describe('schema check before writing', () => {
  it('lists every mismatch at once and writes nothing', async () => {
    const target = await emptyDatabase('restore_mismatch', true)
    await sql(
      target,
      `ALTER TABLE public.devices DROP COLUMN firmware;
       ALTER TABLE public.parts ALTER COLUMN weight_kg TYPE text;
       ALTER TABLE public.suppliers ADD COLUMN rating int NOT NULL;
       DROP TABLE public.network_insights;
       ALTER TABLE public.buildings ALTER COLUMN name TYPE varchar(500);`,
    )
    const before = await fingerprint(target)
    const error = await failure(restore(restoreDeps(store), 'latest', target))
    expect(error.code).toBe('SCHEMA_MISMATCH')
    expect(error.details).toEqual(
      expect.arrayContaining([
        'public.devices.firmware: column missing from the target (archive type jsonb)',
        'public.parts.weight_kg: type numeric in the archive, text in the target',
        'public.suppliers.rating: NOT NULL without a default in the target, absent from the archive',
        'public.network_insights: table missing from the target',
        'public.network_insights_id_seq: sequence missing from the target',
        'public.buildings.name: type text in the archive, character varying(500) in the target',
      ]),
    )
    expect(error.details).toHaveLength(6)
    expect(await fingerprint(target)).toEqual(before)
  })

  it('accepts widened types (bigint for integer) and extra nullable columns', async () => {
    const target = await emptyDatabase('restore_widened', true)
    await sql(
      target,
      `ALTER TABLE public.suppliers ADD COLUMN notes text;
       ALTER TABLE public.purchase_orders ALTER COLUMN quantity TYPE bigint;`,
    )
    const result = await restore(restoreDeps(store), 'latest', target)
    expect(result.tables.every((t) => t.sha256Match)).toBe(true)
  })
})

describe('subsets', () => {
  it('reports missing foreign-key parents before loading', async () => {
    const target = await emptyDatabase('restore_subset', true)
    const before = await fingerprint(target)
    const error = await failure(
      restore(restoreDeps(store), 'latest', target, {
        selection: { schemas: [], excludeSchemas: [], tables: ['public.buildings'], excludeTables: [] },
      }),
    )
    expect(error.code).toBe('USAGE')
    expect(error.message).toContain('public.buildings references public.organizations')
    expect(await fingerprint(target)).toEqual(before)
  })

  it('restores -t tables whose parents are restored too or present in the target', async () => {
    const target = await emptyDatabase('restore_subset_ok', true)
    const pick = (tables: string[]) => ({
      selection: { schemas: [], excludeSchemas: [], tables, excludeTables: [] },
    })
    const first = await restore(restoreDeps(store), 'latest', target, pick(['organizations', 'buildings']))
    expect(first.tables.map((t) => t.table)).toEqual(['public.organizations', 'public.buildings'])
    const second = await restore(restoreDeps(store), 'latest', target, pick(['public.network_insights']))
    expect(second.tables.map((t) => t.table)).toEqual(['public.network_insights'])
    const counts = await sql(
      target,
      `SELECT (SELECT count(*) FROM public.network_insights)::int AS n, (SELECT count(*) FROM public.devices)::int AS d`,
    )
    expect(counts.rows[0]).toEqual({ n: 5_000, d: 0 })
    // Only the restored tables' sequences were set.
    const next = await sql(target, `SELECT nextval('public.network_insights_id_seq')::int AS n`)
    expect(next.rows[0].n).toBe(5_001)
  })

  it('restores a schema with -n', async () => {
    const target = await emptyDatabase('restore_schema', true)
    const result = await restore(restoreDeps(store), 'latest', target, {
      selection: { schemas: ['auth'], excludeSchemas: [], tables: [], excludeTables: [] },
    })
    expect(result.tables.map((t) => t.table)).toEqual(['auth.users'])
  })
})

describe('triggers', () => {
  it('keeps user triggers from rewriting restored rows, and leaves them switched on', async () => {
    const target = await emptyDatabase('restore_triggers', true)
    await sql(
      target,
      `CREATE TABLE public.audit (at timestamptz DEFAULT now(), what text);
       CREATE FUNCTION public.stamp() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN NEW.created_at := now(); INSERT INTO public.audit (what) VALUES (TG_TABLE_NAME); RETURN NEW; END $$;
       CREATE TRIGGER stamp BEFORE INSERT ON public.organizations FOR EACH ROW EXECUTE FUNCTION public.stamp();
       CREATE TRIGGER stamp_always BEFORE INSERT ON public.conversations FOR EACH ROW EXECUTE FUNCTION public.stamp();
       ALTER TABLE public.conversations ENABLE ALWAYS TRIGGER stamp_always;`,
    )
    const before = await fingerprint(target)
    await restore(restoreDeps(store), 'latest', target)
    const after = await fingerprint(target)
    expect(dataOnly(after)).toEqual({
      ...dataOnly(await fingerprint(source.url)),
      'table public.audit': '0 null',
    })
    expect(after['trigger public.organizations.stamp']).toBe('O')
    expect(after['trigger public.conversations.stamp_always']).toBe('A')
    expect(before['trigger public.conversations.stamp_always']).toBe('A')
    // The triggers work again afterwards.
    await sql(target, `INSERT INTO public.organizations (name, slug) VALUES ('After', 'after')`)
    expect((await sql(target, 'SELECT count(*)::int AS n FROM public.audit')).rows[0].n).toBe(1)
  })
})
