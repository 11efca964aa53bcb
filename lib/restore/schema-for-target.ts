// schema.sql as one target will run it, decided before anything is written: inspected
// against the extensions this target allows, cut to the statements the plan keeps, and
// the checks those statements need of the target (roles, schemas they use).
import type pg from 'pg'
import { inspectSchemaSql } from '../trust/inspect-schema-sql.ts'
import { keepStatements, type SchemaInspection } from '../trust/schema-statements.ts'
import type { SqlParser } from '../trust/sql-parser-thread.ts'
import { assertRolesAvailable, extensionAllowlist } from './postgres-structure.ts'
import { assertRolesSqlMatches } from './role-plan.ts'
import { statementFilter } from './schema-selection.ts'
import type { RestorePlan } from './target.ts'
import type { Check } from './target-checks.ts'
import { referencedSchemasCheck } from './target-state-checks.ts'

export interface SchemaForTarget {
  /** The statements the restore runs. */
  schema: SchemaInspection
  /** Statements of schema.sql the plan leaves out (a Supabase project's own objects). */
  skipped: number
  /** Extensions the restore may create on this target. */
  extensions: readonly string[]
  checks: Check[]
}

export async function readSchemaForTarget(
  db: pg.ClientBase,
  plan: RestorePlan & { schemaSql: string },
  parser: SqlParser | undefined,
): Promise<SchemaForTarget> {
  const extensions = await extensionAllowlist(db, plan)
  const all = await inspectSchemaSql(plan.schemaSql, { extensions }, parser)
  const schema = keepStatements(all, statementFilter(all, plan))
  const roles = plan.manifest.roles
  const checks: Check[] = []
  if (roles?.file) checks.push(() => assertRolesSqlMatches(plan.rolesSql, roles))
  checks.push(() => assertRolesAvailable(db, schema.roles, roles))
  checks.push(await referencedSchemasCheck(db, schema.statements))
  return { schema, skipped: all.statements.length - schema.statements.length, extensions, checks }
}
