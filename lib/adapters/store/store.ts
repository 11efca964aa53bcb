// The Store interface: what every job needs of a place that keeps archives.
// Keys are relative to the store's root (the s3 prefix or the folder).
import type { Readable } from 'node:stream'

export interface StoredObject {
  key: string
  size: number
  modified: Date
}

export interface PutOptions {
  contentType?: string
  /**
   * Smaller multipart buffers for one of many concurrent uploads (Storage blobs): about
   * 24 MiB per upload instead of 80. Stores that do not buffer ignore it.
   */
  lowMemory?: boolean
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
  put(key: string, body: Readable | Buffer | string, options?: PutOptions): Promise<{ bytes: number }>
  /** Reads an object as a stream; `BACKUP_NOT_FOUND` when it does not exist. */
  get(key: string): Promise<Readable>
  head(key: string): Promise<StoredObject | undefined>
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): Promise<StoredObject[]>
  delete(keys: readonly string[]): Promise<void>
}
