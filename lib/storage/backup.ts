// Storage files in a backup. `beginStorageBackup` lists the selected buckets (call it
// right after the database snapshot) and takes the shared lock; `complete` moves what
// changed into content-addressed blobs and writes the storage manifest and index; the
// caller puts the reference into manifest.json, writes the sidecar, then `release`s.
import type pg from 'pg'
import type { Store } from '../adapters/store/store.ts'
import { isLifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import { formatCount } from '../core/format.ts'
import { listInventory, readSidecar } from '../inventory/read-inventory.ts'
import {
  diffListings,
  type ListedStorageObject,
  planTransfers,
  sortListing,
  type TransferDecision,
} from './backup-plan.ts'
import { buildStorageManifest, type StorageBackupResult, summarise } from './backup-result.ts'
import { BlobStore } from './blob-store.ts'
import { isBucketSelected, unmatchedPatterns } from './bucket-selection.ts'
import { readStorageCatalog, type StorageCatalog } from './catalog.ts'
import type { StorageClient } from './client.ts'
import { type LockTiming, lockOwnerName, StorageLock } from './locks.ts'
import {
  type IndexEntry,
  objectLabel,
  STORAGE_FORMAT,
  type StorageManifest,
  type StorageReference,
  storageReferenceOf,
} from './manifest.ts'
import { readStorageIndex, writeStorageIndex, writeStorageManifest } from './manifest-io.ts'
import { forEachLimit } from './pool.ts'
import { StorageProgress } from './progress.ts'
import type { StorageSettings } from './settings.ts'
import { readObject, reuseObject, type TransferContext, type TransferredObject } from './transfer.ts'

export interface StorageBackupDeps {
  /** The backup store (where archives live). */
  store: Store
  /** Supabase Storage of the project being backed up. */
  source: StorageClient
  emit: EmitEvent
  now: () => Date
  /** Where object content is spooled while it is hashed (one file per transfer in flight). */
  tempDir: string
  signal?: AbortSignal
  monotonic?: () => number
  /** The backup's snapshot transaction: bucket settings, owners and exact user metadata come from it. */
  database?: pg.ClientBase
}

export interface StorageBackupOptions {
  /** The backup id this storage part belongs to. */
  id: string
  settings: StorageSettings
  /** age recipients; empty when the backups are not encrypted. */
  recipients: readonly string[]
  /** Longest wait for a running sweep to finish (default: two lock TTLs). */
  maxLockWaitMs?: number
  /** Overrides the lock's heartbeat and polling intervals (and TTL) derived from the settings. */
  lockTiming?: Partial<LockTiming>
}

export interface StorageBackupRun {
  readonly listed: { buckets: number; objects: number; bytes: number }
  /** Transfers, then writes the storage manifest and index; returns manifest.json's `storage`. */
  complete(): Promise<{ reference: StorageReference; result: StorageBackupResult }>
  /** Throws if the lock may have lapsed; call right before writing the sidecar. */
  assertHeld(what: string): void
  /** Writes the `done` marker: call after the sidecar, and in `finally` on failure. */
  release(): Promise<void>
}

export async function beginStorageBackup(
  deps: StorageBackupDeps,
  options: StorageBackupOptions,
): Promise<StorageBackupRun> {
  const listedAt = deps.now()
  const warnings: string[] = []
  const warn = (message: string) => {
    warnings.push(message)
    deps.emit({ type: 'warning', message })
  }
  const all = await deps.source.listBuckets(deps.signal)
  for (const pattern of unmatchedPatterns(options.settings.selection, all)) {
    warn(`--storage-bucket ${pattern} matches no bucket`)
  }
  const buckets = all.filter((b) => isBucketSelected(options.settings.selection, b)).sort()
  const before = sortListing(await listBuckets(deps, buckets))
  const catalog = deps.database ? await readStorageCatalog(deps.database, buckets) : undefined
  if (deps.database && !catalog)
    warn('the database has no storage schema: bucket settings and owners not recorded')
  deps.emit({
    type: 'step',
    message: `storage: ${formatCount(before.length)} objects in ${buckets.length} buckets at ${deps.source.location}`,
  })
  const timing = { ttlMs: options.settings.lockTtlMinutes * 60_000, ...options.lockTiming }
  const lock = await StorageLock.acquire(deps, 'shared', lockOwnerName(options.id, listedAt), timing)
  try {
    await lock.waitForExclusive(options.maxLockWaitMs ?? 2 * timing.ttlMs)
  } catch (error) {
    await lock.release().catch(() => undefined)
    throw error
  }
  const state: BackupState = { deps, options, buckets, before, catalog, lock, listedAt, warnings, warn }
  return {
    listed: {
      buckets: buckets.length,
      objects: before.length,
      bytes: before.reduce((n, o) => n + o.size, 0),
    },
    complete: () => completeStorageBackup(state),
    assertHeld: (what) => lock.assertHeld(what),
    release: () => lock.release(),
  }
}

interface BackupState {
  deps: StorageBackupDeps
  options: StorageBackupOptions
  buckets: string[]
  before: ListedStorageObject[]
  catalog: StorageCatalog | undefined
  lock: StorageLock
  listedAt: Date
  warnings: string[]
  warn: (message: string) => void
}

async function listBuckets(
  deps: StorageBackupDeps,
  buckets: readonly string[],
): Promise<ListedStorageObject[]> {
  const listed: ListedStorageObject[] = []
  for (const bucket of buckets) listed.push(...(await deps.source.listObjects(bucket, deps.signal)))
  return listed
}

async function completeStorageBackup(
  state: BackupState,
): Promise<{ reference: StorageReference; result: StorageBackupResult }> {
  const { deps, options, lock } = state
  const began = performance.now()
  const blobs = new BlobStore(deps.store, options.recipients)
  const previous = await readPreviousIndex(deps.store, options.id, state.warn)
  const present = await blobs.list()
  lock.assertHeld('planning the transfers')
  const plan = planTransfers({
    objects: state.before,
    previous,
    blobs: present,
    blobKeyOf: (sha) => blobs.keyOf(sha),
    now: deps.now(),
    rereadDays: options.settings.rereadDays,
    reread: options.settings.reread,
  })
  const { transferred, vanished } = await transferAll(state, blobs, present, plan)
  const after = await listBuckets(deps, state.buckets)
  const manifest = buildStorageManifest({
    id: options.id,
    source: { endpoint: deps.source.location, region: options.settings.endpoint.region },
    listedAt: state.listedAt,
    finishedAt: deps.now(),
    keyset: blobs.keyset,
    buckets: state.buckets,
    catalog: state.catalog,
    before: state.before,
    transferred,
    changes: diffListings(state.before, after),
    vanished,
  })
  lock.assertHeld('writing the storage manifest')
  const reference = await writeStorageFiles(deps.store, manifest, transferred, options.recipients)
  for (const [what, sample] of Object.entries(manifest.header.consistency)) {
    if (sample && sample.count > 0) {
      state.warn(`storage: ${sample.count} ${describe(what)}: ${sample.names.slice(0, 5).join(', ')}`)
    }
  }
  const result = summarise(manifest, transferred, (performance.now() - began) / 1000, state.warnings)
  return { reference, result }
}

/** Runs the plan, `jobs` objects at a time; objects deleted since the listing are set aside. */
async function transferAll(
  state: BackupState,
  blobs: BlobStore,
  present: Map<string, number>,
  plan: readonly TransferDecision[],
): Promise<{ transferred: TransferredObject[]; vanished: string[] }> {
  const { deps, lock } = state
  const toRead = plan.filter((d) => d.action === 'read').reduce((n, d) => n + d.object.size, 0)
  const progress = new StorageProgress(deps.emit, 'backup', plan.length, toRead)
  const ctx: TransferContext = {
    source: deps.source,
    blobs,
    present,
    uploads: new Map(),
    catalog: state.catalog,
    tempDir: deps.tempDir,
    now: deps.now,
    progress,
    ...(deps.signal ? { signal: deps.signal } : {}),
    warn: state.warn,
  }
  const done: (TransferredObject | undefined)[] = new Array(plan.length)
  const vanished: string[] = []
  await forEachLimit(
    plan,
    state.options.settings.jobs,
    async (decision, index) => {
      lock.assertHeld(`transferring ${objectLabel(decision.object)}`)
      let result: TransferredObject | 'gone' | 'changed' | undefined
      if (decision.action === 'reuse') result = await reuseObject(ctx, decision.object, decision.previous)
      if (result === undefined || result === 'changed') {
        result = (await readObject(ctx, decision.object)) ?? 'gone'
      }
      if (result === 'gone') vanished.push(objectLabel(decision.object))
      else done[index] = result
      progress.objectDone()
    },
    deps.signal,
  )
  return { transferred: done.filter((t): t is TransferredObject => t !== undefined), vanished }
}

/** The storage manifest, then the index; returns manifest.json's `storage` reference. */
async function writeStorageFiles(
  store: Store,
  manifest: StorageManifest,
  transferred: readonly TransferredObject[],
  recipients: readonly string[],
): Promise<StorageReference> {
  const manifestRef = await writeStorageManifest(store, manifest, recipients)
  const { id, encrypted, keyset } = manifest.header
  const indexRef = await writeStorageIndex(store, {
    header: {
      format: STORAGE_FORMAT,
      kind: 'lifeboat-storage-index',
      id,
      encrypted,
      keyset,
      entries: transferred.length,
    },
    entries: transferred.map((t) => t.index),
  })
  return {
    format: STORAGE_FORMAT,
    manifest: manifestRef,
    index: indexRef,
    encrypted,
    keyset,
    buckets: manifest.header.buckets.length,
    objects: manifest.header.objects,
    bytes: manifest.header.bytes,
    blobs: new Set(transferred.map((t) => t.entry.sha256)).size,
  }
}

function describe(what: string): string {
  return what.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`)
}

/**
 * The newest other backup's index, by fingerprint. A missing or unreadable one only
 * costs reads (everything is read again), so it is a warning, never a failure.
 */
async function readPreviousIndex(
  store: Store,
  id: string,
  warn: (message: string) => void,
): Promise<Map<string, IndexEntry>> {
  const byFingerprint = new Map<string, IndexEntry>()
  for (const record of (await listInventory(store)).filter((r) => r.complete && r.id !== id)) {
    try {
      const reference = storageReferenceOf(await readSidecar(store, record.id), record.id)
      if (!reference) continue
      const index = await readStorageIndex(store, reference.index)
      for (const entry of index.entries) if (entry.fingerprint) byFingerprint.set(entry.fingerprint, entry)
      return byFingerprint
    } catch (error) {
      if (
        !isLifeboatError(error) ||
        !['ARCHIVE_CORRUPT', 'ARCHIVE_FORMAT', 'BACKUP_NOT_FOUND'].includes(error.code)
      ) {
        throw error
      }
      warn(`storage: cannot use ${record.id}'s index (${error.message}); its objects are read again`)
      return byFingerprint
    }
  }
  return byFingerprint
}
