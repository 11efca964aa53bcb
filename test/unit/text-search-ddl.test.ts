// Text search dictionaries and configurations on the catalog path (pure): the DDL
// rendered from their catalog rows, and the restore's allowlist taking that DDL (and
// pg_dump's) back, classified as text search and naming what a -t subset must bring along.
import { describe, expect, it } from 'vitest'
import type {
  CatalogTsConfiguration,
  CatalogTsDictionary,
} from '../../lib/adapters/postgres/schema/catalog-types.ts'
import {
  renderTsConfiguration,
  renderTsDictionary,
} from '../../lib/adapters/postgres/schema/plan-text-search.ts'
import { inspectSchemaSql } from '../../lib/trust/inspect-schema-sql.ts'
import { statementsForTables } from '../../lib/trust/schema-statements.ts'

const dictionary: CatalogTsDictionary = {
  oid: 16500,
  ident: 'public.unaccent_names',
  owner: 'postgres',
  template: 'extensions.unaccent',
  options: "rules = 'unaccent'",
  comment: null,
}

const configuration: CatalogTsConfiguration = {
  oid: 16501,
  ident: 'public.english_unaccent',
  owner: 'postgres',
  parser: 'pg_catalog."default"',
  mappings: [
    { token: 'asciiword', dictionaries: ['pg_catalog.english_stem'] },
    { token: 'word', dictionaries: ['public.unaccent_names', 'pg_catalog.english_stem'] },
  ],
  comment: null,
}

describe('renderTsDictionary', () => {
  it("names the template schema-qualified (an extension's lives in the extension's schema) and keeps the options", () => {
    expect(renderTsDictionary(dictionary)).toBe(
      "CREATE TEXT SEARCH DICTIONARY public.unaccent_names (TEMPLATE = extensions.unaccent, rules = 'unaccent');",
    )
  })

  it('writes only the template when the dictionary has no options', () => {
    expect(renderTsDictionary({ ...dictionary, template: 'pg_catalog.simple', options: null })).toBe(
      'CREATE TEXT SEARCH DICTIONARY public.unaccent_names (TEMPLATE = pg_catalog.simple);',
    )
  })
})

describe('renderTsConfiguration', () => {
  it('creates from the parser, then maps each token type to its dictionaries in order', () => {
    expect(renderTsConfiguration(configuration)).toEqual([
      'CREATE TEXT SEARCH CONFIGURATION public.english_unaccent (PARSER = pg_catalog."default");',
      'ALTER TEXT SEARCH CONFIGURATION public.english_unaccent ADD MAPPING FOR asciiword WITH pg_catalog.english_stem;',
      'ALTER TEXT SEARCH CONFIGURATION public.english_unaccent ADD MAPPING FOR word WITH public.unaccent_names, pg_catalog.english_stem;',
    ])
  })

  it('a configuration without mappings is its CREATE alone', () => {
    expect(renderTsConfiguration({ ...configuration, mappings: [] })).toHaveLength(1)
  })
})

const SCHEMA_SQL = [
  renderTsDictionary(dictionary),
  ...renderTsConfiguration(configuration),
  "CREATE TABLE public.articles (id integer NOT NULL, body text, words tsvector GENERATED ALWAYS AS (to_tsvector('public.english_unaccent'::regconfig, body)) STORED);",
  'CREATE TABLE public.other (id integer);',
  'ALTER TEXT SEARCH DICTIONARY public.unaccent_names OWNER TO search_owner;',
  'ALTER TEXT SEARCH CONFIGURATION public.english_unaccent OWNER TO search_owner;',
  "COMMENT ON TEXT SEARCH DICTIONARY public.unaccent_names IS 'accents off';",
  "COMMENT ON TEXT SEARCH CONFIGURATION public.english_unaccent IS 'English, accents off';",
].join('\n')

describe('the restore allowlist on text search DDL', () => {
  it('allows each statement and says what it is about', async () => {
    const inspection = await inspectSchemaSql(SCHEMA_SQL, { schemas: ['public'] })
    const described = inspection.statements.map((s) => [
      s.kind,
      s.action,
      `${s.object?.schema}.${s.object?.name}`,
    ])
    expect(described).toEqual([
      ['text-search', 'create', 'public.unaccent_names'],
      ['text-search', 'create', 'public.english_unaccent'],
      ['text-search', 'alter', 'public.english_unaccent'],
      ['text-search', 'alter', 'public.english_unaccent'],
      ['table', 'create', 'public.articles'],
      ['table', 'create', 'public.other'],
      ['text-search', 'owner', 'public.unaccent_names'],
      ['text-search', 'owner', 'public.english_unaccent'],
      ['text-search', 'comment', 'public.unaccent_names'],
      ['text-search', 'comment', 'public.english_unaccent'],
    ])
    expect(inspection.statements.slice(0, 4).every((s) => s.phase === 'pre-data')).toBe(true)
    expect(inspection.roles).toEqual(['search_owner'])
  })

  it('a -t subset of the table brings the configuration and the dictionaries its mappings use', async () => {
    const inspection = await inspectSchemaSql(SCHEMA_SQL, { schemas: ['public'] })
    const subset = statementsForTables(inspection.statements, [{ schema: 'public', name: 'articles' }])
    expect(subset.missing).toEqual([])
    expect(subset.statements.map((s) => s.text.split(' (')[0])).toEqual([
      'CREATE TEXT SEARCH DICTIONARY public.unaccent_names',
      'CREATE TEXT SEARCH CONFIGURATION public.english_unaccent',
      'ALTER TEXT SEARCH CONFIGURATION public.english_unaccent ADD MAPPING FOR asciiword WITH pg_catalog.english_stem',
      'ALTER TEXT SEARCH CONFIGURATION public.english_unaccent ADD MAPPING FOR word WITH public.unaccent_names, pg_catalog.english_stem',
      'CREATE TABLE public.articles',
      'ALTER TEXT SEARCH DICTIONARY public.unaccent_names OWNER TO search_owner',
      'ALTER TEXT SEARCH CONFIGURATION public.english_unaccent OWNER TO search_owner',
      "COMMENT ON TEXT SEARCH DICTIONARY public.unaccent_names IS 'accents off'",
      "COMMENT ON TEXT SEARCH CONFIGURATION public.english_unaccent IS 'English, accents off'",
    ])
  })

  it('refuses other ALTER TEXT SEARCH CONFIGURATION forms, and changes outside the backup', async () => {
    await expect(
      inspectSchemaSql('ALTER TEXT SEARCH CONFIGURATION public.c DROP MAPPING FOR word;'),
    ).rejects.toMatchObject({ code: 'SCHEMA_SQL_REFUSED' })
    await expect(
      inspectSchemaSql(
        'ALTER TEXT SEARCH CONFIGURATION pg_catalog.english ADD MAPPING FOR word WITH simple;',
      ),
    ).rejects.toMatchObject({ code: 'SCHEMA_SQL_REFUSED', message: /system schema pg_catalog/ })
    await expect(
      inspectSchemaSql('ALTER TEXT SEARCH CONFIGURATION other.c ADD MAPPING FOR word WITH simple;', {
        schemas: ['public'],
      }),
    ).rejects.toMatchObject({
      code: 'SCHEMA_SQL_REFUSED',
      message: /schema other, which the backup does not hold/,
    })
  })
})
