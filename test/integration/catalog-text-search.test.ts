// The catalog path (PostgreSQL 17's only way to schema.sql) creates the selected
// schemas' own text search dictionaries and configurations, so what uses one (a generated
// tsvector column, an expression index, a SQL-standard function) is created too: Supabase's
// full-text-search pattern, a configuration mapping words through unaccent (the
// extension's dictionary, not recreated) and a dictionary of its own on unaccent's
// template, restores with --create-schema to the same search results, on 15 and 17.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSchemaSql } from '../../lib/adapters/postgres/schema-sql.ts'
import type { FileStore } from '../../lib/adapters/store/file-store.ts'
import type { ProgressEvent } from '../../lib/core/events.ts'
import { MAJORS, plainServerUrl } from '../helpers/clusters.ts'
import { sql, urlOn } from '../helpers/database.ts'
import { backupOf, folderStore, restore, restoreDeps } from './restore-fixtures.ts'

const OWNER = `ts_owner_${process.pid}`
const SOURCE_SQL = `
CREATE SCHEMA extensions;
CREATE EXTENSION unaccent WITH SCHEMA extensions;
CREATE TEXT SEARCH DICTIONARY public.names_unaccent (TEMPLATE = extensions.unaccent, RULES = 'unaccent');
COMMENT ON TEXT SEARCH DICTIONARY public.names_unaccent IS 'accents off';
ALTER TEXT SEARCH DICTIONARY public.names_unaccent OWNER TO ${OWNER};
CREATE TEXT SEARCH CONFIGURATION public.english_unaccent (COPY = english);
ALTER TEXT SEARCH CONFIGURATION public.english_unaccent
  ALTER MAPPING FOR hword, hword_part, word WITH extensions.unaccent, english_stem;
ALTER TEXT SEARCH CONFIGURATION public.english_unaccent
  ALTER MAPPING FOR asciiword WITH public.names_unaccent, english_stem;
ALTER TEXT SEARCH CONFIGURATION public.english_unaccent DROP MAPPING FOR email, url;
COMMENT ON TEXT SEARCH CONFIGURATION public.english_unaccent IS 'English, accents off';
ALTER TEXT SEARCH CONFIGURATION public.english_unaccent OWNER TO ${OWNER};
CREATE TABLE public.articles (id int PRIMARY KEY, body text NOT NULL,
  words tsvector GENERATED ALWAYS AS (to_tsvector('public.english_unaccent', body)) STORED);
CREATE INDEX articles_body ON public.articles USING gin (to_tsvector('public.english_unaccent', body));
CREATE FUNCTION public.search(q text) RETURNS SETOF int LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT id FROM public.articles WHERE words @@ plainto_tsquery('public.english_unaccent', q) ORDER BY id;
END;
INSERT INTO public.articles VALUES (1, 'Crème brûlée recipes'), (2, 'Café society'), (3, 'Plain cooking');
`

/** Each mapping of the configuration: token type, dictionaries in order. */
const MAPPINGS = `
  SELECT tt.alias, string_agg(m.mapdict::regdictionary::text, ', ' ORDER BY m.mapseqno) AS dictionaries
    FROM pg_ts_config_map m JOIN ts_token_type('default') tt ON tt.tokid = m.maptokentype
   WHERE m.mapcfg = 'public.english_unaccent'::regconfig GROUP BY tt.tokid, tt.alias ORDER BY tt.tokid`
const OBJECTS = `
  SELECT 'configuration' AS kind, pg_get_userbyid(cfgowner) AS owner, obj_description(oid, 'pg_ts_config') AS comment
    FROM pg_ts_config WHERE oid = 'public.english_unaccent'::regconfig
  UNION ALL
  SELECT 'dictionary', pg_get_userbyid(dictowner), obj_description(oid, 'pg_ts_dict') || ' / ' || dictinitoption
    FROM pg_ts_dict WHERE oid = 'public.names_unaccent'::regdictionary`

describe.each(MAJORS)('text search configurations on the catalog path, PostgreSQL %i', (major) => {
  const names = {
    source: `tsc_src_${major}_${process.pid}`,
    target: `tsc_dst_${major}_${process.pid}`,
    subset: `tsc_sub_${major}_${process.pid}`,
  }
  let server: string
  let store: FileStore
  let warnings: string[]
  let omitted: string[]
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
    omitted = (result.manifest.schemaSql?.omitted ?? []).map((o) => `${o.kind} ${o.name}`)
  }, 120_000)
  afterAll(async () => {
    for (const name of Object.values(names)) await sql(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await sql(server, `DROP ROLE IF EXISTS ${OWNER}`)
  })

  it('backs up without leaving out anything that uses the configuration', () => {
    expect(warnings.filter((w) => /skipped|not recreated/.test(w))).toEqual([])
    expect(omitted).toEqual([])
  })

  it('restores with --create-schema: the same mappings, owners, comments and search results', async () => {
    const source = urlOn(server, names.source)
    const target = urlOn(server, names.target)
    await restore(restoreDeps(store), id, target, { createSchema: true })
    for (const query of [MAPPINGS, OBJECTS, 'SELECT id, body, words::text FROM public.articles ORDER BY id'])
      expect((await sql(target, query)).rows).toEqual((await sql(source, query)).rows)
    const objects = await sql(target, OBJECTS)
    expect(objects.rows).toEqual([
      { kind: 'configuration', owner: OWNER, comment: 'English, accents off' },
      { kind: 'dictionary', owner: OWNER, comment: "accents off / rules = 'unaccent'" },
    ])
    // Accents off through both dictionaries: unaccent's own (word) and ours (asciiword).
    const found = await sql(target, "SELECT public.search('creme brulee') AS a, public.search('cafe') AS b")
    expect(found.rows).toEqual([{ a: 1, b: 2 }])
    const index = await sql(target, "SELECT to_regclass('public.articles_body') IS NOT NULL AS present")
    expect(index.rows).toEqual([{ present: true }])
  })

  it('a -t restore of the table brings the configuration and its dictionary along', async () => {
    const subset = urlOn(server, names.subset)
    await restore(restoreDeps(store), id, subset, {
      createSchema: true,
      selection: { schemas: [], excludeSchemas: [], tables: ['public.articles'], excludeTables: [] },
    })
    const query =
      "SELECT id FROM public.articles WHERE words @@ plainto_tsquery('public.english_unaccent', 'cafe')"
    expect((await sql(subset, query)).rows).toEqual([{ id: 2 }])
    expect((await sql(subset, MAPPINGS)).rows).toEqual(
      (await sql(urlOn(server, names.source), MAPPINGS)).rows,
    )
  })
})
