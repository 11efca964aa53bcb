// The drill's Storage files: restored into the drill's own Storage through the restore
// engine (production refused, every object read back), or, without one, every blob read
// back from the store; what the drill wrote is removed when its database is.
import { connect } from '../adapters/postgres/connection.ts'
import type { Store } from '../adapters/store/store.ts'
import { readAuthenticSidecar, type Trust } from '../archive/authenticity.ts'
import { LifeboatError, toLifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import { redact, type Secret } from '../core/secret.ts'
import type { Decrypt } from '../storage/blob-store.ts'
import type { StorageClient } from '../storage/client.ts'
import { storageReferenceOf } from '../storage/manifest.ts'
import { readStorageManifest } from '../storage/manifest-io.ts'
import { restoreStorage, type StorageRestoreResult } from '../storage/restore.ts'
import { assertStorageTargetAllowed, storageProductionReasons } from '../storage/target-guard.ts'
import { verifyStorage } from '../storage/verify.ts'
import { type DrillStorageReport, plannedStorage } from './storage-report.ts'

/** How the drill checks a backup's files (built by the job from the settings). */
export type DrillStorageOptions =
  /** STAGING_SUPABASE_STORAGE_S3_*: restore the files there. */
  | {
      kind: 'restore'
      target: StorageClient
      jobs: number
      production: readonly { setting: string; url: string }[]
    }
  /** No drill Storage: read every blob back from the store. */
  | { kind: 'verify'; jobs: number }
  /** --no-storage. */
  | { kind: 'skip' }

export interface DrillStorageDeps {
  store: Store
  emit: EmitEvent
  decrypt: Decrypt
  trust: Trust
  signal?: AbortSignal | undefined
}

/** What the drill wrote into its Storage, for the cleanup. */
export interface DrillStorageWrites {
  client: StorageClient
  buckets: string[]
  objects: { bucket: string; name: string }[]
}

/** Before anything is restored: the drill's Storage is never the project the files came from. */
export async function refuseProductionStorage(
  deps: DrillStorageDeps,
  id: string,
  options: DrillStorageOptions,
): Promise<void> {
  if (options.kind !== 'restore') return
  const { manifest } = await readAuthenticSidecar(deps.store, id, deps.trust)
  const reference = storageReferenceOf(manifest, id)
  if (!reference) return
  const { header } = await readStorageManifest(deps.store, reference.manifest, deps.decrypt)
  const target = options.target.location
  assertStorageTargetAllowed({
    reasons: storageProductionReasons({
      target,
      backupSource: header.source.endpoint,
      environment: options.production,
    }),
    target,
    buckets: header.buckets.map((b) => b.name),
    confirm: undefined,
    drill: true,
  })
}

/** Filled as the check goes, so a failed drill still reports what was reached and cleans up. */
export interface DrillStorageHolder {
  part?: DrillStorageReport
  writes?: DrillStorageWrites
  /** The restore's own warnings (objects left in the target, settings not applied). */
  warnings: string[]
}

/**
 * Checks the files of backup `id` as `options` says. Undefined when the backup holds
 * none. A failed check throws, with `part` (the report's figures) set on the holder first.
 */
export async function checkDrillStorage(
  deps: DrillStorageDeps,
  id: string,
  options: DrillStorageOptions,
  database: { url: Secret; truncate: boolean },
  holder: DrillStorageHolder,
): Promise<void> {
  const { manifest } = await readAuthenticSidecar(deps.store, id, deps.trust)
  const reference = storageReferenceOf(manifest, id)
  if (!reference) return
  const mode = options.kind === 'restore' ? 'restored' : options.kind === 'skip' ? 'skipped' : 'verified'
  const part = plannedStorage(mode, reference, options.kind === 'restore' ? options.target.location : null)
  holder.part = part
  if (options.kind === 'skip') return
  const began = performance.now()
  try {
    if (options.kind === 'restore') await restoreInto(deps, manifest, options, database, holder, part)
    else await verifyBlobs(deps, manifest, options.jobs, part)
  } catch (error) {
    part.ok = false
    const failure = toLifeboatError(error)
    if (part.problems.length === 0) part.problems.push(redact(failure.message))
    throw failure
  } finally {
    part.seconds = Math.round(performance.now() - began) / 1000
  }
}

async function restoreInto(
  deps: DrillStorageDeps,
  sidecar: { id: string },
  options: Extract<DrillStorageOptions, { kind: 'restore' }>,
  database: { url: Secret; truncate: boolean },
  holder: DrillStorageHolder,
  part: DrillStorageReport,
): Promise<void> {
  const writes: DrillStorageWrites = { client: options.target, buckets: [], objects: [] }
  holder.writes = writes
  // The restored database completes the catalog (owners) and tells rows from files.
  const client = await connect(database.url, { applicationName: 'lifeboat drill (storage)' })
  let result: StorageRestoreResult | undefined
  try {
    result = await restoreStorage(
      {
        store: deps.store,
        target: options.target,
        emit: deps.emit,
        decrypt: deps.decrypt,
        ...(deps.signal ? { signal: deps.signal } : {}),
        database: client,
        writes: {
          bucketCreated: (bucket) => writes.buckets.push(bucket),
          objectWritten: (bucket, name) => writes.objects.push({ bucket, name }),
        },
      },
      sidecar,
      {
        selection: { buckets: [], excludeBuckets: [] },
        // As for the staging database's rows: --truncate replaces what an earlier drill left.
        truncate: database.truncate,
        jobs: options.jobs,
        guard: { environment: options.production, drill: true },
      },
    )
  } finally {
    await client.end().catch(() => undefined)
  }
  if (!result) return
  part.ok = true
  part.objectsChecked = result.uploaded.objects + result.identical
  part.bytesChecked = result.uploaded.bytes
  part.written = result.uploaded.objects
  part.rowsWithoutFile = result.catalog?.rowsWithoutFile.count ?? null
  part.filesWithoutRow = result.catalog?.filesWithoutRow.count ?? null
  holder.warnings.push(...result.warnings)
  if (result.catalog) {
    const { rowsWithoutFile, filesWithoutRow } = result.catalog
    part.problems.push(
      ...rowsWithoutFile.names.map((n) => `row without file: ${n}`),
      ...filesWithoutRow.names.map((n) => `file without row: ${n}`),
    )
  }
}

async function verifyBlobs(
  deps: DrillStorageDeps,
  sidecar: { id: string },
  jobs: number,
  part: DrillStorageReport,
): Promise<void> {
  deps.emit({
    type: 'step',
    message: 'storage: no drill Storage configured: reading every blob back from the store',
  })
  const result = await verifyStorage(
    {
      store: deps.store,
      emit: deps.emit,
      decrypt: deps.decrypt,
      ...(deps.signal ? { signal: deps.signal } : {}),
    },
    sidecar,
    { mode: 'read', jobs },
  )
  if (!result) return
  part.problems.push(...result.problems)
  part.objectsChecked = result.objects - new Set(result.failedObjects).size
  part.bytesChecked = result.bytesRead
  part.ok = result.ok
  if (!result.ok) {
    throw new LifeboatError(
      'VERIFY_FAILED',
      `${result.failedObjects.length} Storage objects failed verification: ${result.problems.slice(0, 5).join('; ')}`,
      { details: result.problems },
    )
  }
}

/** Removes what the drill wrote: its objects, then the buckets it created (emptied first). */
export async function removeDrillFiles(writes: DrillStorageWrites, signal?: AbortSignal): Promise<void> {
  const created = new Set(writes.buckets)
  const byBucket = new Map<string, string[]>()
  for (const { bucket, name } of writes.objects) {
    if (created.has(bucket)) continue
    const names = byBucket.get(bucket) ?? []
    names.push(name)
    byBucket.set(bucket, names)
  }
  for (const [bucket, names] of byBucket) await writes.client.deleteObjects(bucket, names, signal)
  for (const bucket of created) {
    // Everything in a bucket the drill created is the drill's.
    const names = (await writes.client.listObjects(bucket, signal)).map((o) => o.name)
    if (names.length > 0) await writes.client.deleteObjects(bucket, names, signal)
    await writes.client.deleteBucket(bucket, signal)
  }
}
