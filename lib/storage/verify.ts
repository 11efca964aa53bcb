// Checks a backup's Storage part without touching Storage: the index and manifest match
// their references and each other; every referenced blob exists at its stored size
// (`exists`), or streams back, decrypted, to its sha256 (`read`). Problems name objects.
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Store } from '../adapters/store/store.ts'
import { isLifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import { formatCount } from '../core/format.ts'
import { type Decrypt, openBlob } from './blob-store.ts'
import { BLOBS_PREFIX, blobKey } from './layout.ts'
import {
  objectLabel,
  type StorageIndex,
  type StorageManifest,
  type StorageReference,
  storageReferenceOf,
} from './manifest.ts'
import { readStorageIndex, readStorageManifest } from './manifest-io.ts'
import { forEachLimit } from './pool.ts'
import { StorageProgress } from './progress.ts'

export interface StorageVerifyDeps {
  store: Store
  emit: EmitEvent
  /** Needed to read encrypted blobs, and to name objects of an encrypted backup. */
  decrypt?: Decrypt
  signal?: AbortSignal
}

export interface StorageVerifyOptions {
  /** `exists`: presence and stored size only; `read`: every blob streamed and hashed. */
  mode: 'exists' | 'read'
  jobs: number
}

export interface StorageVerification {
  id: string
  mode: 'exists' | 'read'
  ok: boolean
  objects: number
  blobs: number
  /** Plaintext bytes read and hashed (`read` mode). */
  bytesRead: number
  /** One line per problem, naming `bucket/name` where the manifest could be read. */
  problems: string[]
  /** `bucket/name` of every object whose content failed (the blob key when names are unknown). */
  failedObjects: string[]
}

interface BlobCheck {
  key: string
  sha256: string
  size: number
  storedBytes: number
  labels: string[]
}

/** Undefined when the backup has no Storage part. */
export async function verifyStorage(
  deps: StorageVerifyDeps,
  sidecar: { id: string },
  options: StorageVerifyOptions,
): Promise<StorageVerification | undefined> {
  const reference = storageReferenceOf(sidecar, sidecar.id)
  if (!reference) return undefined
  const result: StorageVerification = {
    id: sidecar.id,
    mode: options.mode,
    ok: false,
    objects: reference.objects,
    blobs: 0,
    bytesRead: 0,
    problems: [],
    failedObjects: [],
  }
  const index = await readOrReport(() => readStorageIndex(deps.store, reference.index), result)
  const wantNames = options.mode === 'read' || !reference.encrypted || deps.decrypt !== undefined
  const manifest = wantNames
    ? await readOrReport(() => readStorageManifest(deps.store, reference.manifest, deps.decrypt), result)
    : undefined
  if (!index) return settle(result)
  if (manifest) compareManifest(manifest, index, reference, result)
  const blobs = blobChecks(index, manifest)
  result.blobs = blobs.length
  if (options.mode === 'exists') await checkExistence(deps.store, blobs, result)
  else await checkContent(deps, blobs, options.jobs, result)
  return settle(result)
}

async function readOrReport<T>(read: () => Promise<T>, result: StorageVerification): Promise<T | undefined> {
  try {
    return await read()
  } catch (error) {
    if (
      !isLifeboatError(error) ||
      !['ARCHIVE_CORRUPT', 'ARCHIVE_FORMAT', 'BACKUP_NOT_FOUND', 'DECRYPT_FAILED'].includes(error.code)
    ) {
      throw error
    }
    result.problems.push(error.message)
    return undefined
  }
}

/** Index and manifest are written in the same order, one entry per object. */
function compareManifest(
  manifest: StorageManifest,
  index: StorageIndex,
  reference: StorageReference,
  result: StorageVerification,
): void {
  if (manifest.header.id !== result.id)
    result.problems.push(`the storage manifest names backup ${manifest.header.id}`)
  if (manifest.objects.length !== index.entries.length || manifest.objects.length !== reference.objects) {
    result.problems.push(
      `the storage manifest lists ${manifest.objects.length} objects, the index ${index.entries.length}, manifest.json ${reference.objects}`,
    )
    return
  }
  manifest.objects.forEach((object, i) => {
    const entry = index.entries[i]!
    if (entry.sha256 !== object.sha256 || entry.size !== object.size) {
      result.problems.push(
        `${objectLabel(object)}: the index and the storage manifest disagree on its content`,
      )
      result.failedObjects.push(objectLabel(object))
    }
  })
}

function blobChecks(index: StorageIndex, manifest: StorageManifest | undefined): BlobCheck[] {
  const byKey = new Map<string, BlobCheck>()
  index.entries.forEach((entry, i) => {
    const key = blobKey(entry.sha256, index.header.keyset)
    const check = byKey.get(key) ?? {
      key,
      sha256: entry.sha256,
      size: entry.size,
      storedBytes: entry.storedBytes,
      labels: [],
    }
    const object = manifest?.objects[i]
    check.labels.push(object && object.sha256 === entry.sha256 ? objectLabel(object) : key)
    byKey.set(key, check)
  })
  return [...byKey.values()]
}

async function checkExistence(
  store: Store,
  blobs: readonly BlobCheck[],
  result: StorageVerification,
): Promise<void> {
  const present = new Map((await store.list(BLOBS_PREFIX)).map((o) => [o.key, o.size]))
  for (const blob of blobs) {
    const size = present.get(blob.key)
    const problem =
      size === undefined
        ? `its blob ${blob.key} is missing`
        : size !== blob.storedBytes
          ? `its blob ${blob.key} has ${formatCount(size)} bytes, the index records ${formatCount(blob.storedBytes)}`
          : undefined
    if (problem) fail(result, blob, problem)
  }
}

async function checkContent(
  deps: StorageVerifyDeps,
  blobs: readonly BlobCheck[],
  jobs: number,
  result: StorageVerification,
): Promise<void> {
  const progress = new StorageProgress(
    deps.emit,
    'verify',
    blobs.length,
    blobs.reduce((n, b) => n + b.size, 0),
  )
  await forEachLimit(
    blobs,
    jobs,
    async (blob) => {
      const label = blob.labels[0]!
      try {
        const stream = await openBlob(
          deps.store,
          blob.key,
          { ...blob, label },
          deps.decrypt,
          progress.addBytes,
        )
        await pipeline(stream, new Writable({ write: (_chunk, _enc, done) => done() }))
        result.bytesRead += blob.size
      } catch (error) {
        if (
          !isLifeboatError(error) ||
          ['STORE_UNREACHABLE', 'STORE_FORBIDDEN', 'INTERNAL'].includes(error.code)
        ) {
          throw error
        }
        fail(
          result,
          blob,
          error.message.startsWith(label) ? error.message.slice(label.length + 1) : error.message,
        )
      }
      progress.objectDone()
    },
    deps.signal,
  )
}

function fail(result: StorageVerification, blob: BlobCheck, problem: string): void {
  const shown =
    blob.labels.slice(0, 3).join(', ') + (blob.labels.length > 3 ? ` and ${blob.labels.length - 3} more` : '')
  result.problems.push(`${shown}: ${problem}`)
  result.failedObjects.push(...blob.labels)
}

function settle(result: StorageVerification): StorageVerification {
  result.ok = result.problems.length === 0
  result.failedObjects.sort()
  return result
}
