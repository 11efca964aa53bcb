// Monitoring from the store's listing and sidecars alone: freshness of the newest complete
// backup against the RPO, and anomalies of that backup against the ones before it.
// `checkNewBackup` runs the same anomaly check right after a backup.
import type { Store } from '../adapters/store/store.ts'
import type { Manifest } from '../archive/manifest.ts'
import { isLifeboatError, LifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import type { BackupRecord } from '../inventory/inventory.ts'
import { listInventory, readSidecar } from '../inventory/read-inventory.ts'
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
  /** Every line a person should look at: anomalies, unreadable sidecars, backups missing from the replica. */
  warnings: string[]
  replica?: ReplicaCheckResult
}

export async function runMonitor(
  deps: MonitorDeps,
  options: FreshnessOptions & { anomalies: AnomalyOptions; replicaLagHours?: number },
): Promise<MonitorResult> {
  deps.emit({ type: 'step', message: `reading the backup inventory of ${deps.store.location}` })
  const records = await listInventory(deps.store)
  const complete = records.filter((r) => r.complete)
  const freshness = checkFreshness(complete[0], options)
  const warnings: string[] = []
  let anomalies: Anomaly[] = []
  let baseline = 0
  if (complete.length > 0) {
    const [current, ...previous] = await readManifests(
      deps.store,
      complete.slice(0, options.anomalies.baseline + 1),
      warnings,
    )
    if (current && current.id === complete[0]!.id) {
      anomalies = detectAnomalies(current, previous, options.anomalies)
      baseline = Math.min(previous.length, options.anomalies.baseline)
    } else {
      warnings.push(`${complete[0]!.id}: its sidecar is unreadable, so no anomaly check was made`)
    }
  }
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
    warnings,
  }
}

/** The monitor's verdict: a stale newest backup (or none) is MONITOR_FAILED; anomalies only warn. */
export function assertFresh(result: MonitorResult): void {
  if (result.freshness.ok) return
  throw new LifeboatError('MONITOR_FAILED', result.freshness.message, {
    details: [result.freshness.message, ...result.warnings],
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
    const records = (await listInventory(store)).filter((r) => r.complete && r.id < manifest.id)
    const notes: string[] = []
    const previous = await readManifests(store, records.slice(0, options.baseline), notes)
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

/** Sidecars in the order given; an unreadable one is skipped with a note, a store failure throws. */
async function readManifests(
  store: Store,
  records: readonly BackupRecord[],
  notes: string[],
): Promise<Manifest[]> {
  const manifests: Manifest[] = []
  for (const record of records) {
    try {
      manifests.push(await readSidecar(store, record.id))
    } catch (error) {
      if (
        !isLifeboatError(error) ||
        !['ARCHIVE_CORRUPT', 'ARCHIVE_FORMAT', 'BACKUP_NOT_FOUND'].includes(error.code)
      ) {
        throw error
      }
      notes.push(`${record.id}: sidecar unreadable: ${error.message}`)
    }
  }
  return manifests
}
