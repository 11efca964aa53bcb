// An API-only backup of the demo data, restored through the direct path and through the
// API, every table compared with the source. The API is a local server speaking the
// parts of PostgREST's and GoTrue's protocol Lifeboat uses (test/helpers/postgrest-server.ts,
// written from their documentation: no PostgREST binary can be installed here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decryptStream } from '../../lib/adapters/crypto/age.ts'
import { RestClient } from '../../lib/adapters/rest/client.ts'
import { createRetryingFetch } from '../../lib/adapters/rest/http.ts'
import { FileStore } from '../../lib/adapters/store/file-store.ts'
import { type RestBackupResult, runRestBackup } from '../../lib/backup/rest-source.ts'
import type { LifeboatError } from '../../lib/core/errors.ts'
import { Secret } from '../../lib/core/secret.ts'
import { selectEverything } from '../../lib/core/selection.ts'
import { createSampleData, SAMPLE_SCHEMA_SQL } from '../../lib/demo/sample-data.ts'
import { type RestRestoreOptions, runRestRestore } from '../../lib/restore/rest-target.ts'
import { createDatabase, dropDatabase, sql, withClient } from '../helpers/database.ts'
import { type PostgrestServer, startPostgrestServer } from '../helpers/postgrest-server.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { testSigningKey } from '../helpers/signing.ts'
import { restore, restoreDeps, tempFolder } from './restore-fixtures.ts'

let source: { name: string; url: string }
let api: PostgrestServer
let store: FileStore
let backup: RestBackupResult
const created: string[] = []
const servers: PostgrestServer[] = []

