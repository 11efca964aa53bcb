// A new Supabase project, as a database on a Supabase-shaped cluster: owned by
// postgres, with the platform's schemas, Auth and Storage as their services leave them,
// and the empty `supabase_realtime` publication. What exists is listed in README.md.
import { withClient } from '../database.ts'
import { authSchemaSql } from './auth-schema.ts'
import { clusterUrl, type SupabaseClusterInfo } from './cluster.ts'
import type { AuthLevel } from './migration-history.ts'
import { databaseGrantsSql, platformSchemaSql, schemaReloadTriggersSql } from './platform-schema.ts'
import type { LoginRole } from './roles.ts'
import { storageSchemaSql } from './storage-schema.ts'

export interface SupabaseProjectOptions {
  /** Part of the database name (default `project`). */
  label?: string
  /**
   * Which Auth release the project runs: `current` (default); `older` (before
   * auth.users.is_anonymous and auth.one_time_tokens); `newer` (one more migration row,
   * a nullable auth.users.locale and an auth.trusted_devices table).
   */
  auth?: AuthLevel
  /**
   * Extensions the superuser creates in `extensions` beforehand: the stand-in for
   * supautils creating a non-trusted extension on postgres's behalf.
   */
  extensions?: readonly string[]
}

export interface SupabaseProject {
  cluster: SupabaseClusterInfo
  database: string
  auth: AuthLevel
  /** As supabase_admin (superuser): for inspecting, never for the code under test. */
  adminUrl: string
  /** As postgres: what a user of the project connects with. */
  postgresUrl: string
  urlAs(role: LoginRole): string
  drop(): Promise<void>
}

let counter = 0

function databaseName(label: string): string {
  return `${label}_${process.pid}_${Date.now().toString(36)}_${counter++}`
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
}

export async function createSupabaseProject(
  cluster: SupabaseClusterInfo,
  options: SupabaseProjectOptions = {},
): Promise<SupabaseProject> {
  const database = databaseName(options.label ?? 'project')
  const auth = options.auth ?? 'current'
  await withClient(cluster.adminUrl, (client) => client.query(`CREATE DATABASE "${database}" OWNER postgres`))
  const urlAs = (role: LoginRole) => clusterUrl(cluster, database, role)
  const project: SupabaseProject = {
    cluster,
    database,
    auth,
    adminUrl: urlAs('supabase_admin'),
    postgresUrl: urlAs('postgres'),
    urlAs,
    drop: async () => {
      await withClient(cluster.adminUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`),
      )
    },
  }
  const script = [
    'BEGIN;',
    databaseGrantsSql(database),
    platformSchemaSql(options.extensions ?? []),
    authSchemaSql(auth),
    storageSchemaSql(),
    schemaReloadTriggersSql(),
    'COMMIT;',
  ].join('\n')
  try {
    await withClient(project.adminUrl, (client) => client.query(script))
  } catch (error) {
    await project.drop()
    throw error
  }
  return project
}
