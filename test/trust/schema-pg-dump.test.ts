// Real schema.sql, classified: pg_dump 15 --schema-only of a rich database (owners and
// privileges included), and both paths of Lifeboat's own generator. Every statement is
// allowed and described; run one by one with an xid check, they rebuild the schema.
import { execFileSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSchemaSql } from '../../lib/adapters/postgres/schema-sql.ts'
import { createSampleData } from '../../lib/demo/sample-data.ts'
import { inspectSchemaSql } from '../../lib/trust/inspect-schema-sql.ts'
import type { SchemaInspection } from '../../lib/trust/schema-statements.ts'
import { createDatabase, dropDatabase, withClient } from '../helpers/database.ts'
import { RICH_ROLES, RICH_ROLES_SQL, RICH_SCHEMA_SQL } from './fixtures/rich-schema.ts'

const PG_DUMP = '/usr/lib/postgresql/15/bin/pg_dump'
const SCHEMAS = ['app', 'auth', 'public']
const databases: string[] = []
let source: { name: string; url: string }

beforeAll(async () => {
  source = await createDatabase('rich_schema')
  databases.push(source.name)
  await withClient(source.url, async (client) => {
    await createSampleData(client, { metricsRows: 20 })
    await client.query(RICH_ROLES_SQL)
    await client.query(RICH_SCHEMA_SQL)
  })
}, 120_000)

afterAll(async () => {
  for (const name of databases) await dropDatabase(name).catch(() => undefined)
})

function kinds(inspection: SchemaInspection): Set<string> {
  return new Set(inspection.statements.map((s) => `${s.kind}:${s.action}`))
}

async function generated(prefer: 'pg_dump' | 'catalog') {
  return withClient(source.url, async (client) => {
    const version = Number((await client.query('SHOW server_version_num')).rows[0].server_version_num)
    const result = await generateSchemaSql(client, {
      schemas: SCHEMAS,
      connection: { url: { reveal: () => source.url } as never, serverVersionNum: version },
      prefer,
    })
    return result
  })
}

describe('pg_dump 15 --schema-only, owners and privileges included', () => {
  let dump: string
  let inspection: SchemaInspection

  beforeAll(async () => {
    dump = execFileSync(PG_DUMP, ['--schema-only', `--dbname=${source.url}`]).toString()
    inspection = await inspectSchemaSql(dump, { schemas: SCHEMAS })
  })

  it('allows every statement and classifies each', () => {
    expect(inspection.statements.length).toBeGreaterThan(150)
    expect(inspection.statements.every((s) => s.kind && s.action && s.phase)).toBe(true)
  })

  it('recognises every kind of object the schema holds', () => {
    const seen = kinds(inspection)
    for (const kind of [
      'schema:create',
      'extension:create',
      'domain:create',
      'type:create',
      'table:create',
      'sequence:create',
      'function:create',
      'procedure:create',
      'aggregate:create',
      'operator:create',
      'view:create',
      'materialized-view:create',
      'index:create',
      'constraint:create',
      'trigger:create',
      'rule:create',
      'policy:create',
      'statistics:create',
      'publication:create',
      'publication:alter',
      'table:grant',
      'function:revoke',
      'default-privileges:grant',
      'table:owner',
      'function:owner',
      'table:comment',
      'setting:set',
    ]) {
      expect(seen, kind).toContain(kind)
    }
  })

  it('keeps a procedure that COMMITs inside its dollar-quoted body as one statement', () => {
    const settle = inspection.statements.find((s) => s.object?.name === 'settle' && s.action === 'create')!
    expect(settle.kind).toBe('procedure')
    expect(settle.text).toContain('COMMIT;')
    expect(settle.text).toContain('ROLLBACK;')
  })

  it('names the roles that own and are granted objects, and what each statement is about', () => {
    expect(inspection.roles).toEqual(expect.arrayContaining([...RICH_ROLES, 'postgres']))
    const policy = inspection.statements.find((s) => s.kind === 'policy' && s.action === 'create')!
    expect(policy).toMatchObject({ table: { schema: 'app', name: 'accounts' }, roles: ['lb_app_reader'] })
    const secret = inspection.statements.find((s) => s.object?.name === 'secret' && s.action === 'create')!
    expect(secret.securityDefiner).toBe(true)
    const accounts = inspection.statements.find((s) => s.kind === 'table' && s.object?.name === 'accounts')!
    expect(accounts.references.map((r) => `${r.schema}.${r.name}`)).toEqual(
      expect.arrayContaining(['app.email', 'app.mood', 'app.ticket_seq']),
    )
  })
})

describe('Lifeboat’s schema.sql', () => {
  it.each(['pg_dump', 'catalog'] as const)(
    'from the %s path: every statement allowed, the marker agreeing',
    async (prefer) => {
      const result = await generated(prefer)
      expect(result.source.startsWith(prefer === 'pg_dump' ? 'pg_dump' : 'catalog')).toBe(true)
      const inspection = await inspectSchemaSql(result.sql, { schemas: SCHEMAS })
      expect(inspection.markerLine).toBeDefined()
      expect(inspection.preData.some((s) => s.kind === 'table' && s.action === 'create')).toBe(true)
      expect(inspection.postData.length).toBeGreaterThan(10)
      expect(inspection.postData.every((s) => s.phase !== 'pre-data')).toBe(true)
      expect(inspection.postData.filter((s) => s.kind === 'trigger' && s.action === 'create')).toHaveLength(1)
    },
  )

  it('rebuilds the schema when run statement by statement in one transaction, the xid checked after each', async () => {
    const { sql } = await generated('pg_dump')
    const inspection = await inspectSchemaSql(sql, { schemas: SCHEMAS })
    const target = await createDatabase('rich_target')
    databases.push(target.name)
    await withClient(target.url, async (client) => {
      await client.query('BEGIN')
      const xid = (await client.query('SELECT pg_catalog.txid_current()::text AS x')).rows[0].x
      for (const statement of inspection.statements) {
        // The extended protocol refuses a text holding two commands: a second guard.
        await client.query({ text: statement.text, queryMode: 'extended' } as never)
        const now = (await client.query('SELECT pg_catalog.txid_current()::text AS x')).rows[0].x
        expect(now, `after line ${statement.line}`).toBe(xid)
      }
      await client.query('COMMIT')
      const tables = await client.query(
        "SELECT count(*)::int AS n FROM pg_catalog.pg_tables WHERE schemaname IN ('app', 'auth', 'public')",
      )
      expect(tables.rows[0].n).toBeGreaterThan(15)
    })
  })
})
