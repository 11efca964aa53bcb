// One object's way into the backup: read from Storage while hashing into a spool file
// (the blob's key is its sha256, known only at the end), uploaded unless the store
// already holds that content; or, when unchanged, its earlier hash reused unread.
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { LifeboatError } from '../core/errors.ts'
import { formatCount } from '../core/format.ts'
import type { ListedStorageObject } from './backup-plan.ts'
import type { BlobStore } from './blob-store.ts'
import type { CatalogObject, StorageCatalog } from './catalog.ts'
import { ObjectChangedWhileRead, type StorageClient, type StorageObjectMetadata } from './client.ts'
import { HashMeter } from './hashing.ts'
import { fingerprintOf, type IndexEntry, objectLabel, type StorageObjectEntry } from './manifest.ts'
import type { StorageProgress } from './progress.ts'

export interface TransferredObject {
  entry: StorageObjectEntry
  index: IndexEntry
  /** How the content got into the backup. */
  how: 'reused' | 'uploaded' | 'deduplicated'
  /** Stored bytes written for this object (0 unless uploaded). */
  uploadedBytes: number
}

export interface TransferContext {
  source: StorageClient
  blobs: BlobStore
  /** Blobs the store holds (key → stored size); grows as this run uploads. */
  present: Map<string, number>
  /** Uploads in flight by blob key, so two objects with the same bytes upload once. */
  uploads: Map<string, Promise<number>>
  catalog: StorageCatalog | undefined
  tempDir: string
  now: () => Date
  progress: StorageProgress
  signal?: AbortSignal
  warn: (message: string) => void
}

/** Reads of one object started over because it was replaced mid-read, before the backup gives up. */
const CHANGED_READS = 3

/**
 * Reads the object's content; undefined when it was deleted since it was listed. An
 * object replaced while it was read is read again from its start: the backup keeps one
 * whole version, the one it read last.
 */
export async function readObject(
  ctx: TransferContext,
  object: ListedStorageObject,
): Promise<TransferredObject | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await readOnce(ctx, object)
    } catch (error) {
      if (!(error instanceof ObjectChangedWhileRead) || attempt === CHANGED_READS) throw error
      ctx.warn(`${error.message}; reading it again from its start`)
    }
  }
}

async function readOnce(
  ctx: TransferContext,
  object: ListedStorageObject,
): Promise<TransferredObject | undefined> {
  const label = objectLabel(object)
  const got = await ctx.source.getObject(object.bucket, object.name, ctx.signal)
  if (!got) return undefined
  const spool = join(ctx.tempDir, `lifeboat-storage-${randomBytes(8).toString('hex')}`)
  try {
    const meter = new HashMeter(ctx.progress.addBytes)
    await pipeline(got.body, meter, createWriteStream(spool), { signal: ctx.signal })
    if (meter.bytes !== got.size) {
      throw new LifeboatError(
        'STORAGE_IO',
        `reading ${label}: ${formatCount(meter.bytes)} bytes arrived of ${formatCount(got.size)}`,
      )
    }
    const sha256 = meter.sha256()
    const key = ctx.blobs.keyOf(sha256)
    let how: TransferredObject['how'] = 'deduplicated'
    let uploadedBytes = 0
    let stored = ctx.present.get(key)
    if (stored === undefined) {
      const uploads = ctx.uploads
      let upload = uploads.get(key)
      if (!upload) {
        upload = ctx.blobs.putFile(sha256, spool, label, meter.bytes)
        uploads.set(key, upload)
        how = 'uploaded'
      }
      try {
        stored = await upload
      } finally {
        uploads.delete(key)
      }
      ctx.present.set(key, stored)
      if (how === 'uploaded') uploadedBytes = stored
    }
    const row = ctx.catalog?.objects.get(label)
    if (!row && got.missingMetadata > 0) {
      ctx.warn(
        `${label}: ${got.missingMetadata} user metadata entries cannot be read over S3 (non-ASCII or not text)`,
      )
    }
    return {
      how,
      uploadedBytes,
      entry: entryOf(object, sha256, meter.bytes, got.etag, row, got),
      index: {
        fingerprint: fingerprintOf(object.bucket, object.name, meter.bytes, got.etag),
        sha256,
        size: meter.bytes,
        storedBytes: stored,
        readAt: ctx.now().toISOString(),
      },
    }
  } finally {
    await rm(spool, { force: true })
  }
}

/**
 * An unchanged object: its earlier hash and blob, with metadata from the snapshot's
 * `storage.objects` row, or from a HEAD when there is no row. Undefined when a HEAD
 * shows it gone or changed since the listing (the caller then reads it).
 */
export async function reuseObject(
  ctx: TransferContext,
  object: ListedStorageObject,
  previous: IndexEntry,
): Promise<TransferredObject | 'gone' | 'changed'> {
  const label = objectLabel(object)
  const row = ctx.catalog?.objects.get(label)
  let meta: StorageObjectMetadata | undefined
  if (!row) {
    meta = await ctx.source.headObject(object.bucket, object.name, ctx.signal)
    if (!meta) return 'gone'
    if (meta.size !== object.size || meta.etag !== object.etag) return 'changed'
  }
  ctx.progress.addBytes(0)
  return {
    how: 'reused',
    uploadedBytes: 0,
    entry: entryOf(object, previous.sha256, object.size, object.etag, row, meta),
    index: {
      ...previous,
      storedBytes: ctx.present.get(ctx.blobs.keyOf(previous.sha256)) ?? previous.storedBytes,
    },
  }
}

/** The snapshot's row wins for metadata: it is exact, where S3 drops non-ASCII and non-string values. */
function entryOf(
  object: ListedStorageObject,
  sha256: string,
  size: number,
  etag: string | null,
  row: CatalogObject | undefined,
  meta: StorageObjectMetadata | undefined,
): StorageObjectEntry {
  return {
    bucket: object.bucket,
    name: object.name,
    size,
    sha256,
    etag,
    contentType: row ? row.contentType : (meta?.contentType ?? null),
    cacheControl: row ? row.cacheControl : (meta?.cacheControl ?? null),
    userMetadata: row ? row.userMetadata : (meta?.userMetadata ?? null),
    ownerId: row?.ownerId ?? null,
  }
}
