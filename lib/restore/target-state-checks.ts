// The checks a restore makes against what the target holds: read once, judged by the
// pure checks of target-checks.ts; run before the first write and again under the lock.
import type pg from 'pg'
import { readTargetState } from '../adapters/postgres/target.ts'
import { qualifiedName } from '../archive/manifest.ts'
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
