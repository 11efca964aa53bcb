// A Supabase-shaped PostgreSQL cluster: bootstrap superuser `supabase_admin` (as in
// Supabase's image), the platform's roles created once, and a non-superuser `postgres`
// that owns the `postgres` database. Projects are databases on it (project.ts).
import { randomBytes } from 'node:crypto'
import { type PostgresMajor, startThrowawayPostgres } from '../../../lib/adapters/postgres/throwaway.ts'
import { withClient } from '../database.ts'
import { clusterRolesSql, type LoginRole } from './roles.ts'

/** Plain data, so vitest's global setup can hand it to test files with provide(). */
export interface SupabaseClusterInfo {
  major: PostgresMajor
  /** The `postgres` database as supabase_admin (the bootstrap superuser). */
  adminUrl: string
  /** The password of every login role the fixture sets one for (roles.ts LOGIN_ROLES). */
  password: string
}

export interface SupabaseCluster extends SupabaseClusterInfo {
  stop(): Promise<void>
}

/** A URL for `database` on the cluster, logged in as `role`. */
export function clusterUrl(cluster: SupabaseClusterInfo, database: string, role: LoginRole): string {
  const url = new URL(cluster.adminUrl)
  url.username = role
  url.password = role === 'supabase_admin' ? url.password : cluster.password
  url.pathname = `/${database}`
  return url.toString()
}

export async function startSupabaseCluster(
  options: { major?: PostgresMajor; parent?: string } = {},
): Promise<SupabaseCluster> {
  const server = await startThrowawayPostgres({
    major: options.major ?? 15,
    superuser: 'supabase_admin',
    parent: options.parent,
  })
  const password = `sb${randomBytes(9).toString('hex')}`
  try {
    await withClient(server.url, async (client) => {
      await client.query(clusterRolesSql(server.major, password))
      // The image hands the default database to postgres.
      await client.query('ALTER DATABASE postgres OWNER TO postgres')
    })
  } catch (error) {
    await server.stop()
    throw error
  }
  return { major: server.major, adminUrl: server.url, password, stop: () => server.stop() }
}
