// The restore as a preview (--dry-run): the phases of a real restore up to and
// including check-target (target guarded, archive downloaded and verified whole, every
// check made against the target), then it stops before `begin`: nothing is written. The plan
// those phases built says what the restore would create, load, empty and leave out.
import { qualifiedName } from '../archive/manifest.ts'
import { PhaseError, runPhases } from '../core/pipeline.ts'
import { splitSqlScript } from '../trust/sql-script.ts'
import { PREVIEW_PHASES } from './phases.ts'
import type { RestoreContext, RestoreDeps, RestoreOptions, RestoreSummary } from './restore.ts'
import type { RestorePlan, RestoreTarget } from './target.ts'

export type PlannedAction = 'create and load' | 'load' | 'empty and load'

export interface RestorePreview {
  dryRun: true
  id: string
  source: string
  /** Where the restore would write (never a secret). */
  target: string
  tables: { table: string; rows: number; bytes: number; action: PlannedAction }[]
  /** Tables in the backup that the selection leaves out. */
  skipped: string[]
  rows: number
  bytes: number
  sequences: string[]
  /** schema.sql's statements by kind, when the restore would create the schema. */
  schema: { statements: number; preData: number; postData: number; kinds: Record<string, number> } | null
  truncate: boolean
  verify: boolean
  signature: RestoreSummary['signature']
  archiveBytes: number
  seconds: number
  warnings: string[]
}

/** Runs every check a restore makes and returns its plan; throws what a real restore would hit. */
export async function previewRestore(
  deps: RestoreDeps,
  target: RestoreTarget,
  options: RestoreOptions,
): Promise<RestorePreview> {
  const warnings: string[] = []
  const emit: RestoreDeps['emit'] = (event) => {
    if (event.type === 'warning') warnings.push(event.message)
    deps.emit(event)
  }
  const context: RestoreContext = { deps: { ...deps, emit }, options, target, warnings, outcomes: new Map() }
  const signal = deps.signal ?? new AbortController().signal
  try {
    const run = await runPhases(PREVIEW_PHASES, context, { signal, emit })
    const plan = context.plan!
    const check = context.authenticity!
    return {
      dryRun: true,
      id: plan.manifest.id,
      source: context.archive!.where,
      target: target.description,
      ...describePlan(plan),
      schema: plan.createSchema && plan.schemaSql ? await schemaSummary(plan.schemaSql) : null,
      truncate: plan.truncate,
      verify: plan.verify,
      signature:
        check.status === 'verified'
          ? { status: 'verified', keyId: check.keyId }
          : { status: 'unsigned', reason: check.reason },
      archiveBytes: context.archive!.bytes,
      seconds: run.seconds,
      warnings,
    }
  } catch (error) {
    if (!(error instanceof PhaseError)) throw error
    // Nothing was begun: the target's answer is the error as it stands.
    throw await target.rollback(error.cause, error.phase)
  } finally {
    await target.close()
  }
}

/** Pure: what each selected table would go through, and what is left out. */
export function describePlan(
  plan: RestorePlan,
): Pick<RestorePreview, 'tables' | 'skipped' | 'rows' | 'bytes' | 'sequences'> {
  const action: PlannedAction = plan.createSchema
    ? 'create and load'
    : plan.truncate
      ? 'empty and load'
      : 'load'
  const selected = new Set(plan.tables.map(qualifiedName))
  return {
    tables: plan.tables.map((t) => ({ table: qualifiedName(t), rows: t.rows, bytes: t.bytes, action })),
    skipped: plan.manifest.tables.map(qualifiedName).filter((name) => !selected.has(name)),
    rows: plan.tables.reduce((n, t) => n + t.rows, 0),
    bytes: plan.tables.reduce((n, t) => n + t.bytes, 0),
    sequences: plan.sequences.map(qualifiedName),
  }
}

/** Counts only: the target's check has judged the statements already, with its own allowlist. */
async function schemaSummary(schemaSql: string): Promise<NonNullable<RestorePreview['schema']>> {
  const { statements } = await splitSqlScript(schemaSql)
  const kinds: Record<string, number> = {}
  for (const statement of statements) kinds[statement.type] = (kinds[statement.type] ?? 0) + 1
  const postData = statements.filter((s) => s.postData).length
  return { statements: statements.length, preData: statements.length - postData, postData, kinds }
}
