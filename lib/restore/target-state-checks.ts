// The checks a restore makes against what the target holds: read once, judged by the
// pure checks of target-checks.ts; run before the first write and again under the lock.
import type pg from 'pg'
import { readTargetState } from '../adapters/postgres/target.ts'
import { qualifiedName } from '../archive/manifest.ts'
import { LifeboatError } from '../core/errors.ts'
import type { SchemaStatement } from '../trust/schema-statements.ts'
import { missingSchemaProblems, referencedSchemas } from './referenced-schemas.ts'
import type { RestorePlan } from './target.ts'
import {
  assertCreatable,
  assertExistingTablesFit,
  assertParentsPresent,
  assertSchemaSqlCreatesTables,
  type Check,
  missingParents,
  tablesSchemaSqlLacks,
} from './target-checks.ts'

export async function targetStateChecks(db: pg.Client, plan: RestorePlan): Promise<Check[]> {
  const parents = plan.tables.flatMap((t) =>
    t.foreignKeys.map((f) => `${f.referencedSchema}.${f.referencedTable}`),
  )
  const state = await readTargetState(
    db,
    [...new Set([...plan.manifest.tables.map(qualifiedName), ...parents])],
    plan.sequences.map(qualifiedName),
  )
  const created = plan.selectedOnly ? plan.tables : undefined
  return [
    ...(plan.createSchema ? [() => assertCreatable(plan.manifest, state, plan.existingTables, created)] : []),
    () => assertSchemaSqlCreatesTables(tablesSchemaSqlLacks(plan, state)),
    () => assertExistingTablesFit(plan, state),
    () => assertParentsPresent(missingParents(plan.tables, state)),
  ]
}

/** schema.sql's statements find every schema they use on the target, or nothing is written. */
export async function referencedSchemasCheck(
  db: pg.ClientBase,
  statements: readonly SchemaStatement[],
): Promise<Check> {
  const used = referencedSchemas(statements)
  const { rows } = await db.query<{ name: string }>(
    'SELECT nspname AS name FROM pg_catalog.pg_namespace WHERE nspname = ANY($1::text[])',
    [[...used.keys()]],
  )
  const problems = missingSchemaProblems(used, new Set(rows.map((r) => r.name)))
  return () => {
    if (problems.length === 0) return
    throw new LifeboatError('SCHEMA_MISMATCH', `${problems.join('; ')}; nothing was written`, {
      details: problems,
    })
  }
}
