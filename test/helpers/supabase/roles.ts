// The cluster-wide roles of a Supabase project, created once per cluster by its
// bootstrap superuser (supabase_admin), with the attributes, memberships and role
// settings a new project has. Sources and stand-ins: test/helpers/supabase/README.md.
import type { PostgresMajor } from '../../../lib/adapters/postgres/throwaway.ts'

/** Roles a new project has before anyone connects, in creation order. */
export const SUPABASE_ROLES = [
  'postgres',
  'anon',
  'authenticated',
  'service_role',
  'authenticator',
  'supabase_auth_admin',
  'supabase_storage_admin',
  'supabase_realtime_admin',
  'supabase_functions_admin',
  'supabase_replication_admin',
  'supabase_read_only_user',
  'dashboard_user',
  'pgbouncer',
] as const

export type SupabaseRole = (typeof SUPABASE_ROLES)[number] | 'supabase_admin'

/** Roles the tests log in as; each gets the cluster's one test password. */
export const LOGIN_ROLES = [
  'postgres',
  'authenticator',
  'supabase_auth_admin',
  'supabase_storage_admin',
] as const

export type LoginRole = (typeof LOGIN_ROLES)[number] | 'supabase_admin'

function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`
}

/** CREATE ROLE statements with Supabase's attributes (LOGIN roles get no password here). */
function createRoles(): string {
  return `
    -- postgres: what the image leaves after demoting it (never SUPERUSER).
    CREATE ROLE postgres NOSUPERUSER CREATEDB CREATEROLE LOGIN REPLICATION BYPASSRLS;
    -- The API roles PostgREST switches to. Created NOINHERIT, later made INHERIT.
    CREATE ROLE anon NOLOGIN INHERIT;
    CREATE ROLE authenticated NOLOGIN INHERIT;
    CREATE ROLE service_role NOLOGIN INHERIT BYPASSRLS;
    CREATE ROLE authenticator LOGIN NOINHERIT;
    -- Service owners: Auth (GoTrue), Storage, Realtime, Edge Functions hooks.
    CREATE ROLE supabase_auth_admin LOGIN NOINHERIT NOCREATEROLE NOREPLICATION;
    CREATE ROLE supabase_storage_admin LOGIN NOINHERIT CREATEROLE NOREPLICATION;
    CREATE ROLE supabase_realtime_admin LOGIN NOINHERIT CREATEROLE REPLICATION;
    CREATE ROLE supabase_functions_admin LOGIN NOINHERIT CREATEROLE NOREPLICATION;
    CREATE ROLE supabase_replication_admin LOGIN REPLICATION;
    CREATE ROLE supabase_read_only_user LOGIN BYPASSRLS;
    CREATE ROLE dashboard_user NOLOGIN CREATEDB CREATEROLE REPLICATION;
    CREATE ROLE pgbouncer LOGIN;
  `
}

/** Memberships as a project has them after the image's migrations. */
function grantMemberships(major: PostgresMajor): string {
  // On 16+ CREATEROLE no longer lets postgres hand out the API roles; Supabase
  // grants them WITH ADMIN OPTION there.
  const apiRolesToPostgres =
    major >= 16
      ? 'GRANT anon, authenticated, service_role TO postgres WITH ADMIN OPTION;'
      : 'GRANT anon, authenticated, service_role TO postgres;'
  return `
    GRANT anon, authenticated, service_role TO authenticator;
    ${apiRolesToPostgres}
    GRANT pg_monitor, pg_read_all_data, pg_signal_backend TO postgres;
    GRANT authenticator TO supabase_storage_admin;
    GRANT anon, authenticated, service_role TO supabase_realtime_admin;
    GRANT pg_read_all_data TO supabase_read_only_user;
  `
}

/** Per-role settings (statement timeouts, search paths) that ALTER ROLE … SET stores. */
function roleSettings(): string {
  return `
    ALTER ROLE anon SET statement_timeout = '3s';
    ALTER ROLE authenticated SET statement_timeout = '8s';
    ALTER ROLE authenticator SET statement_timeout = '8s';
    ALTER ROLE authenticator SET lock_timeout = '8s';
    ALTER ROLE postgres SET search_path = "$user", public, extensions;
    ALTER ROLE supabase_admin SET search_path = "$user", public, auth, extensions;
    ALTER ROLE supabase_auth_admin SET search_path = auth;
    ALTER ROLE supabase_auth_admin SET idle_in_transaction_session_timeout = 60000;
    ALTER ROLE supabase_storage_admin SET search_path = storage;
    ALTER ROLE supabase_realtime_admin SET search_path = public, extensions, realtime;
    ALTER ROLE supabase_functions_admin SET search_path = supabase_functions;
  `
}

/**
 * What supautils would let postgres do, given the plain-PostgreSQL way where one
 * exists. supautils lists session_replication_role among the settings its privileged
 * role may set; PostgreSQL 15+ can grant exactly that one parameter.
 */
function supautilsStandIns(): string {
  return `
    GRANT SET ON PARAMETER session_replication_role TO postgres;
  `
}

/** The whole cluster-level script, run once as the bootstrap superuser. */
export function clusterRolesSql(major: PostgresMajor, loginPassword: string): string {
  const passwords = LOGIN_ROLES.map((role) => `ALTER ROLE ${role} PASSWORD ${quoteLiteral(loginPassword)};`)
  return [
    // The bootstrap superuser made by initdb; Supabase's attributes for it.
    'ALTER ROLE supabase_admin SUPERUSER CREATEDB CREATEROLE REPLICATION BYPASSRLS;',
    createRoles(),
    grantMemberships(major),
    roleSettings(),
    supautilsStandIns(),
    passwords.join('\n'),
  ].join('\n')
}
