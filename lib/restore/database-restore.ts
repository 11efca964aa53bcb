// A restore into a database target, whatever kind it is: plain PostgreSQL, or a
// Supabase project (detected, or named with --target-kind), which decorates it.
import { type PostgresRestoreOptions, PostgresTarget, type RestoreResult } from './postgres-target.ts'
import { type RestoreDeps, restoreInto } from './restore.ts'
import { type SupabaseReport, SupabaseTarget, type TargetKind } from './supabase/supabase-target.ts'

export interface DatabaseRestoreOptions extends PostgresRestoreOptions {
  targetKind: TargetKind
}

export type DatabaseRestoreResult = RestoreResult & SupabaseReport

export async function runDatabaseRestore(
  deps: RestoreDeps,
  options: DatabaseRestoreOptions,
): Promise<DatabaseRestoreResult> {
  const inner = new PostgresTarget({
    url: options.target,
    setting: options.targetSetting,
    confirm: options.confirm,
    production: options.production,
  })
  if (options.targetKind === 'postgres')
    return { ...(await restoreInto(deps, inner, options)), supabase: null }
  return restoreInto(deps, new SupabaseTarget(inner, options.targetKind), options)
}
