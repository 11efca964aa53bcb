// The restore drill (and, with other choices, the DR test): pick a backup, restore it
// with the restore engine into a scratch target that is never production, prove it
// (tables, foreign keys, sequences, smoke checks), measure every phase and write the
// report to drills/<id>.json. A failed drill still writes its report.

import type { CheckResult } from '../adapters/postgres/post-checks.ts'
import { putCreateOnly } from '../adapters/store/create-only.ts'
import type { Store } from '../adapters/store/store.ts'
import { backupIdFor, DRILLS_PREFIX } from '../archive/layout.ts'
import type { Manifest } from '../archive/manifest.ts'
import { LifeboatError, toLifeboatError } from '../core/errors.ts'
import { type Phase, PhaseError, runPhases } from '../core/pipeline.ts'
import { redact, type Secret } from '../core/secret.ts'
import { type BackupRecord, parseSelector, selectBackup } from '../inventory/inventory.ts'
import { listInventory, readSidecar } from '../inventory/read-inventory.ts'
import { type RestoreResult, runRestore } from '../restore/database-restore.ts'
import { omittedByBackup } from '../restore/postgres-structure.ts'
import type { RestoreDeps } from '../restore/restore.ts'
import { STORAGE_DEFAULTS } from '../storage/settings.ts'
import { reviewAccessForReport } from './access-review.ts'
import type { ReportedAccessReview } from './access-review-report.ts'
import { phasesOf, restoreChecks, runPostChecks, tablesOf } from './drill-checks.ts'
import {
  checkDrillStorage,
  type DrillStorageHolder,
  type DrillStorageOptions,
  refuseProductionStorage,
  removeDrillFiles,
} from './drill-storage.ts'
import { type DrillTarget, type PreparedTarget, prepareTarget, type TargetDeps } from './drill-target.ts'
import { pickDrillBackup } from './pick.ts'
import { buildDrillReport, type DrillKind, type DrillReport, failedTablesOf } from './report.ts'
import type { SmokeCheck } from './smoke-checks.ts'
import { storageCheck } from './storage-report.ts'

export type { DrillStorageOptions } from './drill-storage.ts'
export type { DrillTarget } from './drill-target.ts'

export interface DrillDeps extends RestoreDeps, TargetDeps {
  /** Where the backups, sidecars, signatures and Storage files are read from; never written to. */
  store: Store
  /** Where the report and access review go (LIFEBOAT_RECORD_STORE): a replica is read-only. `store` when absent. */
  records?: Store | undefined
  /** The wall clock for startedAt / finishedAt. */
  clock: () => Date
}

export interface DrillOptions {
  kind: DrillKind
  /** A backup id, `latest` or a date; otherwise a random pick (drill) or the newest (DR test). */
  backup?: string | undefined
  /** Seed of the random pick; a fresh one is drawn (and reported) when absent. */
  seed?: string | undefined
  days: number
  /** The time the pick window and the RPO are measured from (LIFEBOAT_NOW); the clock by default. */
  now?: Date | undefined
  target: DrillTarget
  rtoTargetSeconds: number
  rpoTargetSeconds?: number | undefined
  /** DR test: parsed smoke checks; undefined when none were given. */
  smokeChecks?: readonly SmokeCheck[] | undefined
  /** DATABASE_URL / SUPABASE_DB_URL: never a drill target. */
  production: readonly { setting: string; url: Secret }[]
  /** DR test: the access review the stack publishes (JSON), stored and compared with the last one. */
  accessReview?: string | undefined
  /** The backup's Storage files: restored into the drill's Storage, or (default) every blob read back. */
  storage?: DrillStorageOptions | undefined
}

export interface DrillRun {
  report: DrillReport
  /** What made the run fail, with its code (the report holds its text). */
  error?: LifeboatError
  key: string
  location: string
  /** Why the report could not be written to the store, if it could not. */
  storeError?: string
}

