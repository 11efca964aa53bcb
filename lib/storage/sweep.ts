// Retention for Storage blobs (run by backup:clean after the backups are cleaned): take
// the exclusive lock, give way to any live backup, mark every blob an existing sidecar's
// index references, delete the rest while the lock holds, then check the listing.
import type { Store } from '../adapters/store/store.ts'
import { isLifeboatError, LifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import { listInventory, readSidecar } from '../inventory/read-inventory.ts'
import { BLOBS_PREFIX, blobKey, MANIFESTS_PREFIX } from './layout.ts'
import { finishedLockKeys } from './lock-state.ts'
import { type LockTiming, lockOwnerName, StorageLock } from './locks.ts'
import { storageReferenceOf } from './manifest.ts'
import { readStorageIndex } from './manifest-io.ts'
import { planSweep, type StoredKey } from './sweep-plan.ts'

export interface StorageSweepDeps {
  /** The backup store; a DryRunStore for --dry-run (then no lock is taken: nothing is deleted). */
  store: Store
  emit: EmitEvent
  now: () => Date
  dryRun?: boolean
  monotonic?: () => number
  signal?: AbortSignal
}

export interface StorageSweepOptions {
  lockTtlMinutes: number
  /** Overrides the lock's heartbeat and polling intervals (and TTL) derived from the TTL setting. */
  lockTiming?: Partial<LockTiming>
}

export interface StorageSweepResult {
  swept: boolean
  /** Why the sweep gave way (a backup in progress); blobs are swept by the next clean. */
  skipped?: string
  /** Backups whose index was read (the mark). */
  backupsMarked: number
  blobsKept: number
  blobsDeleted: number
  manifestsDeleted: number
  bytesFreed: number
  locksCleared: number
}

export async function sweepStorage(
  deps: StorageSweepDeps,
  options: StorageSweepOptions,
): Promise<StorageSweepResult> {
  // Nothing stored, nothing to delete: no lock needed (and no lock objects in a store
  // that never held Storage files).
  const [anyBlob, anyManifest] = await Promise.all([
    deps.store.list(BLOBS_PREFIX),
    deps.store.list(MANIFESTS_PREFIX),
  ])
  if (anyBlob.length === 0 && anyManifest.length === 0) return nothing()
  const timing = { ttlMs: options.lockTtlMinutes * 60_000, ...options.lockTiming }
  const ttlMs = timing.ttlMs
  const lock = deps.dryRun
    ? undefined
    : await StorageLock.acquire(deps, 'exclusive', lockOwnerName('clean', deps.now()), timing)
  try {
    const running = lock ? await lock.liveOthers('shared') : []
    if (running.length > 0) {
      const skipped = `a backup holds the storage lock (${running.map((r) => r.owner).join(', ')})`
      deps.emit({ type: 'warning', message: `storage sweep skipped: ${skipped}; the next clean sweeps` })
      return { ...nothing(), skipped }
    }
    const { referenced, backups } = await mark(deps.store)
    const plan = planSweep({
      blobs: await listKeys(deps.store, BLOBS_PREFIX),
      manifests: await listKeys(deps.store, MANIFESTS_PREFIX),
      referenced,
      backups,
    })
    deps.emit({
      type: 'step',
      message: `storage: ${backups.size} backups reference ${plan.keptBlobs} blobs; ${deps.dryRun ? 'would delete' : 'deleting'} ${plan.blobs.length} blobs and ${plan.manifests.length} manifests`,
    })
    const keys = [...plan.blobs, ...plan.manifests].map((o) => o.key)
    for (let i = 0; i < keys.length; i += 1000) {
      lock?.assertHeld('deleting blobs')
      await deps.store.delete(keys.slice(i, i + 1000))
    }
    let locksCleared = 0
    if (lock) {
      const stale = finishedLockKeys(await lock.holders(), lock.serverNow(), ttlMs, lock.owner)
      if (stale.length > 0) await deps.store.delete(stale)
      locksCleared = stale.length
    }
    await checkGone(deps.store, keys)
    return {
      swept: true,
      backupsMarked: backups.size,
      blobsKept: plan.keptBlobs,
      blobsDeleted: plan.blobs.length,
      manifestsDeleted: plan.manifests.length,
      bytesFreed: plan.bytes,
      locksCleared,
    }
  } finally {
    await lock?.release()
  }
}

/**
 * Every blob named by the index of a backup that still has a sidecar, complete or not.
 * One unreadable index stops the sweep: what it references cannot be known.
 */
async function mark(store: Store): Promise<{ referenced: Set<string>; backups: Set<string> }> {
  const referenced = new Set<string>()
  const backups = new Set<string>()
  for (const record of (await listInventory(store)).filter((r) => r.sidecar)) {
    backups.add(record.id)
    try {
      const reference = storageReferenceOf(await readSidecar(store, record.id), record.id)
      if (!reference) continue
      const index = await readStorageIndex(store, reference.index)
      for (const entry of index.entries) referenced.add(blobKey(entry.sha256, index.header.keyset))
    } catch (error) {
      if (!isLifeboatError(error)) throw error
      throw new LifeboatError(
        error.code === 'STORE_UNREACHABLE' || error.code === 'STORE_FORBIDDEN'
          ? error.code
          : 'ARCHIVE_CORRUPT',
        `storage sweep stopped, nothing deleted: ${record.id}'s storage index cannot be read (${error.message})`,
        { cause: error },
      )
    }
  }
  return { referenced, backups }
}

async function listKeys(store: Store, prefix: string): Promise<StoredKey[]> {
  return (await store.list(prefix)).map((o) => ({ key: o.key, size: o.size }))
}

async function checkGone(store: Store, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return
  const left = new Set(
    [...(await store.list(BLOBS_PREFIX)), ...(await store.list(MANIFESTS_PREFIX))].map((o) => o.key),
  )
  const still = keys.filter((k) => left.has(k))
  if (still.length > 0) {
    throw new LifeboatError(
      'STORE_IO',
      `${still.length} storage objects are still listed after delete: ${still.slice(0, 5).join(', ')}`,
    )
  }
}

function nothing(): StorageSweepResult {
  return {
    swept: false,
    backupsMarked: 0,
    blobsKept: 0,
    blobsDeleted: 0,
    manifestsDeleted: 0,
    bytesFreed: 0,
    locksCleared: 0,
  }
}
