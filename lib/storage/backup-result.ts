// The storage manifest a backup writes and the figures it reports (JSON summary,
// alerts), from the listing and what each object's transfer did. Pure.
import type { ListedStorageObject, ListingChanges } from './backup-plan.ts'
import type { StorageCatalog } from './catalog.ts'
import { type BucketEntry, objectLabel, STORAGE_FORMAT, type StorageManifest, sampleOf } from './manifest.ts'
import type { TransferredObject } from './transfer.ts'

export interface StorageBackupResult {
  buckets: number
  objects: number
  bytes: number
  /** Read from Storage this run (new, changed, or due for a re-read). */
  read: { objects: number; bytes: number }
  /** Unchanged since the previous backup: not downloaded at all. */
  reused: { objects: number; bytes: number }
  /** New blobs written to the backup store (stored bytes, encryption included). */
  uploaded: { blobs: number; bytes: number }
  /** Read, but the store already held the content: not uploaded again. */
  deduplicated: { objects: number; bytes: number }
  changedDuringBackup: { added: number; deleted: number; changed: number }
  /** Null when no database was read. */
  rowsWithoutFile: number | null
  filesWithoutRow: number | null
  seconds: number
  warnings: string[]
}

export function buildStorageManifest(args: {
  id: string
  source: { endpoint: string; region: string }
  listedAt: Date
  finishedAt: Date
  keyset: string | null
  buckets: readonly string[]
  catalog: StorageCatalog | undefined
  before: readonly ListedStorageObject[]
  transferred: readonly TransferredObject[]
  changes: ListingChanges
  vanished: readonly string[]
}): StorageManifest {
  const objects = args.transferred.map((t) => t.entry)
  const buckets: BucketEntry[] = args.buckets.map((name) => {
    const inBucket = objects.filter((o) => o.bucket === name)
    return {
      name,
      settings: args.catalog?.buckets.get(name) ?? null,
      objects: inBucket.length,
      bytes: inBucket.reduce((n, o) => n + o.size, 0),
    }
  })
  const listed = new Set(args.before.map(objectLabel))
  const rows = args.catalog ? new Set(args.catalog.objects.keys()) : undefined
  return {
    header: {
      format: STORAGE_FORMAT,
      kind: 'lifeboat-storage-manifest',
      id: args.id,
      source: args.source,
      listedAt: args.listedAt.toISOString(),
      finishedAt: args.finishedAt.toISOString(),
      encrypted: args.keyset !== null,
      keyset: args.keyset,
      catalog: args.catalog ? 'database' : 's3',
      buckets,
      objects: objects.length,
      bytes: objects.reduce((n, o) => n + o.size, 0),
      consistency: {
        rowsWithoutFile: rows ? sampleOf([...rows].filter((r) => !listed.has(r)).sort()) : null,
        filesWithoutRow: rows ? sampleOf([...listed].filter((l) => !rows.has(l)).sort()) : null,
        addedDuringBackup: sampleOf(args.changes.added),
        deletedDuringBackup: sampleOf([...new Set([...args.changes.deleted, ...args.vanished])].sort()),
        changedDuringBackup: sampleOf(args.changes.changed),
      },
    },
    objects,
  }
}

export function summarise(
  manifest: StorageManifest,
  transferred: readonly TransferredObject[],
  seconds: number,
  warnings: readonly string[],
): StorageBackupResult {
  const sum = (how: TransferredObject['how'][]) => {
    const picked = transferred.filter((t) => how.includes(t.how))
    return { objects: picked.length, bytes: picked.reduce((n, t) => n + t.entry.size, 0) }
  }
  const uploaded = transferred.filter((t) => t.how === 'uploaded')
  const c = manifest.header.consistency
  return {
    buckets: manifest.header.buckets.length,
    objects: manifest.header.objects,
    bytes: manifest.header.bytes,
    read: sum(['uploaded', 'deduplicated']),
    reused: sum(['reused']),
    uploaded: { blobs: uploaded.length, bytes: uploaded.reduce((n, t) => n + t.uploadedBytes, 0) },
    deduplicated: sum(['deduplicated']),
    changedDuringBackup: {
      added: c.addedDuringBackup.count,
      deleted: c.deletedDuringBackup.count,
      changed: c.changedDuringBackup.count,
    },
    rowsWithoutFile: c.rowsWithoutFile?.count ?? null,
    filesWithoutRow: c.filesWithoutRow?.count ?? null,
    seconds: Math.round(seconds * 1000) / 1000,
    warnings: [...warnings],
  }
}