/** What the drill's phases share; each sets its part. */
interface DrillContext {
  deps: DrillDeps
  options: DrillOptions
  asOf: Date
  began: number
  /** When the post-checks (or the phase that failed) ended: the RTO clock stops here, before teardown. */
  ended?: number
  pick: DrillReport['pick']
  warnings: string[]
  record?: BackupRecord
  manifest?: Manifest
  production?: { backupId: string; bytes: number } | undefined
  prepared?: PreparedTarget
  /** Seconds from the start until the target was ready (the report's `prepare`). */
  prepareSeconds: number | null
  restore?: RestoreResult
  checks: CheckResult[]
  postCheckSeconds: number | null
  storage: DrillStorageHolder
}

/** Without a choice, a backup's files are at least read back from the store. */
const DEFAULT_STORAGE: DrillStorageOptions = { kind: 'verify', jobs: STORAGE_DEFAULTS.jobs }

const DRILL_PHASES: readonly Phase<DrillContext>[] = [
  {
    name: 'pick',
    async run(c, scope) {
      scope.emit({ type: 'step', message: `listing the backups in ${c.deps.store.location}` })
      const inventory = await listInventory(c.deps.store)
      const chosen = chooseBackup(inventory, c.options, c.asOf)
      c.record = chosen.record
      c.pick = chosen.pick
      scope.emit({
        type: 'step',
        message: `${c.options.kind}: backup ${c.record.id} (${describeChoice(c.pick)})`,
      })
      c.manifest = await readSidecar(c.deps.store, c.record.id)
      c.production = await productionSize(c.deps.store, inventory, c.record.id, c.manifest)
    },
  },
  {
    name: 'prepare-target',
    async run(c) {
      const storage = c.options.storage ?? DEFAULT_STORAGE
      await refuseProductionStorage(c.deps, c.record!.id, storage)
      c.prepared = await prepareTarget(c.deps, c.options, c.manifest!)
      c.prepareSeconds = (performance.now() - c.began) / 1000
    },
  },
  {
    name: 'restore',
    async run(c) {
      const prepared = c.prepared!
      c.restore = await runRestore(c.deps, {
        what: c.record!.id,
        target: prepared.url,
        targetSetting: prepared.setting,
        createSchema: prepared.createSchema,
        truncate: prepared.truncate,
        // A drill never confirms a protected target: production is refused, always.
        confirm: undefined,
        verify: true,
        production: c.options.production,
      })
      c.warnings.push(...c.restore.warnings)
      // Into an existing schema the restore creates no structure: what the backup could not
      // capture is still named, so the drill cannot pass clean over it.
      if (!prepared.createSchema) {
        for (const line of omittedByBackup(c.manifest!)) c.warnings.push(`not reproduced: ${line}`)
      }
    },
  },
  {
    // After the database, as a restore does: owners refer to the restored auth.users.
    name: 'storage',
    async run(c) {
      try {
        const options = c.options.storage ?? DEFAULT_STORAGE
        // --truncate as given: it replaces an earlier drill's files even when the database was empty.
        const { target } = c.options
        const truncate = target.kind === 'database' && target.truncate
        await checkDrillStorage(c.deps, c.record!.id, options, { url: c.prepared!.url, truncate }, c.storage)
      } finally {
        c.warnings.push(...c.storage.warnings)
      }
    },
  },
  {
    name: 'post-checks',
    async run(c, scope) {
      scope.emit({ type: 'step', message: 'post-checks: foreign keys, sequences, smoke checks' })
      const began = performance.now()
      c.checks = await runPostChecks(c.prepared!.url, c.manifest!, c.restore!, c.options.smokeChecks)
      c.postCheckSeconds = (performance.now() - began) / 1000
      const failing = c.checks.filter((check) => !check.ok)
      if (failing.length > 0) {
        throw drillFailed(
          `${failing.length} check${failing.length === 1 ? '' : 's'} failed after the restore: ${failing.map((f) => `${f.name}: ${f.detail}`).join('; ')}`,
          failing.flatMap((f) => (f.tables ?? []).map((t) => `${t}: ${f.name} failed`)),
        )
      }
    },
  },
]

