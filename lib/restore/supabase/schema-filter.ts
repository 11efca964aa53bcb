// Which statements of schema.sql a restore into a Supabase project runs: the app's own
// objects, never what the project's services manage (auth, storage, …), except triggers
// and policies the app puts on their tables. Extensions and publications the project has are kept as
// they are. Pure.
import { isManagedSchema } from '../../core/supabase-platform.ts'
import type { SchemaStatement } from '../../trust/schema-statements.ts'

/** What the target project already has, by name. */
export interface ProjectObjects {
  extensions: ReadonlySet<string>
  publications: ReadonlySet<string>
}

/**
 * A trigger the app put on a managed table (on_auth_user_created on auth.users), firing
 * a function of the app's own schemas: it is the app's, and goes with the app.
 */
function isAppTriggerOnManagedTable(statement: SchemaStatement): boolean {
  if (statement.kind !== 'trigger' || statement.action !== 'create' || !statement.table) return false
  return statement.references.some(
    (ref) => ref.schema !== undefined && !isManagedSchema(ref.schema) && ref.name !== statement.table?.name,
  )
}

/**
 * A policy the app put on a managed table (its own rules for storage.objects): the app's,
 * so it goes with the app. Only the platform's grants (supautils' policy_grants) let
 * postgres create it on a table it does not own, so it is optional: a project that
 * refuses it gets a `not reproduced:` line, not a failed restore.
 */
export function isAppPolicyOnManagedTable(statement: SchemaStatement): boolean {
  return (
    statement.kind === 'policy' &&
    statement.action === 'create' &&
    statement.table?.schema !== undefined &&
    isManagedSchema(statement.table.schema)
  )
}

/** The `keepStatement` of a restore plan into a Supabase project. */
export function appStatementFilter(project: ProjectObjects): (statement: SchemaStatement) => boolean {
  return (statement) => {
    const name = statement.object?.name ?? ''
    switch (statement.kind) {
      case 'setting':
        return true
      case 'schema':
      case 'default-privileges':
        return statement.object === undefined || !isManagedSchema(name)
      case 'extension':
        // CREATE EXTENSION IF NOT EXISTS passes over one the project has; its owner,
        // comment and grants are the project's.
        return statement.action === 'create' || !project.extensions.has(name)
      case 'publication':
        // supabase_realtime exists (owned by postgres): only the app's tables are added.
        if (project.publications.has(name)) return statement.action === 'alter'
        break
    }
    const schemas = [statement.object?.schema, statement.table?.schema]
    if (!schemas.some((s) => s !== undefined && isManagedSchema(s))) return true
    return isAppTriggerOnManagedTable(statement) || isAppPolicyOnManagedTable(statement)
  }
}
