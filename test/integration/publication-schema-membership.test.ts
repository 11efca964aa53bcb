// Whole-schema publication membership (`ALTER PUBLICATION … ADD TABLES IN SCHEMA`, 15+)
// is not reproduced by schema.sql (it needs a superuser on the target, which a Supabase
// project's postgres is not): the backup names it in the manifest's schemaSql.omitted and
// in schema.sql's header, on both generation paths, on PostgreSQL 15 and 17, while the
// publication's single-table memberships are reproduced as usual.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PostgresMajor } from '../../lib/adapters/postgres/throwaway.ts'
import { plainServerUrl } from '../helpers/clusters.ts'
import { sql, urlOn } from '../helpers/database.ts'
import { generateFrom } from '../helpers/structure-fixture.ts'

const CASES: { major: PostgresMajor; paths: readonly ('catalog' | 'pg_dump')[] }[] = [
  { major: 15, paths: ['catalog', 'pg_dump'] },
  { major: 17, paths: ['catalog'] },
]

/** A source whose `events` schema is published whole, and one table of public by itself. */
const SOURCE_SQL = `
CREATE SCHEMA events;
CREATE TABLE events.clicks (id bigint PRIMARY KEY, at timestamptz NOT NULL);
CREATE TABLE public.orders (id bigint PRIMARY KEY, note text);
CREATE PUBLICATION feed FOR TABLES IN SCHEMA events;
ALTER PUBLICATION feed ADD TABLE public.orders;
`

describe.each(CASES)('whole-schema publication membership on PostgreSQL $major', ({ major, paths }) => {
  const database = `pubschema_${major}_${process.pid}`
  let server: string
  let source: string

  beforeAll(async () => {
    server = plainServerUrl(major)
    await sql(server, `CREATE DATABASE ${database}`)
    source = urlOn(server, database)
    await sql(source, SOURCE_SQL)
  })
  afterAll(async () => {
    await sql(server, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
  })

  for (const prefer of paths) {
    it(`${prefer} path: listed in schemaSql.omitted and schema.sql's header, never silently dropped`, async () => {
      const generated = await generateFrom(source, { schemas: ['events', 'public'], prefer })
      expect(generated.source).toMatch(prefer === 'catalog' ? /^catalog$/ : /^pg_dump 15\./)
      expect(generated.capture.schema.omitted).toEqual([
        {
          kind: 'publication membership',
          name: 'feed (TABLES IN SCHEMA events)',
          reason: expect.stringContaining('needs a superuser on the target'),
        },
      ])
      const header = generated.sql.split('\n').filter((line) => line.startsWith('--'))
      expect(header).toContain('-- Not reproduced (also listed in the manifest, schemaSql.omitted):')
      expect(
        header.some((line) => line.startsWith('--   publication membership feed (TABLES IN SCHEMA events):')),
      ).toBe(true)
      // The backup's report says it too; the single-table membership is reproduced.
      expect(generated.warnings.join('\n')).toContain('publication membership feed (TABLES IN SCHEMA events)')
      expect(generated.sql).toContain('ALTER PUBLICATION feed ADD TABLE ONLY public.orders;')
      expect(generated.sql).not.toMatch(/^ALTER PUBLICATION feed ADD TABLES IN SCHEMA/m)
    })
  }

  it('a publication of only single tables lists nothing', async () => {
    await sql(source, 'ALTER PUBLICATION feed DROP TABLES IN SCHEMA events')
    try {
      const generated = await generateFrom(source, { schemas: ['events', 'public'], prefer: 'catalog' })
      expect(generated.capture.schema.omitted).toEqual([])
    } finally {
      await sql(source, 'ALTER PUBLICATION feed ADD TABLES IN SCHEMA events')
    }
  })
})
