// Storage manifest format v1 (docs/archive-format.md, "Storage files"): the shapes of
// the storage manifest, the plaintext index and the reference in manifest.json, and
// their validation. Pure: reading and writing them is lib/storage/manifest-io.ts.
import { createHash } from 'node:crypto'
import { LifeboatError } from '../core/errors.ts'

export const STORAGE_FORMAT = 1 as const

/** A bucket's settings as Supabase keeps them in `storage.buckets`; null when not read. */
export interface BucketSettings {
  public: boolean
  /** Bytes; null for no bucket limit. */
  fileSizeLimit: number | null
  allowedMimeTypes: string[] | null
  /** `STANDARD` (S3 reaches only these), `ANALYTICS`, `VECTOR`; null on older projects. */
  type: string | null
  ownerId: string | null
}

export interface BucketEntry {
  name: string
  settings: BucketSettings | null
  objects: number
  bytes: number
}

export interface StorageObjectEntry {
  bucket: string
  name: string
  size: number
  sha256: string
  /** The ETag of the bytes that were read; what the next backup compares the listing with. */
  etag: string | null
  contentType: string | null
  cacheControl: string | null
  userMetadata: Record<string, unknown> | null
  /** `storage.objects.owner_id` (or `owner`) when the database was read. */
  ownerId: string | null
}

/** A capped list of `bucket/name`s and how many there were. */
export interface NameSample {
  count: number
  names: string[]
}

export interface StorageConsistency {
  /** Rows in the snapshot's `storage.objects` whose file was not listed. */
  rowsWithoutFile: NameSample | null
  /** Listed files with no row in the snapshot's `storage.objects`. */
  filesWithoutRow: NameSample | null
  addedDuringBackup: NameSample
  deletedDuringBackup: NameSample
  changedDuringBackup: NameSample
}

export interface StorageManifestHeader {
  format: typeof STORAGE_FORMAT
  kind: 'lifeboat-storage-manifest'
  id: string
  source: { endpoint: string; region: string }
  listedAt: string
  finishedAt: string
  encrypted: boolean
  keyset: string | null
  /** Where bucket settings, owners and user metadata came from. */
  catalog: 'database' | 's3'
  buckets: BucketEntry[]
  objects: number
  bytes: number
  consistency: StorageConsistency
}

export interface StorageManifest {
  header: StorageManifestHeader
  objects: StorageObjectEntry[]
}

export interface IndexEntry {
  /** `fingerprintOf(bucket, name, size, etag)`; null when the listing had no ETag. */
  fingerprint: string | null
  sha256: string
  size: number
  /** The blob's size in the store (the age overhead included). */
  storedBytes: number
  /** When this content was last read from the source (not reused from an earlier backup). */
  readAt: string
}

export interface StorageIndexHeader {
  format: typeof STORAGE_FORMAT
  kind: 'lifeboat-storage-index'
  id: string
  encrypted: boolean
  keyset: string | null
  entries: number
}

export interface StorageIndex {
  header: StorageIndexHeader
  entries: IndexEntry[]
}

export interface FileReference {
  key: string
  /** Of the plaintext. */
  sha256: string
  bytes: number
}

/** `manifest.json`'s `storage` field: present only when Storage files were backed up. */
export interface StorageReference {
  format: typeof STORAGE_FORMAT
  manifest: FileReference
  index: FileReference
  encrypted: boolean
  keyset: string | null
  buckets: number
  objects: number
  bytes: number
  /** Distinct contents (blobs) the backup references. */
  blobs: number
}

/**
 * What identifies an object's content without reading it: bucket, name, size and ETag.
 * Hashed, so the plaintext index names no object; an ETag is needed to guess one.
 */
export function fingerprintOf(
  bucket: string,
  name: string,
  size: number,
  etag: string | null,
): string | null {
  if (!etag) return null
  return createHash('sha256')
    .update(JSON.stringify([bucket, name, size, etag]))
    .digest('hex')
}

export function objectLabel(entry: { bucket: string; name: string }): string {
  return `${entry.bucket}/${entry.name}`
}

/** Objects in manifest order: by bucket, then name, bytewise. */
export function compareObjects(a: { bucket: string; name: string }, b: { bucket: string; name: string }) {
  return compareBytes(a.bucket, b.bucket) || compareBytes(a.name, b.name)
}

