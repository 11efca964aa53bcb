// Shared by the Supabase restore specification: backups and restores run as a user
// runs them (child processes, a folder store, the postgres role), and comparisons of
// a source and a target project: rows, grants, owners, policies, publication.
import { mkdirSync, mkdtempSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { sql, withClient } from '../helpers/database.ts'
import { type JobRun, runJobProcess } from '../helpers/run-job.ts'
import type { SupabaseProject } from '../helpers/supabase/project.ts'

export function folderStoreUrl(label: string): string {
  mkdirSync(resolve('.tmp'), { recursive: true })
  return `file://${mkdtempSync(join(resolve('.tmp'), `${label}-`))}`
}

/** `npm run backup:database` of the project, connected as postgres. */
export async function backupProject(
  project: SupabaseProject,
  store: string,
  args: string[] = [],
): Promise<JobRun> {
  const run = await runJobProcess('backup', ['--json', ...args], {
    DATABASE_URL: project.postgresUrl,
    BACKUP_STORE: store,
  })
  if (run.code !== 0) throw new Error(`backup failed (${run.code}): ${run.stderr}`)
  return run
}

/** `npm run backup:restore -- latest --target <url> …` as a user runs it. */
export function restoreLatest(store: string, target: string, args: string[] = []): Promise<JobRun> {
  return runJobProcess('restore', ['latest', '--target', target, ...args], { BACKUP_STORE: store })
}

/** The one line a failed job ends with, for assertion messages (today's error). */
export function lastLine(run: JobRun): string {
  return run.stderr.trim().split('\n').at(-1) ?? ''
}

/** Columns of a table in the source, so a target with extra columns compares equal. */
async function columnsOf(url: string, table: string): Promise<string[]> {
  const { rows } = await sql(
    url,
    `SELECT quote_ident(attname) AS name FROM pg_attribute
     WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [table],
  )
  return rows.map((row) => row.name as string)
}

/** Row count and a hash of every row's text, over the source's columns (as superuser). */
export async function tableFingerprint(
  sourceAdminUrl: string,
  url: string,
  table: string,
): Promise<{ rows: number; md5: string } | string> {
  const columns = (await columnsOf(sourceAdminUrl, table)).join(', ')
  try {
    const { rows } = await sql(
      url,
      `SELECT count(*)::int AS rows, md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), '')) AS md5
       FROM (SELECT ${columns} FROM ${table}) AS r`,
    )
    return rows[0] as { rows: number; md5: string }
  } catch (error) {
    return `unreadable: ${(error as Error).message}`
  }
}

/** Privileges on the app's relations, without grantors: (relation, grantee, privilege, grantable). */
export async function relationGrants(url: string, schema = 'public'): Promise<string[]> {
  const { rows } = await sql(
    url,
    `SELECT c.relname || ' ' || CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END
              || ' ' || a.privilege_type || CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END AS grant
     FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
     WHERE c.relnamespace = $1::regnamespace ORDER BY 1`,
    [schema],
  )
  return rows.map((row) => row.grant as string)
}

/** Everything `role` holds on schemas, relations and columns outside `public`, without grantors. */
export async function grantsHeldBy(url: string, role: string): Promise<string[]> {
  const { rows } = await sql(
    url,
    `SELECT 'schema ' || n.nspname || ' ' || a.privilege_type AS grant
       FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a WHERE a.grantee = $1::regrole
     UNION ALL
     SELECT c.relnamespace::regnamespace::text || '.' || c.relname || ' ' || a.privilege_type
       FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
      WHERE a.grantee = $1::regrole AND c.relnamespace <> 'public'::regnamespace
     UNION ALL
     SELECT c.relnamespace::regnamespace::text || '.' || c.relname || ' (' || t.attname || ') ' || a.privilege_type
       FROM pg_attribute t JOIN pg_class c ON c.oid = t.attrelid CROSS JOIN LATERAL aclexplode(t.attacl) a
      WHERE a.grantee = $1::regrole AND c.relnamespace <> 'public'::regnamespace
     ORDER BY 1`,
    [role],
  )
  return rows.map((row) => row.grant as string)
}

/** Owners of the app's relations, functions and types in `schema`. */
export async function ownersIn(url: string, schema = 'public'): Promise<Record<string, string>> {
  const { rows } = await sql(
    url,
    `SELECT 'relation ' || relname AS object, pg_get_userbyid(relowner) AS owner
       FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind IN ('r', 'v', 'm', 'S')
     UNION ALL
     SELECT 'routine ' || oid::regprocedure::text, pg_get_userbyid(proowner)
       FROM pg_proc WHERE pronamespace = $1::regnamespace
     UNION ALL
     SELECT 'type ' || typname, pg_get_userbyid(typowner)
       FROM pg_type WHERE typnamespace = $1::regnamespace AND typtype = 'e'`,
    [schema],
  )
  return Object.fromEntries(rows.map((row) => [row.object, row.owner]))
}

/** Every RLS policy of `schema`, as pg_policies shows it. */
export async function policiesIn(url: string, schema = 'public'): Promise<unknown[]> {
  const { rows } = await sql(
    url,
    `SELECT tablename, policyname, permissive, roles::text[] AS roles, cmd, qual, with_check
     FROM pg_policies WHERE schemaname = $1 ORDER BY tablename, policyname`,
    [schema],
  )
  return rows
}

export async function publicationTables(url: string): Promise<string[]> {
  const { rows } = await sql(
    url,
    `SELECT schemaname || '.' || tablename AS name FROM pg_publication_tables
     WHERE pubname = 'supabase_realtime' ORDER BY 1`,
  )
  return rows.map((row) => row.name as string)
}

/** Runs `text` as PostgREST would for an API role (authenticator, then SET ROLE). */
export async function asApiRole(project: SupabaseProject, role: 'anon' | 'authenticated', text: string) {
  return withClient(project.urlAs('authenticator'), async (client) => {
    await client.query(`SET ROLE ${role}`)
    return client.query(text)
  })
}

/**
 * Puts the source's users into the target as the Auth service would hold them (for
 * restores of `-n public` backups: Auth's data came back another way).
 */
export async function copyAuthUsers(source: SupabaseProject, target: SupabaseProject): Promise<number> {
  const columns = await sql(
    target.adminUrl,
    `SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) AS list
     FROM information_schema.columns
     WHERE table_schema = 'auth' AND table_name = 'users' AND is_generated = 'NEVER'`,
  )
  const list = columns.rows[0].list as string
  const { rows } = await sql(source.adminUrl, `SELECT row_to_json(u) AS row FROM auth.users u`)
  await withClient(target.urlAs('supabase_auth_admin'), async (client) => {
    for (const { row } of rows) {
      await client.query(
        `INSERT INTO auth.users (${list}) SELECT ${list} FROM json_populate_record(null::auth.users, $1)`,
        [JSON.stringify(row)],
      )
    }
  })
  return rows.length
}
