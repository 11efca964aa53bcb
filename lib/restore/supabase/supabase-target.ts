// A Supabase project as the restore target: a decorator of the PostgreSQL target that,
// once the target is recognised as a project, plans what the project's services own
// (rows into their existing tables, ledgers compared) and creates only the app's part
// of schema.sql. Everything else (one transaction, triggers, proof) is the inner target's.
import type { Readable } from 'node:stream'
import { readTargetState } from '../../adapters/postgres/target.ts'
import { type Manifest, qualifiedName, type TableEntry } from '../../archive/manifest.ts'
import { isLifeboatError, LifeboatError } from '../../core/errors.ts'
import type { PhaseScope } from '../../core/pipeline.ts'
import { compareLedgers, isManagedSchema } from '../../core/supabase-platform.ts'
import type { PostgresReport, PostgresTarget } from '../postgres-target.ts'
import type { RestorePlan, RestoreTarget, TableOutcome, TargetLoad } from '../target.ts'
import { assertPlatformTablesEmpty, assertSchemaCompatible, checkSchema } from '../target-checks.ts'
import { planSupabaseRestore } from './plan.ts'
import {
  existingRelations,
  readProjectObjects,
  readSupabaseMarkers,
  readTargetLedgers,
} from './project-facts.ts'

/** `--target-kind`: what the restore treats its database target as. */
export type TargetKind = 'auto' | 'supabase' | 'postgres'

/** What a restore into a database adds about Supabase (null: restored as plain PostgreSQL). */
export interface SupabaseReport {
  supabase: {
    /** Tables of the managed schemas loaded into the project's own tables. */
    managedTables: string[]
    /** Migration ledgers compared with the project's, not loaded. */
    comparedLedgers: string[]
  } | null
}

export class SupabaseTarget implements RestoreTarget {
  readonly kind = 'postgres'
  readonly atomic = true
  readonly #inner: PostgresTarget
  readonly #mode: Exclude<TargetKind, 'postgres'>
  /** Undefined until the first `guard`; then whether the target is a Supabase project. */
  #detected: boolean | undefined
  #ledgers: string[] = []
  #managed: string[] = []

  constructor(inner: PostgresTarget, mode: Exclude<TargetKind, 'postgres'>) {
    this.#inner = inner
    this.#mode = mode
  }

  get description(): string {
    return this.#inner.description
  }

  async guard(backupSource?: Manifest['source']): Promise<void> {
    await this.#inner.guard(backupSource)
    if (this.#detected !== undefined) return
    const markers = await readSupabaseMarkers(this.#inner.connection)
    if (!markers.detected && this.#mode === 'supabase') {
      throw new LifeboatError(
        'CONFIG_INVALID',
        `--target-kind supabase: ${this.description} is not a Supabase project (no ${markers.missing.join(', ')}); use --target-kind postgres for a plain database`,
      )
    }
    this.#detected = markers.detected
  }

  async refinePlan(plan: RestorePlan): Promise<RestorePlan> {
    if (!this.#detected) return plan
    const db = this.#inner.connection
    const app = plan.tables.filter((t) => !isManagedSchema(t.schema)).map((t) => `${t.schema}.${t.name}`)
    const refined = planSupabaseRestore(plan, await readProjectObjects(db), await existingRelations(db, app))
    this.#ledgers = refined.ledgers
    this.#managed = refined.managed
    return refined.plan
  }

  /** From the sidecar: the managed tables against the project's, and the ledgers. */
  async precheck(plan: RestorePlan): Promise<void> {
    if (!this.#detected) return
    const managed = plan.tables.filter((t) => isManagedSchema(t.schema))
    const state = await readTargetState(this.#inner.connection, managed.map(qualifiedName), [])
    const columns = checkSchema(managed, [], state)
    assertSchemaCompatible([...columns, ...(await this.#ledgerProblems(plan.manifest))])
    assertPlatformTablesEmpty(managed, state)
  }

  /** The ledgers first, then the inner checks; their SCHEMA_MISMATCH problems are named together. */
  async check(plan: RestorePlan, scope: PhaseScope): Promise<void> {
    if (!this.#detected) return this.#inner.check(plan)
    const ledgerProblems = await this.#ledgerProblems(plan.manifest, scope)
    try {
      await this.#inner.check(plan)
    } catch (error) {
      if (!isLifeboatError(error) || error.code !== 'SCHEMA_MISMATCH' || ledgerProblems.length === 0)
        throw error
      assertSchemaCompatible([...(error.details ?? [error.message]), ...ledgerProblems])
    }
    assertSchemaCompatible(ledgerProblems)
  }

  async #ledgerProblems(manifest: Manifest, scope?: PhaseScope): Promise<string[]> {
    if (this.#ledgers.length === 0) return []
    const recorded = (manifest.source.migrations ?? []).filter((r) => this.#ledgers.includes(r.table))
    const unrecorded = this.#ledgers.filter((l) => !recorded.some((r) => r.table === l))
    if (unrecorded.length > 0) {
      scope?.emit({
        type: 'warning',
        message: `the backup does not record which migrations ${unrecorded.join(', ')} held (taken by an older Lifeboat): the Supabase releases were not compared`,
      })
    }
    const target = await readTargetLedgers(
      this.#inner.connection,
      recorded.map((r) => r.table),
    )
    return compareLedgers(recorded, target)
  }

  begin(plan: RestorePlan, scope: PhaseScope): Promise<void> {
    return this.#inner.begin(plan, scope)
  }

  readonly load: TargetLoad = {
    table: (entry: TableEntry, data: Readable, scope: PhaseScope): Promise<TableOutcome | undefined> =>
      this.#inner.load.table(entry, data, scope),
    finish: (scope: PhaseScope) => (this.#inner.load as TargetLoad).finish(scope),
  }

  postData(plan: RestorePlan, scope: PhaseScope): Promise<void> {
    return this.#inner.postData(plan, scope)
  }

  checkConstraints(plan: RestorePlan, scope: PhaseScope): Promise<void> {
    return this.#inner.checkConstraints(plan, scope)
  }

  prove(plan: RestorePlan, outcomes: Map<string, TableOutcome>, scope: PhaseScope): Promise<void> {
    return this.#inner.prove(plan, outcomes, scope)
  }

  setSequences(plan: RestorePlan): Promise<void> {
    return this.#inner.setSequences(plan)
  }

  commit(): Promise<void> {
    return this.#inner.commit()
  }

  rollback(error: unknown): Promise<Error> {
    return this.#inner.rollback(error)
  }

  close(): Promise<void> {
    return this.#inner.close()
  }

  report(): PostgresReport & SupabaseReport {
    const supabase = this.#detected ? { managedTables: this.#managed, comparedLedgers: this.#ledgers } : null
    return { ...this.#inner.report(), supabase }
  }
}
