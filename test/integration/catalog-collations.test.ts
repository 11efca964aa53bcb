// The catalog path (PostgreSQL 17's only way to schema.sql) creates the selected
// schemas' own collations, so what uses one (a column, a domain, an index) is created
// too: a backup of a table with a case-insensitive ICU collation restores with
// --create-schema to the same rows under the same collation, on PostgreSQL 15 and 17.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSchemaSql } from '../../lib/adapters/postgres/schema-sql.ts'
import type { FileStore } from '../../lib/adapters/store/file-store.ts'
import type { ProgressEvent } from '../../lib/core/events.ts'
import { MAJORS, plainServerUrl } from '../helpers/clusters.ts'
import { sql, urlOn } from '../helpers/database.ts'
import { backupOf, folderStore, restore, restoreDeps } from './restore-fixtures.ts'

const OWNER = `coll_owner_${process.pid}`
const SOURCE_SQL = `
CREATE COLLATION public.nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
COMMENT ON COLLATION public.nocase IS 'case-insensitive';
ALTER COLLATION public.nocase OWNER TO ${OWNER};
CREATE COLLATION public.bytewise (provider = libc, locale = 'C');
CREATE DOMAIN public.handle AS text COLLATE public.nocase;
CREATE TABLE public.ci (id int PRIMARY KEY, name text COLLATE public.nocase NOT NULL, nick public.handle,
  code text COLLATE public.bytewise);
CREATE UNIQUE INDEX ci_name ON public.ci (name);
INSERT INTO public.ci VALUES (1, 'Alice', 'AL', 'b'), (2, 'bob', NULL, 'B'), (3, 'Émile', 'em', NULL);
`

describe.each(MAJORS)('a custom collation on the catalog path, PostgreSQL %i', (major) => {
  const names = { source: `coll_src_${major}_${process.pid}`, target: `coll_dst_${major}_${process.pid}` }
  let server: string
  let store: FileStore
  let warnings: string[]
  let id: string

  beforeAll(async () => {
    server = plainServerUrl(major)
    await sql(server, `DROP ROLE IF EXISTS ${OWNER}; CREATE ROLE ${OWNER}`)
    for (const name of Object.values(names)) await sql(server, `CREATE DATABASE ${name}`)
    await sql(urlOn(server, names.source), SOURCE_SQL)
    store = folderStore()
    const events: ProgressEvent[] = []
    const result = await backupOf(urlOn(server, names.source), store, {
      generate: (client, options) => generateSchemaSql(client, { ...options, prefer: 'catalog' }),
      emit: (event) => events.push(event),
    })
    id = result.id
    warnings = events.flatMap((e) => (e.type === 'warning' ? [e.message] : []))
  }, 120_000)
  afterAll(async () => {
    for (const name of Object.values(names)) await sql(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await sql(server, `DROP ROLE IF EXISTS ${OWNER}`)
  })

  it('backs up without skipping anything that uses the collation', () => {
    expect(warnings.filter((w) => /skipped|not recreated/.test(w))).toEqual([])
  })

  it('restores with --create-schema: the same rows, under the same collation', async () => {
    const target = urlOn(server, names.target)
    await restore(restoreDeps(store), id, target, { createSchema: true })
    const rows = await sql(target, 'SELECT id, name, nick, code FROM public.ci ORDER BY id')
    expect(rows.rows).toEqual([
      { id: 1, name: 'Alice', nick: 'AL', code: 'b' },
      { id: 2, name: 'bob', nick: null, code: 'B' },
      { id: 3, name: 'Émile', nick: 'em', code: null },
    ])
    const collation = await sql(
      target,
      `SELECT a.attname, co.collname, co.collprovider, co.collisdeterministic,
              pg_get_userbyid(co.collowner) AS owner, obj_description(co.oid, 'pg_collation') AS comment
         FROM pg_attribute a JOIN pg_collation co ON co.oid = a.attcollation
        WHERE a.attrelid = 'public.ci'::regclass AND a.attname IN ('name', 'code') ORDER BY a.attnum`,
    )
    expect(collation.rows).toEqual([
      {
        attname: 'name',
        collname: 'nocase',
        collprovider: 'i',
        collisdeterministic: false,
        owner: OWNER,
        comment: 'case-insensitive',
      },
      {
        attname: 'code',
        collname: 'bytewise',
        collprovider: 'c',
        collisdeterministic: true,
        owner: 'postgres',
        comment: null,
      },
    ])
    // Byte order under "C": upper case first.
    const ordered = await sql(target, 'SELECT code FROM public.ci WHERE code IS NOT NULL ORDER BY code')
    expect(ordered.rows).toEqual([{ code: 'B' }, { code: 'b' }])
    // The collation works as in the source: the unique index refuses a case variant.
    await expect(sql(target, "INSERT INTO public.ci VALUES (4, 'ALICE', NULL)")).rejects.toThrow(/ci_name/)
    const found = await sql(target, "SELECT id FROM public.ci WHERE nick = 'al'")
    expect(found.rows).toEqual([{ id: 1 }])
  })
})
