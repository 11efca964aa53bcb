// The Supabase target's pure decisions: recognising a project, comparing the services'
// migration ledgers, which schema.sql statements run, and the plan it carries out.
import { describe, expect, it } from 'vitest'
import type { Manifest, TableEntry } from '../../lib/archive/manifest.ts'
import { compareLedgers, supabaseMarkers } from '../../lib/core/supabase-platform.ts'
import { planSupabaseRestore } from '../../lib/restore/supabase/plan.ts'
import { appStatementFilter } from '../../lib/restore/supabase/schema-filter.ts'
import type { RestorePlan } from '../../lib/restore/target.ts'
import { inspectSchemaSql } from '../../lib/trust/inspect-schema-sql.ts'
import type { SchemaStatement } from '../../lib/trust/schema-statements.ts'

function table(schema: string, name: string): TableEntry {
  return {
    schema,
    name,
    file: `data/${schema}.${name}.ndjson`,
    rows: 1,
    bytes: 10,
    sha256: '0'.repeat(64),
    columns: [{ name: 'id', type: 'integer', nullable: false, identity: null, generated: false }],
    primaryKey: ['id'],
    foreignKeys: [],
    kind: 'r',
  }
}

function planOf(tables: TableEntry[], createSchema = false): RestorePlan {
  const manifest = { id: 'backup-x', tables, sequences: [], source: {} } as unknown as Manifest
  return {
    manifest,
    tables,
    sequences: [],
    schemaSql: undefined,
    createSchema,
    truncate: false,
    verify: true,
  }
}

const project = {
  extensions: new Set(['pgcrypto', 'uuid-ossp']),
  publications: new Set(['supabase_realtime']),
}

describe('recognising a Supabase project', () => {
  it('needs the auth schema and every marker role', () => {
    const roles = ['anon', 'authenticated', 'service_role', 'supabase_auth_admin']
    expect(supabaseMarkers({ authSchema: true, roles })).toEqual({ detected: true, missing: [] })
  })

  it('names what a plain database lacks', () => {
    expect(supabaseMarkers({ authSchema: false, roles: ['anon'] }).missing).toEqual([
      'schema auth',
      'role authenticated',
      'role service_role',
      'role supabase_auth_admin',
    ])
  })
})

describe('comparing migration ledgers', () => {
  const backup = [{ table: 'auth.schema_migrations', applied: ['001', '002', '003'] }]

  it('accepts a target that has applied everything the backup had, and more', () => {
    expect(
      compareLedgers(backup, new Map([['auth.schema_migrations', ['001', '002', '003', '004']]])),
    ).toEqual([])
  })

  it('refuses a backup from a newer release, naming its newest migration', () => {
    const problems = compareLedgers(backup, new Map([['auth.schema_migrations', ['001']]]))
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/newer Supabase Auth.*2 migrations.*newest 003/)
  })

  it('refuses a target without the ledger table', () => {
    expect(compareLedgers(backup, new Map([['auth.schema_migrations', undefined]]))[0]).toMatch(/missing/)
  })
})

async function statements(sql: string): Promise<SchemaStatement[]> {
  return (await inspectSchemaSql(sql)).statements
}

describe('the schema.sql statements a Supabase restore runs', () => {
  const keep = appStatementFilter(project)
  const kept = async (sql: string) => (await statements(sql)).filter(keep).map((s) => s.text.split(' ')[0])

  it('leaves out what the managed schemas hold', async () => {
    const sql = `CREATE SCHEMA IF NOT EXISTS auth;
      CREATE TYPE auth.aal_level AS ENUM ('aal1');
      CREATE TABLE auth.users (id uuid);
      CREATE TABLE storage.objects (id uuid);
      COMMENT ON TABLE auth.users IS 'x';`
    expect(await kept(sql)).toEqual([])
  })

  it("keeps the app's objects, including its foreign keys into managed tables", async () => {
    const sql = `CREATE TABLE public.profiles (id uuid);
      ALTER TABLE ONLY public.profiles ADD CONSTRAINT profiles_id_fkey FOREIGN KEY (id) REFERENCES auth.users(id);`
    expect(await kept(sql)).toEqual(['CREATE', 'ALTER'])
  })

  it("keeps the app's trigger on a managed table when its function is the app's", async () => {
    const sql = `-- lifeboat:post-data
      CREATE TRIGGER on_auth_user_created AFTER INSERT ON auth.users FOR EACH ROW EXECUTE FUNCTION public.handle_new_user();
      CREATE TRIGGER audit AFTER INSERT ON auth.users FOR EACH ROW EXECUTE FUNCTION auth.log_it();`
    const names = (await statements(sql)).filter(keep).map((s) => s.object?.name)
    expect(names).toEqual(['on_auth_user_created'])
  })

  it('adds tables to a publication the project has, without re-creating it', async () => {
    const sql = `-- lifeboat:post-data
      CREATE PUBLICATION supabase_realtime;
      ALTER PUBLICATION supabase_realtime ADD TABLE ONLY public.messages;`
    expect(await kept(sql)).toEqual(['ALTER'])
  })

  it('creates a missing extension and leaves those the project has as they are', async () => {
    const sql = `CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA extensions;
      COMMENT ON EXTENSION pgcrypto IS 'x';
      COMMENT ON EXTENSION citext IS 'y';`
    expect((await statements(sql)).filter(keep).map((s) => s.text.slice(0, 30))).toEqual([
      'CREATE EXTENSION IF NOT EXISTS',
      'COMMENT ON EXTENSION citext IS',
    ])
  })
})

describe('the plan of a restore into a Supabase project', () => {
  const users = table('auth', 'users')
  const ledger = table('auth', 'schema_migrations')
  const profiles = table('public', 'profiles')

  it('compares the ledgers instead of loading them', () => {
    const { plan, ledgers } = planSupabaseRestore(planOf([users, ledger, profiles]), project, new Set())
    expect(plan.tables.map((t) => t.name)).toEqual(['users', 'profiles'])
    expect(ledgers).toEqual(['auth.schema_migrations'])
  })

  it("creates the app's schemas when the project has none of its tables", () => {
    const { plan } = planSupabaseRestore(planOf([users, profiles]), project, new Set())
    expect(plan.createSchema).toBe(true)
    expect([...(plan.existingTables ?? [])]).toEqual(['auth.users'])
  })

  it("loads into the app's tables when the project has all of them", () => {
    const { plan } = planSupabaseRestore(planOf([users, profiles]), project, new Set(['public.profiles']))
    expect(plan.createSchema).toBe(false)
  })

  it("makes only the app's privileges the source's, never the managed schemas'", () => {
    const { plan } = planSupabaseRestore(planOf([users, profiles]), project, new Set())
    expect(plan.keepAccess?.({ schema: 'public', kind: 'table' })).toBe(true)
    expect(plan.keepAccess?.({ schema: 'auth', kind: 'table' })).toBe(false)
    expect(plan.keepAccess?.({ schema: 'storage', kind: 'schema' })).toBe(false)
  })

  it('creates nothing for a backup of managed schemas only', () => {
    expect(planSupabaseRestore(planOf([users]), project, new Set()).plan.createSchema).toBe(false)
  })
})
