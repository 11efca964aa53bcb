// Retention, acted out: list the backups (gather), check their sidecars, plan (pure
// lib/retention/retention.ts), delete through the store (act), then list again (verify).
// A dry run is the same code over a DryRunStore.
import type { Store } from '../adapters/store/store.ts'
import { BACKUPS_PREFIX } from '../archive/layout.ts'
import { isLifeboatError, LifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import { plural } from '../core/format.ts'
import { inventoryOf } from '../inventory/inventory.ts'
import { readSidecar } from '../inventory/read-inventory.ts'
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
}

export interface CleanResult {
  store: string
  plan: RetentionPlan
  /** Backups whose objects were (or, in a dry run, would be) deleted. */
  deleted: { id: string; reason: string; keys: string[]; bytes: number }[]
  bytesFreed: number
  /** Complete backups whose sidecars failed the check: not counted toward the floor. */
  unverified: { id: string; problem: string }[]
}

export async function runClean(deps: CleanDeps, settings: RetentionSettings): Promise<CleanResult> {
  const { store, emit } = deps
  emit({ type: 'step', message: `listing ${store.locate(BACKUPS_PREFIX)}` })
  const objects = await store.list(BACKUPS_PREFIX)
  const sizes = new Map(objects.map((o) => [o.key, o.size]))

  // "Verified" for the floor: the sidecar reads as format v1, names this backup, and
  // records exactly the stored archive's size. Only sidecars are read (the cleaner's
  // role may not read archives); `npm run backup:verify all` checks the contents.
  const verified = new Map<string, boolean>()
  const unverified: CleanResult['unverified'] = []
  for (const record of inventoryOf(objects).filter((r) => r.complete)) {
    const problem = await checkSidecar(store, record.id, sizes)
    verified.set(record.id, problem === undefined)
    if (problem) {
      unverified.push({ id: record.id, problem })
      emit({ type: 'warning', message: `${record.id}: ${problem}; not counted toward the floor` })
    }
  }

  const plan = planRetention(retentionCandidates(objects, verified), {
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
  if (failures.length > 0) {
    throw new LifeboatError(
      'STORE_IO',
      `${failures.length} of ${plural(plan.delete.length, 'backup')} could not be deleted: ${failures.join('; ')}`,
      { details: failures },
    )
  }
  return {
    store: store.location,
    plan,
    deleted,
    bytesFreed: deleted.reduce((n, d) => n + d.bytes, 0),
    unverified,
  }
}

/** Why a sidecar does not vouch for its backup, or undefined when it does. */
async function checkSidecar(
  store: Store,
  id: string,
  sizes: ReadonlyMap<string, number>,
): Promise<string | undefined> {
  try {
    const sidecar = await readSidecar(store, id)
    if (sidecar.id !== id) return `its sidecar names backup ${sidecar.id}`
    if (!sidecar.archive) return 'its sidecar records no archive size'
    const archiveSize = sizes.get(sidecar.archive.key)
    if (archiveSize === undefined)
      return `its sidecar names ${sidecar.archive.key}, which is not in the store`
    if (sidecar.archive.bytes !== archiveSize) {
      return `its archive has ${archiveSize} bytes, the sidecar records ${sidecar.archive.bytes}`
    }
    return undefined
  } catch (error) {
    // Store access problems end the run (nothing is deleted); a bad sidecar is this backup's problem.
    if (
      isLifeboatError(error) &&
      ['ARCHIVE_CORRUPT', 'ARCHIVE_FORMAT', 'BACKUP_NOT_FOUND'].includes(error.code)
    ) {
      return `its sidecar is unreadable: ${error.message}`
    }
    throw error
  }
}
