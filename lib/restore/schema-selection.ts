// Which statements of schema.sql a restore runs: the target's own filter (a Supabase
// project keeps its managed schemas), and with -t only the selected tables and what
// they need, as pg_restore -t does; which of them the target may refuse. Which recorded
// objects' privileges it then sets, and which tables --truncate empties. Pure.
import type { AccessObject } from '../archive/access.ts'
import { qualifiedName, type TableEntry } from '../archive/manifest.ts'
import {
  type SchemaInspection,
  type SchemaStatement,
  statementsForTables,
} from '../trust/schema-statements.ts'
import type { RestorePlan } from './target.ts'

export function statementFilter(
  inspection: SchemaInspection,
  plan: Pick<RestorePlan, 'tables' | 'selectedOnly' | 'keepStatement'>,
): ((statement: SchemaStatement) => boolean) | undefined {
  const targetKeeps = plan.keepStatement
  if (!plan.selectedOnly) return targetKeeps
  const tables = plan.tables.map((t) => ({ schema: t.schema, name: t.name }))
  const needed = new Set(statementsForTables(inspection.statements, tables).statements)
  return (statement) => needed.has(statement) && (targetKeeps?.(statement) ?? true)
}

/**
 * What the access step does to each recorded object. A whole restore makes the target
 * the backup: every recorded object. A -t restore touches only what it restored: its
 * tables and their sequences, and what its schema.sql statements created (schema.sql is
 * cut to them); the objects around them keep the target's privileges (a table brought
 * back into a live database must not hand back grants revoked there since the backup).
 * A -n restore runs all of schema.sql, which creates what it sets. Of those, an object
 * whose privileges the target keeps (a Supabase project's own tables) still gets the
 * grants the app gave its own roles (`app-grants`); the rest are made the source's.
 */
export function accessScope(
  plan: Pick<RestorePlan, 'tables' | 'sequences' | 'selectedOnly' | 'keepAccess'>,
  ran: readonly SchemaStatement[],
): (object: AccessObject) => 'source' | 'app-grants' | undefined {
  const scope = (object: AccessObject) => ((plan.keepAccess?.(object) ?? true) ? 'source' : 'app-grants')
  // Not the count of tables: a Supabase project's plan leaves its ledgers out of a whole restore.
  if (!plan.selectedOnly) return scope
  const restored = new Set([
    ...plan.tables.map(qualifiedName),
    ...plan.sequences.map(qualifiedName),
    ...ran.flatMap((s) => (s.action === 'create' && s.object ? [objectKey(s.object)] : [])),
  ])
  return (object) => (restored.has(accessKey(object)) ? scope(object) : undefined)
}

function objectKey(name: { schema?: string | undefined; name: string }): string {
  return name.schema === undefined ? name.name : `${name.schema}.${name.name}`
}

/** A schema is named by itself; everything else by schema and name. */
function accessKey(object: AccessObject): string {
  return object.kind === 'schema' ? object.name : `${object.schema}.${object.name}`
}

/** A statement the restore fails without (every one the target's plan does not call optional). */
export const requiredStatement =
  (plan: Pick<RestorePlan, 'optionalStatement'>) => (statement: SchemaStatement) =>
    !plan.optionalStatement?.(statement)

/** What --truncate empties: the restored tables, never a platform's own. */
export function truncatedTables(
  plan: Pick<RestorePlan, 'truncate' | 'tables' | 'existingTables'>,
): TableEntry[] {
  if (!plan.truncate) return []
  return plan.tables.filter((t) => !plan.existingTables?.has(qualifiedName(t)))
}
