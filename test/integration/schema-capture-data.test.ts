// What the backup records about structure and access, as data: the manifest's access,
// roles and schema notes match the source's catalogs exactly; the ACL diff makes a
// target's privileges equal to them on a real server; -t covers the named tables and
// what they need; the backup job writes roles.sql and says what schema.sql leaves out.
import { mkdtempSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readCatalog } from '../../lib/adapters/postgres/catalog.ts'
import { startThrowawayPostgres } from '../../lib/adapters/postgres/throwaway.ts'
import { openStore } from '../../lib/adapters/store/open-store.ts'
import { type AccessObject, aclObjectOf, aclSideOf } from '../../lib/archive/access.ts'
import { sqlIdent } from '../../lib/archive/acl.ts'
import { aclStatementsSql, diffAcl } from '../../lib/archive/acl-diff.ts'
import { parseManifest } from '../../lib/archive/manifest.ts'
import { selectEverything } from '../../lib/core/selection.ts'
import { sampleRoles } from '../../lib/demo/sample-structure.ts'
import { readSidecar } from '../../lib/inventory/read-inventory.ts'
import { extractWithTar, sha256sumCheck } from '../helpers/archive.ts'
import { createDatabase, dropDatabase, serverUrl, sql, withClient } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { describeStructure } from '../helpers/structure.ts'
import { buildStructureSource, generateFrom, PLATFORM_AUTH, psqlFile } from '../helpers/structure-fixture.ts'

const ROLES = sampleRoles(`data${process.pid}`)
const ROLE_NAMES = [...Object.values(ROLES), 'postgres']
const SCHEMAS = ['app', 'public']
const created: string[] = []
let source: { name: string; url: string }
let generated: Awaited<ReturnType<typeof generateFrom>>

beforeAll(async () => {
  source = await createDatabase('capture_data')
  created.push(source.name)
  await buildStructureSource(source.url, ROLES, true)
  generated = await generateFrom(source.url, { schemas: SCHEMAS, prefer: 'catalog' })
})

afterAll(async () => {
  for (const name of created) await dropDatabase(name)
  await sql(serverUrl(), `DROP ROLE IF EXISTS ${Object.values(ROLES).join(', ')}`)
})

const objectOf = (ident: string) => generated.capture.access.objects.find((o) => o.ident === ident)!

