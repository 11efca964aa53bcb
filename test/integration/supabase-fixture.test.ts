// The Supabase-shaped test target itself (test/helpers/supabase/), on PostgreSQL 15
// and 17: the roles and privileges of a new project, Auth and Storage with their
// migration history, the application on top, and the plain servers behave as expected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAJORS, newSupabaseProject, plainServerUrl } from '../helpers/clusters.ts'
import { sql, withClient } from '../helpers/database.ts'
import { APP, createSupabaseApp, type SupabaseApp, signUp } from '../helpers/supabase/app.ts'
import {
  AUTH_NEWER_VERSION,
  authMigrationVersions,
  storageMigrations,
} from '../helpers/supabase/migration-history.ts'
import type { SupabaseProject } from '../helpers/supabase/project.ts'

/** Runs `text` the way PostgREST does: logged in as authenticator, switched to an API role. */
async function asApiRole(project: SupabaseProject, role: 'anon' | 'authenticated', text: string) {
  return withClient(project.urlAs('authenticator'), async (client) => {
    await client.query(`SET ROLE ${role}`)
    return client.query(text)
  })
}

async function scalar<T>(url: string, text: string, values: unknown[] = []): Promise<T> {
  const { rows } = await sql(url, text, values)
  return Object.values(rows[0] as Record<string, unknown>)[0] as T
}

