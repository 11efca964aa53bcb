// The Store interface: what every job needs of a place that keeps archives.
// Keys are relative to the store's root (the s3 prefix or the folder).
import type { Readable } from 'node:stream'
import { isLifeboatError, type LifeboatError } from '../../core/errors.ts'

export interface StoredObject {
  key: string
  size: number
  modified: Date
}

/** A write that began and never finished: an S3 multipart upload, a folder store's partial file. */
export interface PendingUpload {
  key: string
  /** S3: when the upload was initiated; a folder: the partial file's last write. */
  started: Date
  /** The store's own handle: the S3 UploadId, or the partial file's name. */
  handle: string
}

export interface PutOptions {
  contentType?: string
  /**
   * `'*'`: create only. The write succeeds only if nothing is stored under the key yet, and
   * the check and the write are one atomic step in the store (S3 `If-None-Match: *` on the
   * PutObject or the CompleteMultipartUpload; a hard link for a folder). When the key is
   * taken the put fails with `STORE_KEY_EXISTS` and the stored object is left as it was.
   * Backups, sidecars, audit events and drill reports are written this way; the IAM roles
   * refuse any other write there (docs/infrastructure.md "Immutable backups").
   */
  ifNoneMatch?: '*'
  /** Stops the write (and any request in flight) when aborted; the put then rejects. */
  signal?: AbortSignal
  /**
   * What the object's size will be about, when the writer knows (an overestimate is
   * fine): a store that uploads in parts sizes them to fit, small parts for a small
   * object. Without it, parts are sized for the largest objects.
   */
  expectedBytes?: number | undefined
  /**
   * A folder for what a store stages on disk: S3 upload parts too large to hold in
   * memory (an archive of more than about 27 GiB of tables). The OS temp folder without it.
   */
  tempDir?: string | undefined
}

export interface GetOptions {
  /** The first byte to read (0 without it): a read resumed after its connection broke. */
  from?: number
}

/** One version of an object, on a store that keeps versions (a versioned S3 bucket). */
export interface StoredVersion {
  key: string
  size: number
  /** The version a plain GET returns; older ones are noncurrent. */
  current: boolean
  /** A delete marker: no bytes, but an entry the bucket keeps. */
  deleteMarker: boolean
}

export interface Store {
  /** Where the store is, safe to print (no credentials). */
  readonly location: string
  /** The printable location of one key (`s3://bucket/prefix/key`, `/path/key`). */
  locate(key: string): string
  /**
   * Writes a stream under `key`. The object becomes visible only once complete;
   * a failure leaves nothing at `key` (aborted multipart upload, removed temp file).
   * With `ifNoneMatch: '*'`, see PutOptions.
   */
  put(key: string, body: Readable | Buffer | string, options?: PutOptions): Promise<{ bytes: number }>
  /**
   * Reads an object as a stream; `BACKUP_NOT_FOUND` when it does not exist. On S3 a role
   * without `s3:ListBucket` on the key gets `STORE_FORBIDDEN` for a missing key instead.
   */
  get(key: string, options?: GetOptions): Promise<Readable>
  head(key: string): Promise<StoredObject | undefined>
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): Promise<StoredObject[]>
  delete(keys: readonly string[]): Promise<void>
  /** Writes under `prefix` that began and never finished (clean aborts the stale ones). */
  listPendingUploads?(prefix: string): Promise<PendingUpload[]>
  /** Drops a pending upload and the bytes it holds. */
  abortPendingUpload?(upload: PendingUpload): Promise<void>
  /**
   * Creates the store where the job may (a folder; a bucket is provisioned by infra/).
   * Only the backup calls it: every other job finds a missing store an error (STORE_MISSING).
   */
  create?(): Promise<void>
  /** Every version under `prefix` (S3 ListObjectVersions); absent where the store keeps none. */
  versions?(prefix: string): Promise<StoredVersion[]>
}

/** True for the error a create-only put fails with when the key is taken (`STORE_KEY_EXISTS`). */
export function isKeyExists(error: unknown): error is LifeboatError {
  return isLifeboatError(error) && error.code === 'STORE_KEY_EXISTS'
}