describe('the access data', () => {
  it('holds every ACL exactly as the catalogs do, NULL included', async () => {
    const { rows } = await sql(
      source.url,
      `SELECT c.oid::regclass::text AS ident, c.relacl::text[] AS acl, pg_get_userbyid(c.relowner) AS owner
         FROM pg_class c WHERE c.relnamespace IN ('public'::regnamespace, 'app'::regnamespace)
          AND c.relkind IN ('r', 'p', 'v', 'm', 'S') ORDER BY 1`,
    )
    for (const row of rows) {
      const ident = row.ident.includes('.') ? row.ident : `public.${row.ident}`
      expect(objectOf(ident), ident).toMatchObject({ owner: row.owner, acl: row.acl })
    }
    expect(objectOf('public.permissions').acl?.some((a) => a.startsWith(`${ROLES.api}=`))).toBe(false)
    expect(objectOf('public.never_filled')).toMatchObject({ kind: 'materialized view' })
  })

  it('holds column privileges, RLS flags, routines by regprocedure and types', () => {
    expect(objectOf('public.devices').columns).toEqual([
      { name: 'id', acl: [`${ROLES.writer}=r/postgres`] },
      { name: 'serial_number', acl: [`${ROLES.writer}=r/postgres`] },
      { name: 'status', acl: [`${ROLES.writer}=rw/postgres`] },
    ])
    expect(objectOf('public.messages').rowSecurity).toEqual({ enabled: true, forced: true })
    expect(objectOf('public.handle_new_user()')).toMatchObject({
      kind: 'function',
      owner: ROLES.owner,
      acl: [`${ROLES.owner}=X/${ROLES.owner}`],
    })
    expect(objectOf('public.kwh_total(numeric)')).toMatchObject({ kind: 'aggregate', arguments: 'numeric' })
    expect(objectOf('public.device_status')).toMatchObject({
      kind: 'type',
      acl: ['postgres=U/postgres', `${ROLES.reader}=U/postgres`, `${ROLES.api}=U/postgres`],
    })
    expect(objectOf('public.ticket_seq').ownedByColumn).toBeUndefined()
    expect(objectOf('public.permissions_id_seq').ownedByColumn).toBe(true)
  })

  it('holds policies, default privileges and publication membership', () => {
    const { policies, defaultAcls, publications } = generated.capture.access
    expect(policies.filter((p) => p.table === 'profiles').map((p) => [p.name, p.command, p.roles])).toEqual([
      ['profiles are readable by their owner', 'SELECT', [ROLES.api]],
      ['profiles made by the trigger', 'INSERT', [ROLES.owner]],
      ['writers update', 'UPDATE', [ROLES.reader, ROLES.writer].sort()],
    ])
    expect(policies.find((p) => p.name === 'members read')).toMatchObject({
      roles: ['public'],
      using: 'true',
    })
    expect(defaultAcls).toContainEqual({
      role: ROLES.owner,
      schema: null,
      objectType: 'functions',
      acl: [`${ROLES.owner}=X/${ROLES.owner}`],
    })
    expect(defaultAcls).toContainEqual({
      role: ROLES.owner,
      schema: 'app',
      objectType: 'tables',
      acl: [`${ROLES.reader}=r/${ROLES.owner}`],
    })
    expect(publications).toEqual([
      {
        name: 'lifeboat_sample',
        owner: 'postgres',
        allTables: false,
        publish: { insert: true, update: true, delete: true, truncate: true },
        viaPartitionRoot: false,
        tables: [
          { schema: 'public', table: 'conversations', columns: null, rowFilter: null },
          {
            schema: 'public',
            table: 'devices',
            columns: ['id', 'kind', 'status'],
            rowFilter: "(kind <> 'gateway'::text)",
          },
          { schema: 'public', table: 'messages', columns: null, rowFilter: null },
        ],
        schemas: [],
      },
    ])
  })

  it('names the custom roles with their attributes and memberships, and skips the platform’s', () => {
    const { roles } = generated.capture
    expect(roles.roles.map((r) => r.name).sort()).toEqual(Object.values(ROLES).sort())
    expect(roles.roles.find((r) => r.name === ROLES.login)).toMatchObject({
      login: true,
      connectionLimit: 5,
      validUntil: '2030-01-01T00:00:00Z',
      settings: [{ database: null, setting: 'search_path="$user", public' }],
      superuser: false,
    })
    expect(roles.roles.find((r) => r.name === ROLES.owner)?.comment).toBe('owns the application')
    expect(roles.memberships).toContainEqual(
      expect.objectContaining({ role: ROLES.reader, member: ROLES.writer, admin: true }),
    )
    expect(roles.skipped).toContainEqual({ name: 'postgres', reason: 'created by Supabase in every project' })
    expect(generated.capture.rolesSql).not.toMatch(/PASSWORD\s+'|SCRAM-SHA-256\$|md5[0-9a-f]{32}/)
  })

  it('records the trigger on auth.users, the refresh order and the extensions', () => {
    const { schema } = generated.capture
    expect(schema.managedTableTriggers).toEqual([
      expect.objectContaining({
        schema: 'auth',
        table: 'users',
        name: 'on_auth_user_created',
        function: 'public.handle_new_user()',
        tableBackedUp: false,
      }),
    ])
    expect(schema.managedTableTriggers[0]!.sql).toMatch(
      /^CREATE OR REPLACE TRIGGER on_auth_user_created AFTER INSERT/,
    )
    expect(schema.materializedViews).toEqual([
      { schema: 'public', name: 'building_energy', populated: true },
      { schema: 'public', name: 'energy_ranking', populated: true },
      { schema: 'public', name: 'never_filled', populated: false },
    ])
    expect(schema.extensions).toEqual([
      expect.objectContaining({ name: 'pg_trgm', schema: 'extensions', required: true }),
      expect.objectContaining({ name: 'uuid-ossp', schema: 'extensions', required: false }),
    ])
  })
})

/** The target's owner and ACLs of an object, as diffAcl reads them. */
async function currentAcl(url: string, object: AccessObject) {
  return withClient(url, async (client) => {
    await client.query("SET search_path TO ''")
    const version = Number((await client.query('SHOW server_version_num')).rows[0].server_version_num)
    const lookup: Record<string, string> = {
      schema: `SELECT pg_get_userbyid(nspowner) AS owner, nspacl::text[] AS acl FROM pg_namespace WHERE oid = to_regnamespace($1)`,
      table: `SELECT pg_get_userbyid(relowner) AS owner, relacl::text[] AS acl FROM pg_class WHERE oid = to_regclass($1)`,
      sequence: `SELECT pg_get_userbyid(relowner) AS owner, relacl::text[] AS acl FROM pg_class WHERE oid = to_regclass($1)`,
      function: `SELECT pg_get_userbyid(proowner) AS owner, proacl::text[] AS acl FROM pg_proc WHERE oid = to_regprocedure($1)`,
      type: `SELECT pg_get_userbyid(typowner) AS owner, typacl::text[] AS acl FROM pg_type WHERE oid = to_regtype($1)`,
    }
    const { kind } = aclObjectOf(object)
    const row = (await client.query(lookup[kind]!, [object.ident])).rows[0]
    const columns = await client.query(
      `SELECT attname AS name, attacl::text[] AS acl FROM pg_attribute
        WHERE attrelid = to_regclass($1) AND attnum > 0 AND attacl IS NOT NULL`,
      [kind === 'table' ? object.ident : null],
    )
    return {
      owner: row.owner as string,
      acl: row.acl as string[] | null,
      columns: Object.fromEntries(columns.rows.map((c) => [c.name, c.acl])),
      serverVersionNum: version,
    }
  })
}

describe('diffAcl against a real server', () => {
  it('makes every object’s privileges equal to the source’s, whatever the target did to them', async () => {
    const target = await createDatabase('capture_diff')
    created.push(target.name)
    await sql(target.url, PLATFORM_AUTH)
    await psqlFile(target.url, generated.sql, 'schema.sql')
    // Privileges drift the way a target's defaults, or hands, would move them.
    await sql(
      target.url,
      `GRANT ALL ON ALL TABLES IN SCHEMA public TO ${ROLES.api} WITH GRANT OPTION;
       GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO PUBLIC;
       GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO PUBLIC;
       REVOKE ALL ON public.buildings FROM ${ROLES.reader} CASCADE;
       GRANT UPDATE (email) ON public.profiles TO ${ROLES.login};
       REVOKE UPDATE (status) ON public.devices FROM ${ROLES.writer};
       GRANT CREATE ON SCHEMA app TO PUBLIC;
       GRANT USAGE ON TYPE public.device_status TO PUBLIC;`,
    )
    const { access } = generated.capture
    let statements = 0
    for (const object of access.objects) {
      const current = await currentAcl(target.url, object)
      const wanted = aclSideOf(object, access)
      const diff = diffAcl(aclObjectOf(object), wanted, current)
      statements += diff.length
      for (const text of aclStatementsSql(diff, sqlIdent)) await sql(target.url, text)
      expect(
        diffAcl(aclObjectOf(object), wanted, await currentAcl(target.url, object)),
        object.ident,
      ).toEqual([])
    }
    expect(statements).toBeGreaterThan(20)
    const facts = (lines: string[]) => lines.filter((l) => /^(owner|acl|column acl) /.test(l))
    expect(facts(await describeStructure(target.url, SCHEMAS, ROLE_NAMES))).toEqual(
      facts(await describeStructure(source.url, SCHEMAS, ROLE_NAMES)),
    )
  })
})

describe('-t', () => {
  it('covers the named tables and what they need, standalone sequences included', async () => {
    const tables = ['public.purchase_orders', 'public.profiles']
    const subset = await generateFrom(source.url, { schemas: ['public'], tables })
    const idents = subset.capture.access.objects.map((o) => `${o.kind} ${o.ident}`).sort()
    expect(idents).toEqual([
      'schema public',
      'sequence public.purchase_orders_id_seq',
      'sequence public.ticket_seq',
      'table public.profiles',
      'table public.purchase_orders',
    ])
    expect(subset.sql).not.toContain('FUNCTION public.handle_new_user')
    expect(subset.sql).not.toContain('AGGREGATE public.kwh_total')
    const target = await createDatabase('capture_subset')
    created.push(target.name)
    await sql(target.url, PLATFORM_AUTH)
    await psqlFile(target.url, subset.sql, 'schema.sql')
    const made = await sql(
      target.url,
      `SELECT string_agg(c.oid::regclass::text, ',' ORDER BY c.oid::regclass::text) AS made FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'S')`,
    )
    expect(made.rows[0].made).toBe('profiles,purchase_orders,purchase_orders_id_seq,ticket_seq')

    const catalog = await withClient(source.url, (client) =>
      readCatalog(client, { ...selectEverything, tables }),
    )
    expect(catalog.sequences.map((s) => [`${s.schema}.${s.name}`, s.lastValue, s.usedBy])).toEqual([
      ['public.purchase_orders_id_seq', '1', ['public.purchase_orders']],
      ['public.ticket_seq', '1002', ['public.purchase_orders']],
    ])
  })
})

describe('-T', () => {
  it('leaves out the excluded tables and keeps the rest of the schemas, views and functions included', async () => {
    const rest = await generateFrom(source.url, {
      schemas: SCHEMAS,
      excludeTables: ['public.permissions', 'sup*'],
    })
    expect(rest.source).toBe('catalog')
    const kinds = rest.capture.access.objects.map((o) => `${o.kind} ${o.ident}`)
    expect(kinds).not.toContain('table public.permissions')
    expect(kinds).not.toContain('table public.suppliers')
    expect(kinds).toEqual(
      expect.arrayContaining([
        'table public.parts',
        'view public.device_energy',
        'aggregate public.kwh_total(numeric)',
        'function public.handle_new_user()',
      ]),
    )
  })
})

describe('the backup job', () => {
  it('writes roles.sql and the access data, checksummed, and names what schema.sql leaves out', async () => {
    await sql(
      source.url,
      `CREATE FUNCTION public.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
       CREATE EVENT TRIGGER capture_data_ddl ON ddl_command_end EXECUTE FUNCTION public.on_ddl();`,
    )
    const folder = mkdtempSync(join(resolve('.tmp'), 'store-'))
    const run = await runJobProcess('backup', ['--json', '-n', 'public', '-n', 'app'], {
      DATABASE_URL: source.url,
      BACKUP_STORE: folder,
    })
    expect(run.code, run.stderr).toBe(0)
    const id = run.json!.id as string
    expect(run.json!.notRecreated).toEqual(['event trigger capture_data_ddl'])
    expect((run.json!.warnings as string[]).join('\n')).toContain(
      'event trigger capture_data_ddl is not recreated',
    )
    const root = extractWithTar(join(folder, 'database-backups', `${id}.tar.gz`))
    expect(sha256sumCheck(root)).toContain('roles.sql: OK')
    const manifest = await readSidecar(openStore({ url: `file://${folder}` }), id)
    const inside = parseManifest(await readFile(join(root, 'manifest.json'), 'utf8'), 'inside')
    expect(inside.access).toEqual(manifest.access)
    expect(manifest.roles?.file?.name).toBe('roles.sql')
    expect(await readFile(join(root, 'roles.sql'), 'utf8')).toContain(`CREATE ROLE ${ROLES.login} LOGIN`)
    expect(manifest.schemaSql?.omitted).toEqual([
      expect.objectContaining({ kind: 'event trigger', name: 'capture_data_ddl' }),
    ])
    expect(manifest.sequences.find((s) => s.name === 'ticket_seq')?.usedBy).toEqual([
      'public.purchase_orders',
    ])
    await sql(source.url, 'DROP EVENT TRIGGER capture_data_ddl')

    // Today's restore applies roles.sql before schema.sql: a cluster without the roles works.
    const fresh = await startThrowawayPostgres()
    try {
      await sql(fresh.url, PLATFORM_AUTH)
      const restored = await runJobProcess('restore', ['latest', '--create-schema', '--json', '--quiet'], {
        BACKUP_STORE: folder,
        TARGET_DATABASE_URL: fresh.url,
      })
      expect(restored.code, restored.stderr).toBe(0)
      const facts = (lines: string[]) =>
        lines.filter((l) => /^(owner|acl|column acl|policy|rls|role|member|publication) /.test(l))
      expect(facts(await describeStructure(fresh.url, SCHEMAS, ROLE_NAMES))).toEqual(
        facts(await describeStructure(source.url, SCHEMAS, ROLE_NAMES)),
      )
    } finally {
      await fresh.stop()
    }
  }, 120_000)
})
