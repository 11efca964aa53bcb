// API-only backups against a local server that speaks the parts of PostgREST's protocol
// Lifeboat uses (test/helpers/postgrest-server.ts: written from PostgREST's documentation,
// as no PostgREST binary can be installed here), over the real test database.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RestClient } from '../../lib/adapters/rest/client.ts'
import { createRetryingFetch } from '../../lib/adapters/rest/http.ts'
import { FileStore } from '../../lib/adapters/store/file-store.ts'
import { sidecarKey } from '../../lib/archive/layout.ts'
import { parseManifest } from '../../lib/archive/manifest.ts'
import { type RestBackupResult, runRestBackup } from '../../lib/backup/rest-source.ts'
import { Secret } from '../../lib/core/secret.ts'
import { selectEverything } from '../../lib/core/selection.ts'
import { createSampleData } from '../../lib/demo/sample-data.ts'
import { extractWithTar, readNdjson, sha256sumCheck } from '../helpers/archive.ts'
import { createDatabase, dropDatabase, sql, withClient } from '../helpers/database.ts'
import { type PostgrestServer, startPostgrestServer } from '../helpers/postgrest-server.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { backupOf, tempFolder } from './restore-fixtures.ts'

let source: { name: string; url: string }
let api: PostgrestServer

beforeAll(async () => {
  source = await createDatabase('rest_src')
  await withClient(source.url, (client) => createSampleData(client, { metricsRows: 2_500 }))
  api = await startPostgrestServer({ databaseUrl: source.url })
})
afterAll(async () => {
  await api?.close()
  await dropDatabase(source.name)
})

function apiEnv(server: PostgrestServer, folder: string): Record<string, string> {
  return { SUPABASE_URL: server.url, SUPABASE_SERVICE_ROLE_KEY: server.key, BACKUP_STORE: `file://${folder}` }
}

async function restBackup(
  server: PostgrestServer,
  store: FileStore,
  options: {
    batchSize?: number
    authUsers?: boolean
    attempts?: number
    timeoutMs?: number
    tables?: string[]
  } = {},
): Promise<RestBackupResult & { retriesSeen: number }> {
  let retriesSeen = 0
  const { fetch, stats } = createRetryingFetch({
    attempts: options.attempts ?? 6,
    baseDelayMs: 5,
    timeoutMs: options.timeoutMs ?? 10_000,
    onRetry: () => retriesSeen++,
  })
  const client = new RestClient({ url: server.url, key: new Secret(server.key), fetch })
  const result = await runRestBackup(
    { client, store, emit: () => {}, now: () => new Date(), tempDir: tempFolder('rest-spool'), stats },
    {
      selection: { ...selectEverything, tables: options.tables ?? [] },
      schemas: ['public'],
      batchSize: options.batchSize ?? 1000,
      authUsers: options.authUsers ?? false,
      gzipLevel: 1,
    },
  )
  return { ...result, retriesSeen }
}

