// The pure parts of schema.sql generation: pg_dump discovery and output cleanup, and
// the dependency ordering of the catalog path.
import { describe, expect, it } from 'vitest'
import { orderNodes, type PlanNode } from '../../lib/adapters/postgres/schema-from-catalog.ts'
import {
  cleanPgDumpOutput,
  parsePgDumpVersion,
  pgDumpSchemaPattern,
  serverMajor,
  splitConnectionUrl,
} from '../../lib/adapters/postgres/schema-sql.ts'

describe('pg_dump helpers', () => {
  it('reads versions as pg_dump prints them', () => {
    expect(parsePgDumpVersion('pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n')).toEqual({
      version: '15.18',
      major: 15,
    })
    expect(parsePgDumpVersion('pg_dump (PostgreSQL) 17.2')).toEqual({ version: '17.2', major: 17 })
    expect(parsePgDumpVersion('pg_dump (PostgreSQL) 18beta1')).toEqual({ version: '18', major: 18 })
    expect(parsePgDumpVersion('bash: pg_dump: not found')).toBeUndefined()
    expect(serverMajor(150018)).toBe(15)
    expect(serverMajor(170000)).toBe(17)
  })

  it('quotes -n patterns so every character is literal', () => {
    expect(pgDumpSchemaPattern('public')).toBe('"public"')
    expect(pgDumpSchemaPattern('My Schema')).toBe('"My Schema"')
    expect(pgDumpSchemaPattern('quo"te')).toBe('"quo""te"')
    expect(pgDumpSchemaPattern('a.b*')).toBe('"a.b*"')
  })

  it('takes the password out of the URL (user info or query)', () => {
    expect(
      splitConnectionUrl('postgresql://app:p%40ss%3Aw0rd@db.example.com:5432/postgres?sslmode=require'),
    ).toEqual({
      dbname: 'postgresql://app@db.example.com:5432/postgres?sslmode=require',
      password: 'p@ss:w0rd',
    })
    expect(splitConnectionUrl('postgres://app@localhost/db?password=secret&sslmode=disable')).toEqual({
      dbname: 'postgres://app@localhost/db?sslmode=disable',
      password: 'secret',
    })
    expect(splitConnectionUrl('postgres://localhost/db').password).toBeUndefined()
  })

  it('cleans pg_dump output for any client and an existing database', () => {
    const dump = [
      '--',
      '-- PostgreSQL database dump',
      '--',
      '',
      '\\restrict AbC123',
      '',
      '--',
      '-- Name: My Schema; Type: SCHEMA; Schema: -; Owner: -',
      '--',
      '',
      'CREATE SCHEMA "My Schema";',
      '',
      '--',
      '-- Name: public; Type: SCHEMA; Schema: -; Owner: -',
      '--',
      '',
      'CREATE SCHEMA public;',
      '',
      '--',
      '-- Name: SCHEMA public; Type: COMMENT; Schema: -; Owner: -',
      '--',
      '',
      "COMMENT ON SCHEMA public IS 'standard public schema';",
      '',
      'CREATE FUNCTION public.f() RETURNS void LANGUAGE plpgsql AS $$',
      'BEGIN',
      'CREATE SCHEMA other;',
      'END $$;',
      '',
      '\\unrestrict AbC123',
      '',
    ].join('\n')
    const clean = cleanPgDumpOutput(dump)
    expect(clean).not.toMatch(/^\\/m)
    expect(clean).toContain('CREATE SCHEMA IF NOT EXISTS "My Schema";')
    expect(clean).not.toContain('CREATE SCHEMA public;')
    expect(clean).not.toContain("COMMENT ON SCHEMA public IS 'standard public schema';")
    // Only pg_dump's own entries change, never text inside a function body.
    expect(clean).toContain('BEGIN\nCREATE SCHEMA other;\nEND $$;')
  })
})

describe('orderNodes', () => {
  const node = (key: string, phase: number, order: number, deps: string[] = [], missing: string[] = []) =>
    ({ key, phase, order, label: key, statements: [key], deps: new Set(deps), missing }) as PlanNode

  it('orders by phase, lets dependencies win over phases, and skips what depends on missing objects', () => {
    const nodes = new Map(
      [
        node('table', 4, 10, ['fn-default']),
        node('fn-default', 2, 20),
        node('fn-setof', 2, 5, ['table']),
        node('type', 1, 30),
        node('view-on-missing', 5, 40, [], ['it depends on table x.gone, which is not part of this run']),
        node('trigger-on-view', 10, 50, ['view-on-missing']),
      ].map((n) => [n.key, n]),
    )
    const warnings: string[] = []
    expect(orderNodes(nodes, warnings).map((n) => n.key)).toEqual(['type', 'fn-default', 'table', 'fn-setof'])
    expect(warnings).toEqual([
      'view-on-missing skipped: it depends on table x.gone, which is not part of this run',
      'trigger-on-view skipped: it depends on view-on-missing, which is skipped',
    ])
  })

  it('breaks a cycle at its earliest node instead of dropping objects', () => {
    const nodes = new Map(
      [node('a', 2, 1, ['b']), node('b', 2, 2, ['a']), node('c', 1, 3)].map((n) => [n.key, n]),
    )
    const warnings: string[] = []
    expect(orderNodes(nodes, warnings).map((n) => n.key)).toEqual(['c', 'a', 'b'])
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('dependency cycle around a')
  })
})
