// Which statements of schema.sql a restore runs: the target's own filter (a Supabase
// project keeps its managed schemas), and with -t only the selected tables and what
// they need, as pg_restore -t does. Pure.
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
