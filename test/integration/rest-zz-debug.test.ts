import { it } from 'vitest'
import { readFileSync } from 'node:fs'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'
import { startPostgrestServer } from '../helpers/postgrest-server.ts'
import { RestClient } from '../../lib/adapters/rest/client.ts'
import { createRetryingFetch } from '../../lib/adapters/rest/http.ts'
import { exportRestTable } from '../../lib/adapters/rest/export-table.ts'
import { Secret } from '../../lib/core/secret.ts'
import { connect, PINNED_SESSION_SETTINGS } from '../../lib/adapters/postgres/connection.ts'
import { readCatalog } from '../../lib/adapters/postgres/catalog.ts'
import { exportTable } from '../../lib/adapters/postgres/export-table.ts'
import { selectEverything } from '../../lib/core/selection.ts'
import { createWriteStream } from 'node:fs'
it('debug', async () => {
  const db = await createDatabase('dbg')
  await sql(db.url, `CREATE TABLE public."Odd Names" ("Id" int PRIMARY KEY, "1" text, "a""quote" text, j json, f double precision, r real, tz timestamptz, ar text[], iv interval, b bytea);
       INSERT INTO public."Odd Names" VALUES
         (1, 'one', 'q"uote', '{"x":  1, "x": 2}', 0.1, 1.1, '2025-06-01 12:00:00.5+02', '{a,"b c",NULL}', '1 day 02:00:00', '\\x00ff'),
         (2, E'tab\\there\\nnew\\u0001', NULL, 'null', -0, 'NaN', 'infinity', '{}', '-3 mons', ''),
         (3, '😀 ünïcödé', 'x', '[1, "two"]', 1e300, '-Infinity', '1999-12-31 23:59:59.999999+00', NULL, NULL, NULL);`)
  const api = await startPostgrestServer({ databaseUrl: db.url })
  const { fetch } = createRetryingFetch({})
  const client = new RestClient({ url: api.url, key: new Secret(api.key), fetch })
  const [t] = await client.describe('public')
  await exportRestTable(client, t!, '/tmp/rest.ndjson', { batchSize: 2, now: () => new Date() })
  const c = await connect(new Secret(db.url), { settings: PINNED_SESSION_SETTINGS })
  const cat = await readCatalog(c, selectEverything)
  await exportTable(c, cat.tables[0]!, createWriteStream('/tmp/direct.ndjson'))
  await c.end()
  console.log(readFileSync('/tmp/rest.ndjson', 'utf8'))
  console.log(readFileSync('/tmp/direct.ndjson', 'utf8'))
  await api.close(); await dropDatabase(db.name)
})