describe('API-only backup', () => {
  it('runs as `npm run backup:database` when only SUPABASE_URL and the service role key are set', async () => {
    const folder = tempFolder('rest-job-store')
    const run = await runJobProcess('backup', ['--json', '--auth-users'], apiEnv(api, folder))
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain('not from one snapshot')
    const id = run.json!.id as string
    const root = extractWithTar(join(folder, 'database-backups', `${id}.tar.gz`))
    expect(sha256sumCheck(root)).toContain('data/public.metrics.ndjson: OK')
    const manifest = parseManifest(
      await readFile(join(folder, sidecarKey(id)), 'utf8'),
      'sidecar',
    ) as ReturnType<typeof parseManifest> & { source: { window: { from: string; to: string }; api: string } }
    expect(manifest.source).toMatchObject({ kind: 'rest', consistent: false, snapshot: null, api: api.url })
    expect(Date.parse(manifest.source.window.to)).toBeGreaterThanOrEqual(
      Date.parse(manifest.source.window.from),
    )
    expect(manifest.tables.find((t) => t.name === 'metrics')?.rows).toBe(2_500)
    // Referenced tables first, auth users before the tables that point at them.
    const order = manifest.restoreOrder
    expect(order.indexOf('auth.users')).toBeLessThan(order.indexOf('public.user_organizations'))
    expect(order.indexOf('public.organizations')).toBeLessThan(order.indexOf('public.buildings'))
    expect(order.indexOf('public.devices')).toBeLessThan(order.indexOf('public.metrics'))
  })

  it('writes every table byte for byte as the direct backup does', async () => {
    const rest = await restBackup(api, new FileStore(tempFolder('rest-store')))
    const direct = await backupOf(source.url, new FileStore(tempFolder('direct-store')), { schemaSql: false })
    const publicTables = direct.manifest.tables.filter((t) => t.schema === 'public')
    expect(rest.manifest.tables.map((t) => t.name).sort()).toEqual(publicTables.map((t) => t.name).sort())
    for (const table of publicTables) {
      const mine = rest.manifest.tables.find((t) => t.name === table.name)!
      expect({ table: table.name, rows: mine.rows, sha256: mine.sha256 }).toEqual({
        table: table.name,
        rows: table.rows,
        sha256: table.sha256,
      })
      expect(mine.columns.map((c) => c.name)).toEqual(table.columns.map((c) => c.name))
      expect(mine.primaryKey).toEqual(table.primaryKey)
    }
  })

  it('pages within the server cap of 1000 rows, counting once per table', async () => {
    const before = api.requests.length
    const result = await restBackup(api, new FileStore(tempFolder('rest-store')), {
      batchSize: 5_000,
      tables: ['metrics'],
    })
    const reads = api.requests
      .slice(before)
      .filter((r) => r.method === 'GET' && r.path === '/rest/v1/metrics')
    expect(result.manifest.tables[0]!.rows).toBe(2_500)
    expect(reads.every((r) => (r.rows ?? 0) <= 1000)).toBe(true)
    expect(reads.map((r) => r.rows)).toEqual([1000, 1000, 500])
    expect(reads.filter((r) => /count=exact/.test(String(r.headers.prefer))).length).toBe(1)
    // Keyset paging on the key: every page after the first asks for ids above the last one seen.
    expect(reads[1]!.query.get('id')).toBe('gt.1000')
    expect(
      reads.every((r) =>
        r.query
          .get('select')
          ?.split(',')
          .every((c) => c.endsWith('::text')),
      ),
    ).toBe(true)
  })

  it('backs off and retries on 429 (honouring Retry-After) and 503', async () => {
    api.failNext(429, 2, 0)
    const result = await restBackup(api, new FileStore(tempFolder('rest-store')), {
      tables: ['organizations'],
    })
    expect(result.retriesSeen).toBe(2)
    expect(result.manifest.tables[0]!.rows).toBe(20)
    api.failNext(503, 3)
    const again = await restBackup(api, new FileStore(tempFolder('rest-store')), {
      tables: ['organizations'],
    })
    expect(again.retriesSeen).toBe(3)
    expect(again.manifest.tables[0]!.sha256).toBe(result.manifest.tables[0]!.sha256)
  })

  it('retries a request that gets no answer within the timeout', async () => {
    api.hangNext(1)
    const result = await restBackup(api, new FileStore(tempFolder('rest-store')), {
      tables: ['suppliers'],
      timeoutMs: 500,
    })
    expect(result.retriesSeen).toBe(1)
    expect(result.manifest.tables[0]!.rows).toBeGreaterThan(0)
  })

  it('gives up with API_UNREACHABLE once the attempts are spent, and leaves no archive', async () => {
    api.failNext(503, 10)
    const store = new FileStore(tempFolder('rest-store'))
    await expect(restBackup(api, store, { tables: ['suppliers'], attempts: 3 })).rejects.toMatchObject({
      code: 'API_UNREACHABLE',
    })
    api.failNext(503, 0)
    expect(await store.list('database-backups/')).toEqual([])
  })

  it('refuses a wrong key with API_AUTH and exit code 1, never printing the key', async () => {
    const folder = tempFolder('rest-job-store')
    const run = await runJobProcess('backup', ['--json'], {
      ...apiEnv(api, folder),
      SUPABASE_SERVICE_ROLE_KEY: 'wrong-key-123456',
    })
    expect(run.code).toBe(1)
    expect((run.json!.error as { code: string }).code).toBe('API_AUTH')
    expect(run.stdout + run.stderr).not.toContain('wrong-key-123456')
  })
})

