// Roles the platform creates itself: PostgreSQL's predefined roles and bootstrap
// superuser, and the roles every Supabase project starts with (from Supabase's
// postgres image: migrations/db/init-scripts, supautils' reserved roles, extensions).
// A backup records them but never recreates them as its own.

/** Roles a new Supabase project already has (newer images add more). */
export const SUPABASE_ROLES = [
  'anon',
  'authenticated',
  'service_role',
  'authenticator',
  'postgres',
  'supabase_admin',
  'supabase_auth_admin',
  'supabase_storage_admin',
  'supabase_functions_admin',
  'supabase_realtime_admin',
  'supabase_replication_admin',
  'supabase_read_only_user',
  'dashboard_user',
  'pgbouncer',
  'pgsodium_keyholder',
  'pgsodium_keyiduser',
  'pgsodium_keymaker',
] as const

/** The API roles PostgREST switches to; Supabase's default privileges grant them new objects in public. */
export const SUPABASE_API_ROLES = ['anon', 'authenticated', 'service_role'] as const

/** Why a role is not the backup's to create, or undefined for a custom role. */
export function platformRoleReason(name: string, bootstrapSuperuser: string): string | undefined {
  if (name.startsWith('pg_')) return 'predefined by PostgreSQL'
  if ((SUPABASE_ROLES as readonly string[]).includes(name)) return 'created by Supabase in every project'
  if (name === bootstrapSuperuser) return 'the bootstrap superuser of the source cluster (initdb creates one)'
  return undefined
}