export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

const SAMPLE_LIMIT = 1000

export function sampleOf(names: readonly string[]): NameSample {
  return { count: names.length, names: names.slice(0, SAMPLE_LIMIT) }
}

/** The sidecar's storage reference, checked; undefined when the backup has no Storage part. */
export function storageReferenceOf(sidecar: object, where: string): StorageReference | undefined {
  const value = (sidecar as { storage?: unknown }).storage
  if (value === undefined || value === null) return undefined
  const r = value as Partial<StorageReference>
  const file = (f: unknown) => {
    const v = f as Partial<FileReference> | undefined
    return typeof v?.key === 'string' && isSha256(v.sha256) && isCount(v.bytes)
  }
  if (r.format !== STORAGE_FORMAT) {
    throw new LifeboatError('ARCHIVE_FORMAT', `${where}: storage format ${String(r.format)} is not supported`)
  }
  if (!file(r.manifest) || !file(r.index) || typeof r.encrypted !== 'boolean' || !isCount(r.objects)) {
    throw new LifeboatError('ARCHIVE_CORRUPT', `${where}: the storage reference is malformed`)
  }
  return r as StorageReference
}

export function checkManifestHeader(value: unknown, where: string): StorageManifestHeader {
  const h = value as Partial<StorageManifestHeader>
  checkFormat(h, 'lifeboat-storage-manifest', where)
  if (typeof h.id !== 'string' || !Array.isArray(h.buckets) || !isCount(h.objects) || !isCount(h.bytes)) {
    throw corrupt(where, 'its header lacks id, buckets or totals')
  }
  return h as StorageManifestHeader
}

export function checkObjectEntry(value: unknown, where: string, line: number): StorageObjectEntry {
  const o = value as Partial<StorageObjectEntry>
  const ok =
    typeof o?.bucket === 'string' &&
    typeof o.name === 'string' &&
    isCount(o.size) &&
    isSha256(o.sha256) &&
    isNullable(o.etag, 'string') &&
    isNullable(o.contentType, 'string') &&
    isNullable(o.cacheControl, 'string') &&
    isNullable(o.userMetadata, 'object') &&
    isNullable(o.ownerId, 'string')
  if (!ok) throw corrupt(where, `line ${line} is not a storage object entry`)
  return o as StorageObjectEntry
}

export function checkIndexHeader(value: unknown, where: string): StorageIndexHeader {
  const h = value as Partial<StorageIndexHeader>
  checkFormat(h, 'lifeboat-storage-index', where)
  if (typeof h.id !== 'string' || typeof h.encrypted !== 'boolean' || !isCount(h.entries)) {
    throw corrupt(where, 'its header lacks id, encrypted or entries')
  }
  return h as StorageIndexHeader
}

export function checkIndexEntry(value: unknown, where: string, line: number): IndexEntry {
  const e = value as Partial<IndexEntry>
  const ok =
    (e?.fingerprint === null || isSha256(e?.fingerprint)) &&
    isSha256(e?.sha256) &&
    isCount(e?.size) &&
    isCount(e?.storedBytes) &&
    typeof e?.readAt === 'string' &&
    !Number.isNaN(Date.parse(e.readAt))
  if (!ok) throw corrupt(where, `line ${line} is not an index entry`)
  return e as IndexEntry
}

function checkFormat(value: { format?: unknown; kind?: unknown } | null, kind: string, where: string): void {
  if (typeof value !== 'object' || value === null || value.kind !== kind) {
    throw corrupt(where, `it is not a ${kind}`)
  }
  if (value.format !== STORAGE_FORMAT) {
    throw new LifeboatError(
      'ARCHIVE_FORMAT',
      `${where}: ${kind} format ${String(value.format)} is not supported`,
    )
  }
}

function corrupt(where: string, what: string): LifeboatError {
  return new LifeboatError('ARCHIVE_CORRUPT', `${where}: ${what}`)
}

export function isSha256(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value)
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

function isNullable(value: unknown, type: 'string' | 'object'): boolean {
  return (
    value === null ||
    (type === 'object' ? typeof value === 'object' && !Array.isArray(value) : typeof value === type)
  )
}
