// The restore plan for a Supabase project: the managed schemas' rows go into the tables
// the project has, the services' migration ledgers are compared instead of loaded, and
// the app's schemas are created from schema.sql unless the project has them. Pure.
import { qualifiedName, type TableEntry } from '../../archive/manifest.ts'
import { isManagedSchema, ledgerOf, SUPABASE_PRIVILEGED_EXTENSIONS } from '../../core/supabase-platform.ts'
import type { RestorePlan } from '../target.ts'
import { appStatementFilter, isAppPolicyOnManagedTable, type ProjectObjects } from './schema-filter.ts'

export interface SupabasePlan {
  plan: RestorePlan
  /** Ledger tables of the selection: compared with the target's, never loaded. */
  ledgers: string[]
  /** Managed tables whose rows are loaded into the project's own tables. */
  managed: string[]
}

const isManaged = (t: TableEntry) => isManagedSchema(t.schema)

/**
 * `appTablesInTarget`: which of the app's (non-managed) tables exist in the target.
 * None: the app's schemas are created from schema.sql. All: loaded into them (as a
 * restore without --create-schema). Some: created, so the generic check names them.
 */
export function planSupabaseRestore(
  plan: RestorePlan,
  project: ProjectObjects,
  appTablesInTarget: ReadonlySet<string>,
): SupabasePlan {
  const ledgers = plan.tables.filter((t) => ledgerOf(qualifiedName(t)) !== undefined)
  const tables = plan.tables.filter((t) => !ledgers.includes(t))
  const app = tables.filter((t) => !isManaged(t))
  const allThere = app.length > 0 && app.every((t) => appTablesInTarget.has(qualifiedName(t)))
  const createSchema = plan.createSchema || (app.length > 0 && !allThere)
  return {
    plan: {
      ...plan,
      tables,
      createSchema,
      truncate: plan.truncate && !createSchema,
      existingTables: new Set(plan.manifest.tables.filter(isManaged).map(qualifiedName)),
      keepStatement: appStatementFilter(project),
      optionalStatement: isAppPolicyOnManagedTable,
      allowedExtensions: SUPABASE_PRIVILEGED_EXTENSIONS,
      // The project's own objects keep the privileges its services gave them.
      keepAccess: (object) => !isManagedSchema(object.schema),
    },
    ledgers: ledgers.map(qualifiedName),
    managed: tables.filter(isManaged).map(qualifiedName),
  }
}
