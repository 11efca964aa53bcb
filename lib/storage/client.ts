// The Storage side as the engines see it: a project's buckets and objects, reached
// through Supabase Storage's S3-compatible endpoint (lib/storage/s3-client.ts).
import type { Readable } from 'node:stream'
import { LifeboatError } from '../core/errors.ts'
import type { StorageEndpoint } from './settings.ts'

export interface StorageListedObject {
  bucket: string
  name: string
  size: number
  /** As the listing gives it (quoted, e.g. `"9a0364b9e99bb480dd25e1f0284c8555"`); null when absent. */
  etag: string | null
}

export interface StorageObjectMetadata {
  size: number
  etag: string | null
  contentType: string | null
  cacheControl: string | null
  /** `x-amz-meta-*` (keys lower-cased); Supabase omits non-ASCII and non-string values. */
  userMetadata: Record<string, string> | null
  /** How many user metadata entries the endpoint could not send (`x-amz-missing-meta`). */
  missingMetadata: number
}

export interface StorageObjectRead extends StorageObjectMetadata {
  /** Fails with ObjectChangedWhileRead when the object is replaced or deleted mid-read. */
  body: Readable
}

/**
 * A read that broke off could not go on: the object was replaced or deleted since it began
 * (the resumed GET found another ETag, or none). Reading it again from its start is right.
 */
export class ObjectChangedWhileRead extends LifeboatError {
  constructor(label: string, cause: unknown) {
    super('STORAGE_IO', `${label} was replaced or deleted while it was read`, { cause })
  }
}

export interface PutStorageObject {
  /** The object's size in bytes, as the backup recorded it: sizes the upload's parts. */
  size: number
  contentType: string | null
  cacheControl: string | null
  userMetadata: Record<string, string> | null
}

export interface StorageClient {
  /** The endpoint, safe to print. */
  readonly location: string
  listBuckets(signal?: AbortSignal): Promise<string[]>
  /** Every object of a bucket, in the endpoint's order. */
  listObjects(bucket: string, signal?: AbortSignal): Promise<StorageListedObject[]>
  /** Undefined when the object does not exist (deleted since it was listed). */
  headObject(bucket: string, name: string, signal?: AbortSignal): Promise<StorageObjectMetadata | undefined>
  getObject(bucket: string, name: string, signal?: AbortSignal): Promise<StorageObjectRead | undefined>
  createBucket(bucket: string, signal?: AbortSignal): Promise<void>
  /** Streams the body (multipart for large objects); a failure leaves no object behind. */
  putObject(
    bucket: string,
    name: string,
    body: Readable,
    meta: PutStorageObject,
    signal?: AbortSignal,
  ): Promise<void>
  deleteObjects(bucket: string, names: readonly string[], signal?: AbortSignal): Promise<void>
  /** Removes an empty bucket. */
  deleteBucket(bucket: string, signal?: AbortSignal): Promise<void>
}

/** Loads the AWS SDK only when Storage is used. */
export async function openStorageClient(endpoint: StorageEndpoint): Promise<StorageClient> {
  const { S3StorageClient } = await import('./s3-client.ts')
  return new S3StorageClient(endpoint)
}