describe('values and order as the direct export writes them', () => {
  let db: { name: string; url: string }
  let server: PostgrestServer

  beforeAll(async () => {
    db = await createDatabase('rest_edge')
    await sql(
      db.url,
      `CREATE TABLE public.words (word text COLLATE "und-x-icu" PRIMARY KEY, n int);
       INSERT INTO public.words VALUES ('b', 1), ('B', 2), ('a', 3), ('A', 4), ('é', 5), ('z', 6), ('Z', 7);
       CREATE TABLE public.pairs (k text COLLATE "und-x-icu", m bigint, note text, PRIMARY KEY (m, k));
       INSERT INTO public.pairs SELECT chr(97 + i % 3) || CASE WHEN i % 2 = 0 THEN 'X' ELSE 'x' END, i % 4, 'n' || i FROM generate_series(1, 40) i
         ON CONFLICT DO NOTHING;
       CREATE TABLE public.loose (a text, b int, c jsonb);
       INSERT INTO public.loose VALUES ('x,y', 2, '{"b": 1, "a": [1, 2.50]}'), (NULL, 1, NULL), ('', 3, 'null'), ('x y', 2, '{}'), ('(q)', NULL, '[]');
       CREATE TABLE public."Odd Names" ("Id" int PRIMARY KEY, "1" text, "a""quote" text, j json, f double precision, r real, tz timestamptz, ar text[], iv interval, b bytea);
       INSERT INTO public."Odd Names" VALUES
         (1, 'one', 'q"uote', '{"x":  1, "x": 2}', 0.1, 1.1, '2025-06-01 12:00:00.5+02', '{a,"b c",NULL}', '1 day 02:00:00', '\\x00ff'),
         (2, E'tab\\there\\nnew\\u0001', NULL, 'null', -0, 'NaN', 'infinity', '{}', '-3 mons', ''),
         (3, '😀 ünïcödé', 'x', '[1, "two"]', 1e300, '-Infinity', '1999-12-31 23:59:59.999999+00', NULL, NULL, NULL);`,
    )
    server = await startPostgrestServer({ databaseUrl: db.url })
  })
  afterAll(async () => {
    await server?.close()
    await dropDatabase(db.name)
  })

  it('matches the direct backup for text keys in a non-C collation, tables without a key, json, floats and odd names', async () => {
    const rest = await restBackup(server, new FileStore(tempFolder('rest-store')), { batchSize: 3 })
    const direct = await backupOf(db.url, new FileStore(tempFolder('direct-store')), { schemaSql: false })
    for (const table of direct.manifest.tables.filter((t) => t.name !== 'pairs')) {
      const mine = rest.manifest.tables.find((t) => t.name === table.name)
      expect(mine, table.name).toBeDefined()
      expect({ table: table.name, sha256: mine!.sha256, rows: mine!.rows }).toEqual({
        table: table.name,
        sha256: table.sha256,
        rows: table.rows,
      })
    }
    // The API's ICU order (a A b B…) was re-sorted into the archive's byte order (A B Z a b…).
    const words = readNdjson(extractWithTar(rest.location), 'data/public.words.ndjson').map((r) => r.word)
    expect(words).toEqual(['A', 'B', 'Z', 'a', 'b', 'z', 'é'])
    expect(rest.warnings.some((w) => w.includes('public.loose has no primary key'))).toBe(true)
  })

  it("orders a composite key by its columns in table order: the API does not say the key's own order", async () => {
    const rest = await restBackup(server, new FileStore(tempFolder('rest-store')))
    const direct = await backupOf(db.url, new FileStore(tempFolder('direct-store')), { schemaSql: false })
    const mine = rest.manifest.tables.find((t) => t.name === 'pairs')!
    expect(mine.primaryKey).toEqual(['k', 'm'])
    expect(direct.manifest.tables.find((t) => t.name === 'pairs')!.primaryKey).toEqual(['m', 'k'])
    const restRows = readNdjson(extractWithTar(rest.location), 'data/public.pairs.ndjson')
    const directRows = readNdjson(extractWithTar(direct.location), 'data/public.pairs.ndjson')
    // The same rows; ordered by (k bytewise, m), which a re-export by the manifest's key reproduces.
    expect([...restRows].sort(byJson)).toEqual([...directRows].sort(byJson))
    const sorted = [...restRows].sort(
      (a, b) => Buffer.compare(Buffer.from(a.k!), Buffer.from(b.k!)) || Number(a.m) - Number(b.m),
    )
    expect(restRows).toEqual(sorted)
  })
})

function byJson(a: unknown, b: unknown): number {
  const x = JSON.stringify(a)
  const y = JSON.stringify(b)
  return x < y ? -1 : x > y ? 1 : 0
}