/** Demo tables by content, plus auth.users by the columns the admin API gives. */
async function contents(url: string): Promise<Record<string, string>> {
  return withClient(url, async (client) => {
    const out: Record<string, string> = {}
    const tables = await client.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1`,
    )
    for (const { name } of tables.rows) {
      const { rows } = await client.query<{ n: string; digest: string | null }>(
        `SELECT count(*)::text AS n, md5(string_agg(x::text, E'\\n' ORDER BY x::text COLLATE "C")) AS digest FROM public."${name}" x`,
      )
      out[`public.${name}`] = `${rows[0]!.n} ${rows[0]!.digest}`
    }
    const users = await client.query<{ n: string; digest: string }>(
      `SELECT count(*)::text AS n, md5(string_agg(id::text || ' ' || email || ' ' || raw_user_meta_data::text, E'\\n' ORDER BY id)) AS digest FROM auth.users`,
    )
    out['auth.users (id, email, metadata)'] = `${users.rows[0]!.n} ${users.rows[0]!.digest}`
    return out
  })
}

async function emptyTarget(label: string): Promise<{ url: string; api: PostgrestServer }> {
  const db = await createDatabase(label)
  created.push(db.name)
  await sql(db.url, SAMPLE_SCHEMA_SQL)
  const server = await startPostgrestServer({ databaseUrl: db.url })
  servers.push(server)
  return { url: db.url, api: server }
}

function clientOf(server: PostgrestServer) {
  const { fetch, stats } = createRetryingFetch({ attempts: 3, baseDelayMs: 5, timeoutMs: 10_000 })
  return { client: new RestClient({ url: server.url, key: new Secret(server.key), fetch }), stats }
}

function restRestore(server: PostgrestServer, options: Partial<RestRestoreOptions> = {}) {
  const { client, stats } = clientOf(server)
  return runRestRestore(
    { ...restoreDeps(store), client, stats },
    { what: 'latest', truncate: false, verify: true, batchSize: 500, production: [], ...options },
  )
}

async function failure(promise: Promise<unknown>): Promise<LifeboatError> {
  try {
    await promise
  } catch (error) {
    return error as LifeboatError
  }
  throw new Error('expected a failure')
}

beforeAll(async () => {
  source = await createDatabase('rest_restore_src')
  await withClient(source.url, (client) => createSampleData(client, { metricsRows: 2_000 }))
  api = await startPostgrestServer({ databaseUrl: source.url })
  store = new FileStore(tempFolder('rest-restore-store'))
  const { client, stats } = clientOf(api)
  backup = await runRestBackup(
    {
      client,
      store,
      emit: () => {},
      now: () => new Date(),
      tempDir: tempFolder('rest-spool'),
      stats,
      signingKey: testSigningKey(),
    },
    { selection: selectEverything, schemas: ['public'], batchSize: 700, authUsers: true, gzipLevel: 1 },
  )
})
afterAll(async () => {
  await Promise.all([api, ...servers].map((s) => s?.close()))
  await Promise.all([source.name, ...created].map(dropDatabase))
})

describe('an API-only backup of the demo data', () => {
  it('restores through the direct path: every table verified by re-export and equal to the source', async () => {
    const target = await createDatabase('rest_to_direct')
    created.push(target.name)
    await sql(target.url, SAMPLE_SCHEMA_SQL)
    const result = await restore(restoreDeps(store), backup.id, target.url)
    expect(result.tables.length).toBe(backup.manifest.tables.length)
    expect(result.tables.every((t) => t.sha256Match && t.rowsRestored === t.rowsExpected)).toBe(true)
    expect(result.warnings).toContain('this backup was not taken from one snapshot (REST mode)')
    expect(await contents(target.url)).toEqual(await contents(source.url))
    // The admin API never returns password hashes: the one column the backup could not hold.
    const hashes = await sql(
      target.url,
      'SELECT count(*)::int AS n FROM auth.users WHERE encrypted_password IS NOT NULL',
    )
    expect(hashes.rows[0].n).toBe(0)
  })

  it('restores through the API (npm run backup:restore with SUPABASE_URL): every table equal to the source', async () => {
    const target = await emptyTarget('rest_to_api')
    const run = await runJobProcess('restore', ['latest', '--json'], {
      SUPABASE_URL: target.api.url,
      SUPABASE_SERVICE_ROLE_KEY: target.api.key,
      BACKUP_STORE: `file://${store.location}`,
    })
    expect(run.code, run.stderr).toBe(0)
    const summary = run.json as {
      via: string
      verified: boolean
      tables: { table: string; sha256Match: boolean; generatedByTarget?: string[] }[]
      followUpSql: string[]
    }
    expect(summary.via).toBe('rest')
    expect(summary.verified).toBe(true)
    expect(summary.tables.every((t) => t.sha256Match)).toBe(true)
    // metrics.id is GENERATED ALWAYS: the API cannot write it, the target generated the same ids.
    expect(summary.tables.find((t) => t.table === 'public.metrics')?.generatedByTarget).toEqual(['id'])
    expect(await contents(target.url)).toEqual(await contents(source.url))
    expect(run.stderr).toContain('no transaction spans the requests')

    // Sequences: the API cannot set them; the printed SQL does, and new rows get fresh ids.
    expect(summary.followUpSql.some((s) => s.includes('\'"public"."organizations"\', \'id\''))).toBe(true)
    await withClient(target.url, async (client) => {
      for (const statement of summary.followUpSql) await client.query(statement)
      const org = await client.query(
        `INSERT INTO public.organizations (name, slug) VALUES ('New', 'new') RETURNING id`,
      )
      expect(Number(org.rows[0].id)).toBe(21)
    })
  })

  it('stops at a failing batch, names it, and deletes what it had inserted', async () => {
    const target = await emptyTarget('rest_fail')
    let inserts = 0
    target.api.failWhen(
      // 1: refused (id is GENERATED ALWAYS), 2: batch 1 resent without id, 3: batch 2.
      (r) => r.method === 'POST' && r.path === '/rest/v1/metrics' && ++inserts === 3,
      500,
      { code: 'XX000', message: 'could not write block: disk full', details: null, hint: null },
    )
    const error = await failure(restRestore(target.api))
    expect(error.code).toBe('RESTORE_FAILED')
    expect(error.message).toContain('public.metrics, batch 2 (rows 501-1000)')
    expect(error.message).toContain('disk full')
    expect(error.message).toContain('Nothing is left of this restore')
    const left = await sql(
      target.url,
      `SELECT (SELECT count(*) FROM public.metrics) + (SELECT count(*) FROM public.organizations) + (SELECT count(*) FROM auth.users) AS n`,
    )
    expect(Number(left.rows[0].n)).toBe(0)
  })

  it('refuses a target that holds rows, writing nothing; --truncate replaces them', async () => {
    const target = await emptyTarget('rest_full')
    await sql(target.url, `INSERT INTO public.suppliers (name, country) VALUES ('Old', 'NL')`)
    const error = await failure(
      restRestore(target.api, { selection: { ...selectEverything, tables: ['public.suppliers'] } }),
    )
    expect(error.code).toBe('TARGET_NOT_EMPTY')
    expect(error.message).toContain('public.suppliers (1 rows)')
    const result = await restRestore(target.api, {
      selection: { ...selectEverything, tables: ['public.suppliers'] },
      truncate: true,
    })
    expect(result.tables[0]).toMatchObject({ table: 'public.suppliers', sha256Match: true })
    const names = await sql(target.url, `SELECT count(*)::int AS n FROM public.suppliers WHERE name = 'Old'`)
    expect(names.rows[0].n).toBe(0)
  })

  it('refuses to restore into the API the backup came from unless confirmed by name', async () => {
    const error = await failure(restRestore(api))
    expect(error.code).toBe('TARGET_PROTECTED')
    expect(error.message).toContain(`--confirm ${new URL(api.url).host}`)
  })

  it("refuses a target whose tables lack the archive's columns, before writing anything", async () => {
    const target = await emptyTarget('rest_schema')
    await sql(target.url, 'ALTER TABLE public.buildings DROP COLUMN address')
    const error = await failure(restRestore(target.api))
    expect(error.code).toBe('SCHEMA_MISMATCH')
    expect(error.message).toContain('public.buildings.address: column missing from the target')
    expect(target.api.requests.filter((r) => r.method === 'POST').length).toBe(0)
  })
})

