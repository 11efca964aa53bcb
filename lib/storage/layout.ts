// Where Storage backups live in the backup store: content blobs, per-backup manifests
// and the lock objects that keep a sweep from deleting what a running backup relies on.
import { createHash } from 'node:crypto'

export const BLOBS_PREFIX = 'storage-objects/sha256/'
export const MANIFESTS_PREFIX = 'storage-manifests/'
export const LOCKS_PREFIX = 'storage-locks/'

const SHA256 = /^[0-9a-f]{64}$/

/**
 * Names the set of age recipients blobs are encrypted to. Blobs encrypted to another
 * set are other keys: after a key rotation the next backup uploads its content again,
 * so a retired key never guards data a newer backup relies on.
 */
export function keysetOf(recipients: readonly string[]): string {
  const sorted = [...new Set(recipients.map((r) => r.toLowerCase()))].sort()
  return createHash('sha256').update(sorted.join('\n')).digest('hex').slice(0, 12)
}

/** `storage-objects/sha256/ab/ab12…` (plain) or `…/ab12….<keyset>.age` (age-encrypted). */
export function blobKey(sha256: string, keyset: string | null): string {
  if (!SHA256.test(sha256)) throw new Error(`not a sha256: ${sha256}`)
  return `${BLOBS_PREFIX}${sha256.slice(0, 2)}/${sha256}${keyset ? `.${keyset}.age` : ''}`
}

export interface ParsedBlobKey {
  sha256: string
  keyset: string | null
}

export function parseBlobKey(key: string): ParsedBlobKey | undefined {
  const m = /^storage-objects\/sha256\/([0-9a-f]{2})\/([0-9a-f]{64})(?:\.([0-9a-f]{12})\.age)?$/.exec(key)
  if (!m || !m[2]!.startsWith(m[1]!)) return undefined
  return { sha256: m[2]!, keyset: m[3] ?? null }
}

/** The storage manifest of one backup: every object's name, metadata and content hash. */
export function storageManifestKey(id: string, encrypted: boolean): string {
  return `${MANIFESTS_PREFIX}${id}.storage.ndjson${encrypted ? '.age' : ''}`
}

/** The plaintext index of one backup: content hashes only, no names (what writer and cleaner read). */
export function storageIndexKey(id: string): string {
  return `${MANIFESTS_PREFIX}${id}.index.ndjson`
}

/** The backup id a manifest or index key belongs to. */
export function backupIdOfManifestKey(key: string): string | undefined {
  const m = /^storage-manifests\/(backup-[0-9T-]+Z)\.(?:storage\.ndjson(?:\.age)?|index\.ndjson)$/.exec(key)
  return m?.[1]
}

export type LockKind = 'shared' | 'exclusive' | 'done'

export interface ParsedLockKey {
  owner: string
  kind: LockKind
  seq: number
}

const OWNER = /^[a-z0-9][a-z0-9-]{0,80}$/i

/**
 * `storage-locks/<owner>.<kind>.<seq>.json`. A holder writes a new object per heartbeat
 * (the writer role may only create, never overwrite); a backup ends with `done`.
 */
export function lockKey(owner: string, kind: LockKind, seq: number): string {
  if (!OWNER.test(owner)) throw new Error(`not a lock owner: ${owner}`)
  return `${LOCKS_PREFIX}${owner}.${kind}.${String(seq).padStart(6, '0')}.json`
}

export function parseLockKey(key: string): ParsedLockKey | undefined {
  const m = /^storage-locks\/([a-z0-9][a-z0-9-]{0,80})\.(shared|exclusive|done)\.(\d{6})\.json$/i.exec(key)
  if (!m) return undefined
  return { owner: m[1]!, kind: m[2] as LockKind, seq: Number(m[3]) }
}
