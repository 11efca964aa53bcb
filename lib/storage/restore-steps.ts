// The restore's steps on single objects: hash what the target holds, prove a blob
// before anything is written, upload one object and read it back to its sha256.
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Store } from '../adapters/store/store.ts'
import { LifeboatError } from '../core/errors.ts'
import { type Decrypt, openBlob } from './blob-store.ts'
import type { PutStorageObject, StorageClient } from './client.ts'
import { HashMeter } from './hashing.ts'
import { blobKey } from './layout.ts'
import { objectLabel, type StorageObjectEntry } from './manifest.ts'
import type { StorageProgress } from './progress.ts'

export interface RestoreContext {
  store: Store
  target: StorageClient
  keyset: string | null
  decrypt?: Decrypt
  signal?: AbortSignal
  progress?: StorageProgress
}

/** The sha256 and size of an object in the target, read in full; undefined when it is gone. */
export async function hashTargetObject(
  ctx: RestoreContext,
  bucket: string,
  name: string,
): Promise<{ sha256: string; size: number } | undefined> {
  const got = await ctx.target.getObject(bucket, name, ctx.signal)
  if (!got) return undefined
  const meter = new HashMeter()
  await pipeline(got.body, meter, discard(), { signal: ctx.signal })
  return { sha256: meter.sha256(), size: meter.bytes }
}

/** Reads an object's blob through decryption and the sha256 check, writing nothing. */
export async function proveBlob(ctx: RestoreContext, object: StorageObjectEntry): Promise<void> {
  const stream = await openBlob(ctx.store, blobKey(object.sha256, ctx.keyset), expected(object), ctx.decrypt)
  await pipeline(stream, discard(), { signal: ctx.signal })
}

/**
 * Streams the blob into the target; the check fails the stream before its end on a
 * mismatch, so the upload is aborted and nothing wrong is committed. Then reads the
 * object back and compares its sha256: what the target stores is what was backed up.
 */
export async function uploadObject(ctx: RestoreContext, object: StorageObjectEntry): Promise<void> {
  const label = objectLabel(object)
  const body = await openBlob(
    ctx.store,
    blobKey(object.sha256, ctx.keyset),
    expected(object),
    ctx.decrypt,
    ctx.progress?.addBytes,
  )
  await ctx.target.putObject(object.bucket, object.name, body, putMetadata(object), ctx.signal)
  const stored = await hashTargetObject(ctx, object.bucket, object.name)
  if (!stored || stored.sha256 !== object.sha256 || stored.size !== object.size) {
    throw new LifeboatError(
      'RESTORE_FAILED',
      `${label}: read back from the target ${stored ? `with sha256 ${stored.sha256.slice(0, 12)}… (${stored.size} bytes)` : 'missing'}, expected ${object.sha256.slice(0, 12)}… (${object.size} bytes)`,
    )
  }
}

/** What S3 can carry: string user metadata with ASCII keys and values. */
export function putMetadata(object: StorageObjectEntry): PutStorageObject {
  const meta: Record<string, string> = {}
  for (const [key, value] of Object.entries(object.userMetadata ?? {})) {
    if (typeof value === 'string' && isAscii(key) && isAscii(value) && key !== '')
      meta[key.toLowerCase()] = value
  }
  return {
    size: object.size,
    contentType: object.contentType,
    cacheControl: object.cacheControl,
    userMetadata: Object.keys(meta).length > 0 ? meta : null,
  }
}

/** True when S3 metadata cannot hold the object's user metadata exactly. */
export function needsCatalogMetadata(object: StorageObjectEntry): boolean {
  const meta = object.userMetadata ?? {}
  return Object.entries(meta).some(
    ([k, v]) => typeof v !== 'string' || !isAscii(k) || !isAscii(v) || k !== k.toLowerCase(),
  )
}

function expected(object: StorageObjectEntry) {
  return {
    sha256: object.sha256,
    size: object.size,
    label: `${objectLabel(object)} (blob ${object.sha256.slice(0, 12)}…)`,
  }
}

function isAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text)
}

function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() })
}