describe('a direct backup restored through the API', () => {
  it('sets nothing it cannot: prints the exact setval statements and keeps the password hashes', async () => {
    const { backupOf } = await import('./restore-fixtures.ts')
    const directStore = new FileStore(tempFolder('direct-store'))
    const direct = await backupOf(source.url, directStore)
    const target = await emptyTarget('direct_to_api')
    const { client, stats } = clientOf(target.api)
    const result = await runRestRestore(
      { ...restoreDeps(directStore), client, stats, decrypt: (name) => decryptStream(undefined, { name }) },
      { what: direct.id, truncate: false, verify: true, batchSize: 1000, production: [] },
    )
    expect(result.tables.every((t) => t.sha256Match)).toBe(true)
    expect(result.followUpSql).toContain(
      `SELECT pg_catalog.setval('"public"."organizations_id_seq"', 20, true);`,
    )
    const hashes = await sql(
      target.url,
      'SELECT count(*)::int AS n FROM auth.users WHERE encrypted_password IS NOT NULL',
    )
    expect(hashes.rows[0].n).toBe(200)
  })
})

describe('foreign-key order from the target when the manifest has none', () => {
  it('unpacks the archive and inserts parents first', async () => {
    const plain = await createDatabase('rest_nofk')
    created.push(plain.name)
    // The source has no foreign key, so the backup cannot know that order.
    const ddl = (fk: boolean) => `
      CREATE TABLE public.zeta_parent (id int PRIMARY KEY, label text);
      CREATE TABLE public.alpha_child (id int PRIMARY KEY, parent_id int ${fk ? 'REFERENCES public.zeta_parent(id)' : ''});`
    await sql(
      plain.url,
      `${ddl(false)} INSERT INTO public.zeta_parent SELECT i, 'p' || i FROM generate_series(1, 5) i;
      INSERT INTO public.alpha_child SELECT i, 1 + i % 5 FROM generate_series(1, 20) i;`,
    )
    const plainApi = await startPostgrestServer({ databaseUrl: plain.url })
    servers.push(plainApi)
    const plainStore = new FileStore(tempFolder('rest-nofk-store'))
    const { client, stats } = clientOf(plainApi)
    const made = await runRestBackup(
      {
        client,
        store: plainStore,
        emit: () => {},
        now: () => new Date(),
        tempDir: tempFolder('rest-spool'),
        stats,
        signingKey: testSigningKey(),
      },
      { selection: selectEverything, schemas: ['public'], batchSize: 1000, authUsers: false, gzipLevel: 1 },
    )
    expect(made.manifest.restoreOrder).toEqual(['public.alpha_child', 'public.zeta_parent'])

    const target = await createDatabase('rest_fk_target')
    created.push(target.name)
    await sql(target.url, ddl(true))
    const targetApi = await startPostgrestServer({ databaseUrl: target.url })
    servers.push(targetApi)
    const steps: string[] = []
    const to = clientOf(targetApi)
    const result = await runRestRestore(
      {
        ...restoreDeps(plainStore),
        emit: (e) => e.type === 'step' && steps.push(e.message),
        client: to.client,
        stats: to.stats,
      },
      { what: 'latest', truncate: false, verify: true, batchSize: 1000, production: [] },
    )
    expect(steps).toContain("unpacking the data files: the target's foreign keys ask for another order")
    expect(result.tables.every((t) => t.sha256Match)).toBe(true)
    const posts = targetApi.requests.filter((r) => r.method === 'POST').map((r) => r.path)
    expect(posts).toEqual(['/rest/v1/zeta_parent', '/rest/v1/alpha_child'])
  })
})
