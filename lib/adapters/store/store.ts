// The Store interface: what every job needs of a place that keeps archives.
// Keys are relative to the store's root (the s3 prefix or the folder).
import type { Readable } from 'node:stream'

export interface StoredObject {
  key: string
  size: number
  modified: Date
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
   */
  put(
    key: string,
    body: Readable | Buffer | string,
    options?: { contentType?: string },
  ): Promise<{ bytes: number }>
  /** Reads an object as a stream; `BACKUP_NOT_FOUND` when it does not exist. */
  get(key: string): Promise<Readable>
  head(key: string): Promise<StoredObject | undefined>
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): Promise<StoredObject[]>
  delete(keys: readonly string[]): Promise<void>
  /** Every version under `prefix` (S3 ListObjectVersions); absent where the store keeps none. */
  versions?(prefix: string): Promise<StoredVersion[]>
}