export async function runDrill(deps: DrillDeps, options: DrillOptions): Promise<DrillRun> {
  const startedAt = deps.clock()
  const c: DrillContext = {
    deps,
    options,
    asOf: options.now ?? startedAt,
    began: performance.now(),
    pick: { method: 'forced', seed: null, windowDays: null, candidates: 0 },
    warnings: [],
    prepareSeconds: null,
    checks: [],
    postCheckSeconds: null,
    storage: { warnings: [] },
  }
  let failure: LifeboatError | undefined
  try {
    await runPhases(DRILL_PHASES, c, { signal: deps.signal ?? new AbortController().signal, emit: deps.emit })
  } catch (error) {
    failure = toLifeboatError(error instanceof PhaseError ? error.cause : error)
  } finally {
    // Removing the scratch target and files, and the DR test's access review, are not part of
    // getting the data back: they stay out of `total`, the RTO comparison and the projection.
    c.ended = performance.now()
    await c.prepared?.cleanup().catch((error) => {
      c.warnings.push(`could not remove the drill's scratch database: ${redact((error as Error).message)}`)
    })
    await cleanUpFiles(c)
  }
  if (options.kind === 'dr-test' && options.smokeChecks === undefined) {
    c.warnings.push('no smoke checks were run: give a SQL file of checks with --checks or DR_TEST_CHECKS')
  }
  const access = options.kind === 'dr-test' ? await reviewAccessOfDrTest(c, startedAt) : undefined
  return writeReport(c, startedAt, failure, access)
}

/** What the drill wrote into its Storage goes when its database goes, and stays with a kept one. */
async function cleanUpFiles(c: DrillContext): Promise<void> {
  const { part, writes } = c.storage
  if (!part || !writes || (writes.buckets.length === 0 && writes.objects.length === 0)) return
  if (!c.prepared?.removesDatabase) {
    part.cleanup = 'kept'
    return
  }
  try {
    // Not under the run's signal: an interrupted drill cleans up too.
    await removeDrillFiles(writes)
    part.cleanup = 'removed'
  } catch (error) {
    part.cleanup = 'failed'
    c.warnings.push(
      `could not remove the drill's files from ${writes.client.location}: ${redact((error as Error).message)}`,
    )
  }
}

/** The DR test's access review ("audit access permissions"); a review that cannot be stored is a warning. */
async function reviewAccessOfDrTest(
  c: DrillContext,
  startedAt: Date,
): Promise<ReportedAccessReview | undefined> {
  // Without the setting (a DR test run by hand) the report says the review was not done.
  if (c.options.accessReview === undefined) return undefined
  const records = c.deps.records ?? c.deps.store
  const { reported, warning } = await reviewAccessForReport(records, c.options.accessReview, startedAt)
  if (warning) c.warnings.push(warning)
  return reported
}

