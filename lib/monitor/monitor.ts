// Monitoring from the store's listing and sidecars alone: freshness of the newest backup
// that its sidecar vouches for (the stored archive has the size it records), that holds
// data and can be believed (its id not ahead of the store's clock) against the RPO, and
// anomalies of that backup against the ones before it. A backup dated ahead of
// the store's clock is a failure to look at. `checkNewBackup` runs the anomaly check
// right after a backup.
import type { Store } from '../adapters/store/store.ts'
import { BACKUPS_PREFIX } from '../archive/layout.ts'
import type { Manifest } from '../archive/manifest.ts'
import { isLifeboatError, LifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import { type BackupRecord, describeClockAhead, inventoryOf } from '../inventory/inventory.ts'
import { readVouchedSidecar } from '../inventory/read-inventory.ts'
import { type Anomaly, type AnomalyOptions, detectAnomalies } from './anomalies.ts'
import { checkFreshness, type FreshnessOptions, type FreshnessResult } from './freshness.ts'
import { checkReplica, type ReplicaCheckResult } from './replica-check.ts'

export interface MonitorDeps {
  store: Store
  emit: EmitEvent
  /** The second copy (BACKUP_REPLICA_STORE), checked when given. */
  replica?: Store
}

export interface MonitorResult {
  store: string
  freshness: FreshnessResult
  anomalies: Anomaly[]
  /** How many previous backups the anomaly check compared against. */
  baseline: number
  completeBackups: number
  /** Archives without a sidecar: unfinished uploads, removed by clean after a day. */
  incomplete: string[]
  /** Complete backups whose id is ahead of the store's clock: the job fails while any exists. */
  clockAhead: string[]
  /** Complete backups that hold no table: never counted as fresh. */
  empty: string[]
  /** Complete backups whose sidecar does not vouch for the stored archive (another size, unreadable): never counted as fresh. */
  unvouched: { id: string; problem: string }[]
  /** Every line a person should look at: anomalies, unreadable sidecars, backups missing from the replica. */
  warnings: string[]
  replica?: ReplicaCheckResult
}

export async function runMonitor(
  deps: MonitorDeps,
  options: FreshnessOptions & { anomalies: AnomalyOptions; replicaLagHours?: number },
): Promise<MonitorResult> {
  deps.emit({ type: 'step', message: `reading the backup inventory of ${deps.store.location}` })
  const { records, sizes } = await listWithSizes(deps.store)
  const complete = records.filter((r) => r.complete)
  const ahead = complete.filter((r) => r.clockAhead)
  const warnings: string[] = ahead.map(describeClockAhead)
  // Newest first, skipping backups that hold nothing or whose archive is not the one their
  // sidecar describes: the newest one with data, vouched for, is judged.
  const { manifests, empty, unvouched } = await readUntilData(
    deps.store,
    complete.filter((r) => !r.clockAhead),
    { sizes, wanted: options.anomalies.baseline + 1 },
    warnings,
  )
  for (const id of empty) warnings.push(`${id} holds no table: it is not counted as a backup`)
  const [current, ...previous] = manifests
  const newest = current ? complete.find((r) => r.id === current.id) : undefined
  const freshness = checkFreshness(newest, options)
  const anomalies = current ? detectAnomalies(current, previous, options.anomalies) : []
  const baseline = current ? Math.min(previous.length, options.anomalies.baseline) : 0
  warnings.unshift(...anomalies.map((a) => a.message))
  const replica = deps.replica
    ? await checkReplica(deps.replica, complete, { now: options.now, lagHours: options.replicaLagHours ?? 6 })
    : undefined
  if (replica) warnings.push(...replica.warnings)
  return {
    ...(replica ? { replica } : {}),
    store: deps.store.location,
    freshness,
    anomalies,
    baseline,
    completeBackups: complete.length,
    incomplete: records.filter((r) => !r.complete && r.archive).map((r) => r.id),
    clockAhead: ahead.map((r) => r.id),
    empty,
    unvouched,
    warnings,
  }
}

/** The backups a listing shows, and every listed key's size (what a sidecar is checked against). */
async function listWithSizes(store: Store): Promise<{ records: BackupRecord[]; sizes: Map<string, number> }> {
  const objects = await store.list(BACKUPS_PREFIX)
  return { records: inventoryOf(objects), sizes: new Map(objects.map((o) => [o.key, o.size])) }
}

/**
 * Sidecars newest first until `wanted` backups holding data are read; empty ones are
 * collected apart; one that does not vouch for its archive (unreadable, another size) is
 * noted and passed over. A store failure throws.
 */
async function readUntilData(
  store: Store,
  records: readonly BackupRecord[],
  { sizes, wanted }: { sizes: ReadonlyMap<string, number>; wanted: number },
  notes: string[],
): Promise<{ manifests: Manifest[]; empty: string[]; unvouched: MonitorResult['unvouched'] }> {
  const manifests: Manifest[] = []
  const empty: string[] = []
  const unvouched: MonitorResult['unvouched'] = []
  for (const record of records) {
    if (manifests.length >= wanted) break
    const manifest = await readVouchedSidecar(store, record.id, sizes)
    if (typeof manifest === 'string') {
      unvouched.push({ id: record.id, problem: manifest })
      notes.push(`${record.id}: ${manifest}: it is not counted as a backup`)
    } else if (manifest.totals.tables === 0) empty.push(record.id)
    else manifests.push(manifest)
  }
  return { manifests, empty, unvouched }
}

/**
 * The monitor's verdict: a stale newest backup (or none), or any backup dated ahead of the
 * store's clock, is MONITOR_FAILED; anomalies only warn.
 */
export function assertFresh(result: MonitorResult): void {
  if (result.freshness.ok && result.clockAhead.length === 0) return
  const problems = [
    ...(result.freshness.ok ? [] : [result.freshness.message]),
    // Why a newer backup did not count: a truncated or replaced archive is the likely cause.
    ...(result.freshness.ok ? [] : result.unvouched.map((u) => `${u.id} is not counted: ${u.problem}`)),
    ...(result.clockAhead.length > 0
      ? [
          `${result.clockAhead.join(', ')} ${result.clockAhead.length === 1 ? 'is' : 'are'} dated ahead of the store's clock: check the backup runner's clock (runbooks/troubleshooting.md#monitor-failed)`,
        ]
      : []),
  ]
  throw new LifeboatError('MONITOR_FAILED', problems.join('; '), {
    details: [...problems, ...result.warnings],
  })
}

export interface NewBackupCheck {
  anomalies: Anomaly[]
  /** Anomaly messages, plus a note when the check could not be made. */
  warnings: string[]
  baseline: number
}

/**
 * The anomaly check for a backup just made, against the complete backups before it.
 * Never throws: a backup that succeeded stays a success if its neighbours cannot be read.
 */
export async function checkNewBackup(
  store: Store,
  manifest: Manifest,
  options: AnomalyOptions,
): Promise<NewBackupCheck> {
  try {
    const listed = await listWithSizes(store)
    const records = listed.records.filter((r) => r.complete && !r.clockAhead && r.id < manifest.id)
    const notes: string[] = []
    const { manifests: previous } = await readUntilData(
      store,
      records,
      { sizes: listed.sizes, wanted: options.baseline },
      notes,
    )
    const anomalies = detectAnomalies(manifest, previous, options)
    return { anomalies, warnings: [...anomalies.map((a) => a.message), ...notes], baseline: previous.length }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const hint =
      isLifeboatError(error) && error.code === 'STORE_FORBIDDEN'
        ? '; the backup role needs s3:GetObject on database-backups/*.manifest.json (docs/lifecycle.md)'
        : ''
    return {
      anomalies: [],
      warnings: [`anomaly check skipped: cannot read the previous sidecars (${message})${hint}`],
      baseline: 0,
    }
  }
}
