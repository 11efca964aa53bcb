// Retention, acted out: list the backups (gather), check their sidecars and what makes a
// backup good, plan (pure lib/retention/retention.ts), delete through the store (act),
// abort stale unfinished uploads, then list again (verify). A dry run is the same code
// over a DryRunStore.
import type { PendingUpload, Store, StoredObject } from '../adapters/store/store.ts'
import { BACKUPS_PREFIX } from '../archive/layout.ts'
import type { Manifest } from '../archive/manifest.ts'
import { isLifeboatError, LifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import { plural } from '../core/format.ts'
import { inventoryOf } from '../inventory/inventory.ts'
import { readVouchedSidecar } from '../inventory/read-inventory.ts'
import type { AnomalyOptions } from '../monitor/anomalies.ts'
import { assessBackups, type BackupFacts, type SignatureFact } from './goodness.ts'
import {
  planRetention,
  type RetentionPlan,
  type RetentionSettings,
  retentionCandidates,
} from './retention.ts'

export interface CleanDeps {
  /** The store to clean; a DryRunStore for --dry-run. */
  store: Store
  now: Date
  emit: EmitEvent
  /** Only for the wording of progress lines; the store decides what a delete does. */
  dryRun?: boolean
  /**
   * Where signing is on: whether a backup's sidecar signature holds (signatureFactOf in
   * lib/archive/authenticity.ts; jobs/clean.ts passes it when BACKUP_SIGNING_PUBLIC_KEYS is
   * set). A backup that is unsigned or whose signature fails is not good. Absent:
   * signatures do not decide.
   */
  checkSignature?: (id: string) => Promise<SignatureFact>
  /** The anomaly thresholds (ANOMALY_*); a backup flagged by them is not good. */
  anomalies?: AnomalyOptions
}

export interface CleanResult {
  store: string
  plan: RetentionPlan
  /** Backups whose objects were (or, in a dry run, would be) deleted. */
  deleted: { id: string; reason: string; keys: string[]; bytes: number }[]
  bytesFreed: number
  /** Complete backups whose sidecars failed the check: not counted toward the floor. */
  unverified: { id: string; problem: string }[]
  /** Complete backups that are not good (empty, clock ahead, anomalous, signature): kept only by age. */
  notGood: { id: string; reasons: string[] }[]
  /** Unfinished uploads (S3 multipart, folder partials) older than the grace period, aborted. */
  abortedUploads: { key: string; started: string; ageHours: number }[]
}

export async function runClean(deps: CleanDeps, settings: RetentionSettings): Promise<CleanResult> {
  const { store, emit } = deps
  emit({ type: 'step', message: `listing ${store.locate(BACKUPS_PREFIX)}` })
  const objects = await store.list(BACKUPS_PREFIX)
  const sizes = new Map(objects.map((o) => [o.key, o.size]))

  const { verified, unverified, assessed } = await assessStore(deps, objects, sizes)
  const notGood = [...assessed]
    .filter(([id, reasons]) => reasons.length > 0 && verified.get(id) === true)
    .map(([id, reasons]) => ({ id, reasons }))
  for (const { id, reasons } of notGood) {
    emit({ type: 'warning', message: `${id}: not counted toward the floor: ${reasons.join('; ')}` })
  }

  const plan = planRetention(retentionCandidates(objects, verified, assessed), {
    now: deps.now,
    maxAgeDays: settings.maxAgeDays,
    floor: settings.floor,
    tiers: settings.tiers,
    orphanGraceHours: settings.orphanGraceHours,
  })

  const deleted: CleanResult['deleted'] = []
  const failures: string[] = []
  for (const [index, entry] of plan.delete.entries()) {
    emit({
      type: 'step',
      message: `[${index + 1}/${plan.delete.length}] ${deps.dryRun ? 'would delete' : 'deleting'} ${entry.id} (${entry.reason}, ${entry.ageDays} days old): ${entry.keys.join(', ')}`,
    })
    try {
      await store.delete(entry.keys)
      const bytes = entry.keys.reduce((n, k) => n + (sizes.get(k) ?? 0), 0)
      deleted.push({ id: entry.id, reason: entry.reason, keys: entry.keys, bytes })
    } catch (error) {
      if (!isLifeboatError(error)) throw error
      // One backup that cannot be deleted must not stop the others; the run still fails.
      failures.push(`${entry.id}: ${error.message}`)
    }
  }

  // Verify: what was deleted is gone from the listing, what was kept is still there.
  if (deleted.length > 0) {
    const after = new Set((await store.list(BACKUPS_PREFIX)).map((o) => o.key))
    for (const entry of deleted) {
      const left = entry.keys.filter((k) => after.has(k))
      if (left.length > 0) failures.push(`${entry.id}: still listed after delete: ${left.join(', ')}`)
    }
  }
  const abortedUploads = await abortStaleUploads(deps, settings.orphanGraceHours, failures)
  if (failures.length > 0) {
    throw new LifeboatError(
      'STORE_IO',
      `${failures.length} of ${plural(plan.delete.length, 'backup')} (or unfinished uploads) could not be deleted: ${failures.join('; ')}`,
      { details: failures },
    )
  }
  return {
    store: store.location,
    plan,
    deleted,
    bytesFreed: deleted.reduce((n, d) => n + d.bytes, 0),
    unverified,
    notGood,
    abortedUploads,
  }
}

/**
 * "Verified" for the floor: the sidecar reads as format v1, names this backup, and records
 * exactly the stored archive's size. Only sidecars are read (the cleaner's role may not
 * read archives); `npm run backup:verify all` checks the contents. Then what makes a
 * verified backup good (lib/retention/goodness.ts).
 */
async function assessStore(
  deps: CleanDeps,
  objects: readonly StoredObject[],
  sizes: ReadonlyMap<string, number>,
): Promise<{
  verified: Map<string, boolean>
  unverified: CleanResult['unverified']
  assessed: Map<string, string[]>
}> {
  const verified = new Map<string, boolean>()
  const unverified: CleanResult['unverified'] = []
  const facts: BackupFacts[] = []
  for (const record of inventoryOf(objects).filter((r) => r.complete)) {
    const checked = await readVouchedSidecar(deps.store, record.id, sizes)
    const problem = typeof checked === 'string' ? checked : undefined
    verified.set(record.id, problem === undefined)
    if (problem) {
      unverified.push({ id: record.id, problem })
      deps.emit({ type: 'warning', message: `${record.id}: ${problem}; not counted toward the floor` })
    }
    facts.push({
      id: record.id,
      time: record.time,
      clockAhead: record.clockAhead,
      ...(problem ? { sidecarProblem: problem } : { manifest: checked as Manifest }),
      ...(deps.checkSignature ? { signature: await deps.checkSignature(record.id) } : {}),
    })
  }
  return { verified, unverified, assessed: assessBackups(facts, deps.anomalies) }
}

/**
 * Unfinished uploads under database-backups/ whose last activity is older than the grace
 * period: S3 multipart uploads a killed backup left (their parts are billed until aborted)
 * and a folder store's partial files. Younger ones may still be in progress.
 */
async function abortStaleUploads(
  deps: CleanDeps,
  graceHours: number,
  failures: string[],
): Promise<CleanResult['abortedUploads']> {
  const { store, emit, now } = deps
  if (!store.listPendingUploads || !store.abortPendingUpload) return []
  const pending: PendingUpload[] = await store.listPendingUploads(BACKUPS_PREFIX)
  const stale = pending.filter((u) => now.getTime() - u.started.getTime() > graceHours * 3_600_000)
  const aborted: CleanResult['abortedUploads'] = []
  for (const upload of stale) {
    const ageHours = Math.round(((now.getTime() - upload.started.getTime()) / 3_600_000) * 10) / 10
    emit({
      type: 'step',
      message: `${deps.dryRun ? 'would abort' : 'aborting'} the unfinished upload of ${upload.key} (started ${upload.started.toISOString()}, ${ageHours} h ago)`,
    })
    try {
      await store.abortPendingUpload(upload)
      aborted.push({ key: upload.key, started: upload.started.toISOString(), ageHours })
    } catch (error) {
      if (!isLifeboatError(error)) throw error
      failures.push(`unfinished upload of ${upload.key}: ${error.message}`)
    }
  }
  return aborted
}
