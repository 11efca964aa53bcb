// A table schema.sql could not create (the catalog path leaves out what depends on a
// custom operator, and says so in schemaSql.omitted) makes a --create-schema
// restore fail before its first write, naming the table and why: --dry-run fails the
// same way, rather than "every check passed", on PostgreSQL 15 and 17.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSchemaSql } from '../../lib/adapters/postgres/schema-sql.ts'
import type { FileStore } from '../../lib/adapters/store/file-store.ts'
import { MAJORS, plainServerUrl } from '../helpers/clusters.ts'
import { sql, urlOn } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { backupOf, fingerprint, folderStore, restore, restoreDeps } from './restore-fixtures.ts'

const SOURCE_SQL = `
CREATE FUNCTION public.near(a int, b int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT abs(a - b) < 2';
CREATE OPERATOR public.~~~ (LEFTARG = int, RIGHTARG = int, FUNCTION = public.near);
CREATE TABLE public.docs (id int PRIMARY KEY, body int,
  near_ten boolean GENERATED ALWAYS AS (body OPERATOR(public.~~~) 10) STORED);
CREATE TABLE public.notes (id int PRIMARY KEY, body text);
INSERT INTO public.docs (id, body) VALUES (1, 9), (2, 20);
INSERT INTO public.notes VALUES (1, 'kept');
`
const REFUSAL =
  /^lifeboat restore: error SCHEMA_MISMATCH: public\.docs: schema\.sql does not create this table \(it depends on operator public\.~~~\(integer,integer\), which is not part of this run\) and the target does not have it, so its 2 rows cannot be loaded; /

describe.each(MAJORS)('a table schema.sql does not create, PostgreSQL %i', (major) => {
  const names = { source: `omit_src_${major}_${process.pid}`, target: `omit_dst_${major}_${process.pid}` }
  let server: string
  let target: string
  let store: FileStore
  let id: string

  beforeAll(async () => {
    server = plainServerUrl(major)
    for (const name of Object.values(names)) await sql(server, `CREATE DATABASE ${name}`)
    await sql(urlOn(server, names.source), SOURCE_SQL)
    target = urlOn(server, names.target)
    store = folderStore()
    const result = await backupOf(urlOn(server, names.source), store, {
      generate: (client, options) => generateSchemaSql(client, { ...options, prefer: 'catalog' }),
    })
    id = result.id
  }, 120_000)
  afterAll(async () => {
    for (const name of Object.values(names)) await sql(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  })

  it('restore --create-schema --dry-run exits 1 naming the table and why', async () => {
    const run = await runJobProcess('restore', [id, '--create-schema', '--dry-run'], {
      BACKUP_STORE: store.location,
      TARGET_DATABASE_URL: target,
    })
    expect(run.code, run.stderr).toBe(1)
    expect(run.stderr.trim().split('\n').at(-1)).toMatch(REFUSAL)
    expect(run.stdout).not.toMatch(/every check passed/)
  })

  it('the restore itself refuses before writing anything, with the same reason', async () => {
    const before = await fingerprint(target)
    const refused = restore(restoreDeps(store), id, target, { createSchema: true })
    await expect(refused).rejects.toMatchObject({
      code: 'SCHEMA_MISMATCH',
      details: [expect.stringMatching(/^public\.docs: schema\.sql does not create this table/)],
    })
    expect(await fingerprint(target)).toEqual(before)
  })

  it('the other tables restore when -t leaves that one out', async () => {
    await restore(restoreDeps(store), id, target, {
      createSchema: true,
      selection: { schemas: [], excludeSchemas: [], tables: ['public.notes'], excludeTables: [] },
    })
    expect((await sql(target, 'SELECT id, body FROM public.notes')).rows).toEqual([{ id: 1, body: 'kept' }])
  })
})
