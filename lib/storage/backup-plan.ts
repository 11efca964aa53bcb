// Decides, per listed object, whether its content must be read from the source or the
// previous backup's content hash can be reused; and what changed while the backup ran.
// Pure: the backup engine gathers the inputs and acts on the plan.
import { createHash } from 'node:crypto'
import { compareObjects, fingerprintOf, type IndexEntry, objectLabel } from './manifest.ts'

const DAY = 86_400_000

export interface ListedStorageObject {
  bucket: string
  name: string
  size: number
  etag: string | null
}

export type TransferDecision =
  | { action: 'reuse'; object: ListedStorageObject; previous: IndexEntry }
  | {
      action: 'read'
      object: ListedStorageObject
      /** `unknown`: no earlier backup hashed this bucket, name, size and ETag (new or changed). */
      why: 'unknown' | 'no-etag' | 'blob-missing' | 'reread-due' | 'reread-forced'
    }

export interface PlanInputs {
  objects: readonly ListedStorageObject[]
  /** The previous complete backup's index entries, by fingerprint. */
  previous: ReadonlyMap<string, IndexEntry>
  /** Blobs the store holds (listed after the lock was taken): key → stored size. */
  blobs: ReadonlyMap<string, number>
  blobKeyOf: (sha256: string) => string
  now: Date
  rereadDays: number
  reread: boolean
}

/**
 * Reuse is safe only when all hold: the same bucket, name, size and ETag as an object
 * whose content was hashed before; that content's blob is in the store at its recorded
 * size; and it was read from the source within its re-read period (`rereadDays`, spread
 * per object over [½, 1] of the period so re-reads do not all fall on one day).
 */
export function planTransfers(inputs: PlanInputs): TransferDecision[] {
  return inputs.objects.map((object): TransferDecision => {
    if (inputs.reread) return { action: 'read', object, why: 'reread-forced' }
    const fingerprint = fingerprintOf(object.bucket, object.name, object.size, object.etag)
    if (!fingerprint) return { action: 'read', object, why: 'no-etag' }
    const previous = inputs.previous.get(fingerprint)
    if (!previous) return { action: 'read', object, why: 'unknown' }
    const stored = inputs.blobs.get(inputs.blobKeyOf(previous.sha256))
    if (stored === undefined || stored !== previous.storedBytes) {
      return { action: 'read', object, why: 'blob-missing' }
    }
    const age = inputs.now.getTime() - Date.parse(previous.readAt)
    if (!(age < rereadPeriodMs(fingerprint, inputs.rereadDays)))
      return { action: 'read', object, why: 'reread-due' }
    return { action: 'reuse', object, previous }
  })
}

/** This object's re-read period: between half and all of `days`, fixed per object. */
export function rereadPeriodMs(fingerprint: string, days: number): number {
  const spread = createHash('sha256').update(fingerprint).digest().readUInt16BE(0) / 0xffff
  return days * DAY * (0.5 + spread / 2)
}

export interface ListingChanges {
  added: string[]
  deleted: string[]
  changed: string[]
}

/** `bucket/name`s added, deleted or changed (size or ETag) between two listings. */
export function diffListings(
  before: readonly ListedStorageObject[],
  after: readonly ListedStorageObject[],
): ListingChanges {
  const earlier = new Map(before.map((o) => [objectLabel(o), o]))
  const later = new Map(after.map((o) => [objectLabel(o), o]))
  const changes: ListingChanges = { added: [], deleted: [], changed: [] }
  for (const [label, o] of later) {
    const was = earlier.get(label)
    if (!was) changes.added.push(label)
    else if (was.size !== o.size || was.etag !== o.etag) changes.changed.push(label)
  }
  for (const label of earlier.keys()) if (!later.has(label)) changes.deleted.push(label)
  for (const list of [changes.added, changes.deleted, changes.changed]) list.sort()
  return changes
}

/** Objects in manifest order, duplicates (one name listed twice) refused. */
export function sortListing<T extends ListedStorageObject>(objects: readonly T[]): T[] {
  const sorted = [...objects].sort(compareObjects)
  for (let i = 1; i < sorted.length; i++) {
    if (compareObjects(sorted[i - 1]!, sorted[i]!) === 0) {
      throw new Error(`the listing names ${objectLabel(sorted[i]!)} twice`)
    }
  }
  return sorted
}
