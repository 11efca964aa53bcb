// The PostgreSQL servers of the test run by major version: plain ones (superuser
// `postgres`) and Supabase-shaped ones (test/helpers/supabase/README.md).
import { inject } from 'vitest'
import type { PostgresMajor } from '../../lib/adapters/postgres/throwaway.ts'
import type { SupabaseClusterInfo } from './supabase/cluster.ts'
import {
  createSupabaseProject,
  type SupabaseProject,
  type SupabaseProjectOptions,
} from './supabase/project.ts'

export const MAJORS: readonly PostgresMajor[] = [15, 17]

/** The plain server of that major, connected to its `postgres` database as superuser. */
export function plainServerUrl(major: PostgresMajor): string {
  return major === 15 ? inject('databaseUrl') : inject('databaseUrl17')
}

export function supabaseCluster(major: PostgresMajor): SupabaseClusterInfo {
  return major === 15 ? inject('supabase15') : inject('supabase17')
}

/** A new project database on the shared Supabase-shaped cluster of that major. */
export function newSupabaseProject(
  major: PostgresMajor,
  options: SupabaseProjectOptions = {},
): Promise<SupabaseProject> {
  return createSupabaseProject(supabaseCluster(major), options)
}
