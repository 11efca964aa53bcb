// A restore into a database target, whatever kind it is: plain PostgreSQL, or a
// Supabase project (detected, or named with --target-kind), which decorates it.
import type { Secret } from '../core/secret.ts'
import { type PostgresReport, PostgresTarget } from './postgres-target.ts'
import { type RestoreDeps, type RestoreOptions, type RestoreSummary, restoreInto } from './restore.ts'
import { type SupabaseReport, SupabaseTarget, type TargetKind } from './supabase/supabase-target.ts'

export interface DatabaseRestoreOptions extends PostgresRestoreOptions {
  targetKind: TargetKind
}

export type DatabaseRestoreResult = RestoreResult & SupabaseReport

export async function runDatabaseRestore(
  deps: RestoreDeps,
  options: DatabaseRestoreOptions,
): Promise<DatabaseRestoreResult> {
  const target = databaseTarget(options)
  if (target instanceof SupabaseTarget) return restoreInto(deps, target, options)
  return { ...(await restoreInto(deps, target, options)), supabase: null }
}

/** The target a restore or its --dry-run writes through: one choice for both. */
export function databaseTarget(
  options: Pick<
    DatabaseRestoreOptions,
    'target' | 'targetSetting' | 'confirm' | 'production' | 'targetKind' | 'createSchema'
  >,
): PostgresTarget | SupabaseTarget {
  // A Supabase project gets the app's schema from schema.sql when its tables are absent.
  const inner = postgresTarget(options, options.createSchema || options.targetKind !== 'postgres')
  return options.targetKind === 'postgres' ? inner : new SupabaseTarget(inner, options.targetKind)
}

function postgresTarget(
  options: Pick<PostgresRestoreOptions, 'target' | 'targetSetting' | 'confirm' | 'production'>,
  parsesSchema: boolean,
): PostgresTarget {
  return new PostgresTarget({
    url: options.target,
    setting: options.targetSetting,
    confirm: options.confirm,
    production: options.production,
    parsesSchema,
  })
}

export type RestoreResult = RestoreSummary & PostgresReport

export interface PostgresRestoreOptions extends RestoreOptions {
  target: Secret
  /** Where the target came from, for messages (`TARGET_DATABASE_URL`). */
  targetSetting: string
  confirm?: string | undefined
  production: readonly { setting: string; url: Secret }[]
}

/** A restore into a PostgreSQL database (direct connection), all or nothing. */
export async function runRestore(deps: RestoreDeps, options: PostgresRestoreOptions): Promise<RestoreResult> {
  return restoreInto(deps, postgresTarget(options, options.createSchema), options)
}