describe.each(MAJORS)('the Supabase-shaped target on PostgreSQL %i', (major) => {
  let bare: SupabaseProject
  let app: SupabaseApp
  const projects: SupabaseProject[] = []

  beforeAll(async () => {
    bare = await newSupabaseProject(major, { label: 'fixture_bare' })
    const withApp = await newSupabaseProject(major, { label: 'fixture_app' })
    projects.push(bare, withApp)
    app = await createSupabaseApp(withApp)
  })
  afterAll(async () => {
    await Promise.all(projects.map((project) => project.drop()))
  })

  it('runs the requested major version', async () => {
    const version = await scalar<string>(bare.postgresUrl, 'SHOW server_version_num')
    expect(Math.floor(Number(version) / 10000)).toBe(major)
  })

  it('has supabase_admin as bootstrap superuser and postgres as an ordinary role', async () => {
    const { rows } = await sql(
      bare.postgresUrl,
      `SELECT (SELECT rolname FROM pg_roles WHERE oid = 10) AS bootstrap,
              rolsuper, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = current_user`,
    )
    expect(rows[0]).toEqual({
      bootstrap: 'supabase_admin',
      rolsuper: false,
      rolcreaterole: true,
      rolbypassrls: true,
    })
  })

  it('lets postgres create a table in public, which anon can then read through the default privileges', async () => {
    await sql(
      bare.postgresUrl,
      'CREATE TABLE public.fresh (id int PRIMARY KEY); INSERT INTO public.fresh VALUES (1)',
    )
    const { rows } = await asApiRole(bare, 'anon', 'SELECT id FROM public.fresh')
    expect(rows).toEqual([{ id: 1 }])
  })

  it('keeps the table whose SELECT the app revoked from anon unreadable by anon', async () => {
    await expect(asApiRole(app.project, 'anon', `SELECT * FROM ${APP.privateNotes}`)).rejects.toMatchObject({
      code: '42501',
    })
  })

  it('keeps the staff table unreadable by authenticated', async () => {
    await expect(
      asApiRole(app.project, 'authenticated', `SELECT * FROM ${APP.staffAudit}`),
    ).rejects.toMatchObject({ code: '42501' })
  })

  it('gives the API roles no access to auth.users', async () => {
    await expect(asApiRole(bare, 'anon', 'SELECT * FROM auth.users')).rejects.toMatchObject({ code: '42501' })
  })

  it('makes exactly one profile for a sign-up by the Auth service', async () => {
    const id = await signUp(app.project, { email: 'new-user@example.com', fullName: 'New User' })
    const { rows } = await sql(
      app.project.postgresUrl,
      `SELECT full_name FROM ${APP.profiles} WHERE id = $1`,
      [id],
    )
    expect(rows).toEqual([{ full_name: 'New User' }])
  })

  it("records Auth's migrations, readable but not writable by postgres", async () => {
    const versions = await sql(
      bare.postgresUrl,
      'SELECT version FROM auth.schema_migrations ORDER BY version',
    )
    expect(versions.rows.map((row) => row.version)).toEqual(authMigrationVersions('current').sort())
    await expect(
      sql(bare.postgresUrl, `INSERT INTO auth.schema_migrations VALUES ('29990101000000')`),
    ).rejects.toMatchObject({ code: '42501' })
  })

  it("records Storage's migrations, readable but not writable by postgres", async () => {
    const count = await scalar<number>(bare.postgresUrl, 'SELECT count(*)::int FROM storage.migrations')
    expect(count).toBe(storageMigrations().length)
    await expect(
      sql(bare.postgresUrl, `INSERT INTO storage.migrations VALUES (999, 'x', 'y')`),
    ).rejects.toMatchObject({ code: '42501' })
  })

  it('starts with an empty supabase_realtime publication owned by postgres', async () => {
    const { rows } = await sql(
      bare.postgresUrl,
      `SELECT pg_get_userbyid(pubowner) AS owner,
              (SELECT count(*)::int FROM pg_publication_tables t WHERE t.pubname = p.pubname) AS tables
       FROM pg_publication p WHERE pubname = 'supabase_realtime'`,
    )
    expect(rows).toEqual([{ owner: 'postgres', tables: 0 }])
  })

  it("puts the app's Realtime table in the publication", async () => {
    const { rows } = await sql(
      app.project.postgresUrl,
      `SELECT schemaname || '.' || tablename AS name FROM pg_publication_tables WHERE pubname = 'supabase_realtime'`,
    )
    expect(rows.map((row) => row.name)).toEqual([APP.messages])
  })

  it('gives schemas and service tables the owners a project has', async () => {
    const { rows } = await sql(
      bare.postgresUrl,
      `SELECT n.nspname, pg_get_userbyid(n.nspowner) AS owner FROM pg_namespace n
       WHERE n.nspname IN ('public', 'auth', 'storage', 'extensions', 'realtime', 'graphql_public', 'vault')
       UNION ALL SELECT 'auth.users', pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'auth.users'::regclass
       UNION ALL SELECT 'storage.objects', pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'storage.objects'::regclass
       ORDER BY 1`,
    )
    expect(Object.fromEntries(rows.map((row) => [row.nspname, row.owner]))).toEqual({
      auth: 'supabase_admin',
      'auth.users': 'supabase_auth_admin',
      extensions: 'postgres',
      graphql_public: 'supabase_admin',
      public: 'pg_database_owner',
      realtime: 'supabase_admin',
      storage: 'supabase_admin',
      'storage.objects': 'supabase_storage_admin',
      vault: 'supabase_admin',
    })
  })

  it('has row level security on every auth and storage table', async () => {
    const without = await scalar<number>(
      bare.adminUrl,
      `SELECT count(*)::int FROM pg_class WHERE relkind = 'r' AND NOT relrowsecurity
       AND relnamespace IN ('auth'::regnamespace, 'storage'::regnamespace)`,
    )
    expect(without).toBe(0)
  })

  it('refuses a direct DELETE on storage.objects, as Storage does', async () => {
    await expect(sql(app.project.postgresUrl, 'DELETE FROM storage.objects')).rejects.toMatchObject({
      code: '42501',
    })
  })

  it('lets postgres set session_replication_role (the supautils stand-in) but not create untrusted extensions', async () => {
    await sql(bare.postgresUrl, 'SET session_replication_role = replica')
    await expect(sql(bare.postgresUrl, 'CREATE EXTENSION postgres_fdw')).rejects.toMatchObject({
      code: '42501',
    })
  })

  it("has the app's owners, memberships, populated materialized view and extensions", async () => {
    const { rows } = await sql(
      app.project.postgresUrl,
      `SELECT pg_get_userbyid(c.relowner) AS invoices_owner,
              pg_has_role('${APP.analystRole}', '${APP.reportingRole}', 'MEMBER') AS analyst_reports,
              (SELECT relispopulated FROM pg_class WHERE oid = '${APP.dailyMessages}'::regclass) AS populated,
              (SELECT count(*)::int FROM ${APP.dailyMessages}) AS days,
              (SELECT array_agg(extname::text ORDER BY extname) FROM pg_extension
               WHERE extnamespace = 'extensions'::regnamespace) AS extensions
       FROM pg_class c WHERE c.oid = '${APP.invoices}'::regclass`,
    )
    expect(rows[0]).toEqual({
      invoices_owner: APP.billingOwner,
      analyst_reports: true,
      populated: true,
      days: 3,
      extensions: ['citext', 'pg_stat_statements', 'pgcrypto', 'uuid-ossp'],
    })
  })

  it('builds a newer Auth with an extra nullable column, an extra table and one more migration row', async () => {
    const newer = await newSupabaseProject(major, { label: 'fixture_newer', auth: 'newer' })
    projects.push(newer)
    const { rows } = await sql(
      newer.postgresUrl,
      `SELECT (SELECT is_nullable FROM information_schema.columns
               WHERE table_schema = 'auth' AND table_name = 'users' AND column_name = 'locale') AS locale,
              to_regclass('auth.trusted_devices') IS NOT NULL AS devices,
              (SELECT max(version) FROM auth.schema_migrations) AS latest`,
    )
    expect(rows[0]).toEqual({ locale: 'YES', devices: true, latest: AUTH_NEWER_VERSION })
  })

  it('builds an older Auth without auth.users.is_anonymous and auth.one_time_tokens', async () => {
    const older = await newSupabaseProject(major, { label: 'fixture_older', auth: 'older' })
    projects.push(older)
    const { rows } = await sql(
      older.postgresUrl,
      `SELECT EXISTS (SELECT FROM information_schema.columns WHERE table_schema = 'auth'
                      AND table_name = 'users' AND column_name = 'is_anonymous') AS anonymous,
              to_regclass('auth.one_time_tokens') IS NOT NULL AS tokens`,
    )
    expect(rows[0]).toEqual({ anonymous: false, tokens: false })
  })
})

describe.each(MAJORS)('the plain PostgreSQL %i server of the test run', (major) => {
  it('runs that major with postgres as its bootstrap superuser', async () => {
    const { rows } = await sql(
      plainServerUrl(major),
      `SELECT current_setting('server_version_num')::int / 10000 AS major,
              (SELECT rolname FROM pg_roles WHERE oid = 10) AS bootstrap`,
    )
    expect(rows[0]).toEqual({ major, bootstrap: 'postgres' })
  })
})