/** The report is written whatever happened: a failed drill is evidence too. */
async function writeReport(
  c: DrillContext,
  startedAt: Date,
  failure: LifeboatError | undefined,
  accessReview?: ReportedAccessReview,
): Promise<DrillRun> {
  const { deps, options, manifest, record, restore } = c
  const total = ((c.ended ?? performance.now()) - c.began) / 1000
  const records = deps.records ?? deps.store
  const id = await freeReportId(records, options.kind, startedAt)
  const report = buildDrillReport({
    kind: options.kind,
    id,
    backup: record ? { id: record.id, time: record.time } : null,
    pick: c.pick,
    stores: { backups: deps.store.location, records: records.location },
    startedAt,
    finishedAt: deps.clock(),
    rpoAsOf: c.asOf,
    target: c.prepared?.describe ?? null,
    phases: phasesOf(c.prepareSeconds, restore, c.postCheckSeconds, total),
    restorePhases: restore?.phases ?? [],
    rtoTargetSeconds: options.rtoTargetSeconds,
    ...(options.rpoTargetSeconds !== undefined ? { rpoTargetSeconds: options.rpoTargetSeconds } : {}),
    ...(restore && !failure ? { restoredBytes: restore.tables.reduce((sum, t) => sum + t.bytes, 0) } : {}),
    ...(c.production ? { production: c.production } : {}),
    sizes: manifest
      ? {
          tables: manifest.totals.tables,
          rows: manifest.totals.rows,
          dataBytes: manifest.totals.bytes,
          archiveBytes: manifest.archive?.bytes ?? record?.archive?.size ?? 0,
        }
      : null,
    tables: tablesOf(manifest, restore),
    checks: [...restoreChecks(restore), ...c.checks, ...optional(storageCheck(c.storage.part ?? null))].map(
      ({ name, ok, detail }) => ({ name, ok, detail }),
    ),
    storage: c.storage.part ?? null,
    restoreWarnings: c.warnings,
    ...(failure ? { error: { code: failure.code, message: redact(failure.message) } } : {}),
    failedTables: failure && manifest ? failedTablesOf(failure, manifest.tables) : [],
    ...(accessReview ? { accessReview } : {}),
  })
  const key = `${DRILLS_PREFIX}${id}.json`
  let storeError: string | undefined
  try {
    // Create-only; a retry whose first attempt landed finds its own bytes there.
    await putCreateOnly(records, key, `${JSON.stringify(report, null, 2)}\n`, {
      contentType: 'application/json',
    })
  } catch (error) {
    storeError = redact((error as Error).message)
  }
  return {
    report,
    key,
    location: records.locate(key),
    ...(failure ? { error: failure } : {}),
    ...(storeError ? { storeError } : {}),
  }
}

function chooseBackup(
  inventory: readonly BackupRecord[],
  options: DrillOptions,
  asOf: Date,
): { record: BackupRecord; pick: DrillReport['pick'] } {
  const complete = inventory.filter((r) => r.complete).length
  if (options.backup !== undefined) {
    const record = selectBackup(inventory, parseSelector(options.backup))
    return { record, pick: { method: 'forced', seed: null, windowDays: null, candidates: complete } }
  }
  if (options.kind === 'dr-test') {
    const record = selectBackup(inventory, { kind: 'latest' })
    return { record, pick: { method: 'newest', seed: null, windowDays: null, candidates: complete } }
  }
  const seed = options.seed ?? newSeed()
  const picked = pickDrillBackup(inventory, { now: asOf, days: options.days, seed })
  return {
    record: picked.record,
    pick: { method: 'random', seed, windowDays: options.days, candidates: picked.candidates.length },
  }
}

function newSeed(): string {
  return Math.floor(Math.random() * 36 ** 8)
    .toString(36)
    .padStart(8, '0')
}

function describeChoice(pick: DrillReport['pick']): string {
  if (pick.method === 'random') return `random among ${pick.candidates}, seed ${pick.seed}`
  return pick.method === 'forced' ? 'chosen with --backup' : 'the newest'
}

/** Today's production size: the newest complete backup's data bytes. */
async function productionSize(
  store: Store,
  inventory: readonly BackupRecord[],
  pickedId: string,
  picked: Manifest,
): Promise<{ backupId: string; bytes: number } | undefined> {
  const newest = inventory.find((r) => r.complete)
  if (!newest || newest.id === pickedId) return { backupId: pickedId, bytes: picked.totals.bytes }
  try {
    return { backupId: newest.id, bytes: (await readSidecar(store, newest.id)).totals.bytes }
  } catch {
    // Without the newest sidecar there is no projection; the drill itself still counts.
    return undefined
  }
}

/** Report ids carry the start time; a second run in the same second gets a suffix. */
async function freeReportId(store: Store, kind: DrillKind, startedAt: Date): Promise<string> {
  const base = `${kind}-${backupIdFor(startedAt).slice('backup-'.length)}`
  for (let n = 1; ; n++) {
    const id = n === 1 ? base : `${base}-${n}`
    const taken = await store.head(`${DRILLS_PREFIX}${id}.json`).catch(() => undefined)
    if (!taken) return id
  }
}

function optional<T>(value: T | undefined): T[] {
  return value === undefined ? [] : [value]
}

function drillFailed(message: string, details: string[]): LifeboatError {
  return new LifeboatError('DRILL_FAILED', message, { details })
}
