// The pure decisions: what a backup reads, what a restore writes, what a sweep deletes.
import { describe, expect, it } from 'vitest'
import {
  diffListings,
  type ListedStorageObject,
  planTransfers,
  rereadPeriodMs,
  sortListing,
} from '../../../lib/storage/backup-plan.ts'
import { blobKey } from '../../../lib/storage/layout.ts'
import { fingerprintOf, type IndexEntry, type StorageObjectEntry } from '../../../lib/storage/manifest.ts'
import { compareCatalog, objectsToCompare, planRestore } from '../../../lib/storage/restore-plan.ts'
import { planSweep } from '../../../lib/storage/sweep-plan.ts'

const DAY = 86_400_000
const now = new Date('2026-11-25T02:00:00Z')
const sha = (c: string) => c.repeat(64)
const object: ListedStorageObject = { bucket: 'b', name: 'n.txt', size: 10, etag: '"e1"' }

function previousOf(o: ListedStorageObject, readDaysAgo = 1, storedBytes = 10): Map<string, IndexEntry> {
  const fingerprint = fingerprintOf(o.bucket, o.name, o.size, o.etag)!
  return new Map([
    [
      fingerprint,
      {
        fingerprint,
        sha256: sha('a'),
        size: o.size,
        storedBytes,
        readAt: new Date(now.getTime() - readDaysAgo * DAY).toISOString(),
      },
    ],
  ])
}

function plan(overrides: Partial<Parameters<typeof planTransfers>[0]> = {}) {
  return planTransfers({
    objects: [object],
    previous: previousOf(object),
    blobs: new Map([[blobKey(sha('a'), null), 10]]),
    blobKeyOf: (s) => blobKey(s, null),
    now,
    rereadDays: 30,
    reread: false,
    ...overrides,
  })[0]!
}

describe('planTransfers', () => {
  it('reuses an unchanged object whose blob is stored at its recorded size', () => {
    expect(plan().action).toBe('reuse')
  })

  it('reads an object whose ETag or size changed', () => {
    expect(plan({ objects: [{ ...object, etag: '"e2"' }] })).toMatchObject({ action: 'read', why: 'unknown' })
    expect(plan({ objects: [{ ...object, size: 11 }] })).toMatchObject({ action: 'read', why: 'unknown' })
  })

  it('reads an object the listing gives no ETag for', () => {
    expect(plan({ objects: [{ ...object, etag: null }] })).toMatchObject({ action: 'read', why: 'no-etag' })
  })

  it('reads again when the blob is gone or has another size', () => {
    expect(plan({ blobs: new Map() })).toMatchObject({ action: 'read', why: 'blob-missing' })
    expect(plan({ blobs: new Map([[blobKey(sha('a'), null), 9]]) })).toMatchObject({ why: 'blob-missing' })
  })

  it('reads content last read longer ago than its re-read period, and everything when forced', () => {
    expect(plan({ previous: previousOf(object, 31) })).toMatchObject({ action: 'read', why: 'reread-due' })
    expect(plan({ previous: previousOf(object, 14) }).action).toBe('reuse')
    expect(plan({ rereadDays: 0 })).toMatchObject({ why: 'reread-due' })
    expect(plan({ reread: true })).toMatchObject({ action: 'read', why: 'reread-forced' })
  })

  it('spreads re-read periods between half and all of the period', () => {
    const periods = Array.from({ length: 200 }, (_, i) =>
      rereadPeriodMs(fingerprintOf('b', `n${i}`, 1, '"e"')!, 30),
    )
    expect(Math.min(...periods)).toBeGreaterThanOrEqual(15 * DAY)
    expect(Math.max(...periods)).toBeLessThanOrEqual(30 * DAY)
    expect(new Set(periods.map((p) => Math.floor(p / DAY))).size).toBeGreaterThan(10)
  })
})

describe('diffListings and sortListing', () => {
  it('names objects added, deleted and changed', () => {
    const a = { bucket: 'b', name: 'a', size: 1, etag: '"1"' }
    const c = { bucket: 'b', name: 'c', size: 1, etag: '"1"' }
    const d = { bucket: 'b', name: 'd', size: 1, etag: '"1"' }
    expect(diffListings([a, c], [{ ...a, etag: '"2"' }, d])).toEqual({
      added: ['b/d'],
      deleted: ['b/c'],
      changed: ['b/a'],
    })
  })

  it('orders bytewise and refuses a name listed twice', () => {
    const sorted = sortListing([
      { bucket: 'b', name: 'é', size: 1, etag: null },
      { bucket: 'b', name: 'z', size: 1, etag: null },
      { bucket: 'a', name: 'z', size: 1, etag: null },
    ])
    expect(sorted.map((o) => `${o.bucket}/${o.name}`)).toEqual(['a/z', 'b/z', 'b/é'])
    expect(() => sortListing([object, { ...object }])).toThrow(/twice/)
  })
})

function entry(name: string, content: string, size = 3): StorageObjectEntry {
  return {
    bucket: 'b',
    name,
    size,
    sha256: sha(content),
    etag: null,
    contentType: null,
    cacheControl: null,
    userMetadata: null,
    ownerId: null,
  }
}

describe('planRestore', () => {
  const backup = [entry('new', 'a'), entry('same', 'b'), entry('other', 'c'), entry('resized', 'd')]
  const target = [
    { bucket: 'b', name: 'same', size: 3, sha256: sha('b') },
    { bucket: 'b', name: 'other', size: 3, sha256: sha('x') },
    { bucket: 'b', name: 'resized', size: 4 },
    { bucket: 'b', name: 'extra', size: 1 },
  ]

  it('uploads what is missing, skips identical content, flags differing content, lists extras', () => {
    const plan = planRestore(backup, target)
    expect(plan.upload.map((o) => o.name)).toEqual(['new'])
    expect(plan.identical.map((o) => o.name)).toEqual(['same'])
    expect(plan.conflicts.map((o) => o.name)).toEqual(['other', 'resized'])
    expect(plan.extra.map((o) => o.name)).toEqual(['extra'])
  })

  it('hashes only target objects whose name and size match the backup', () => {
    expect(objectsToCompare(backup, target).map((o) => o.name)).toEqual(['same', 'other'])
  })

  it('compares rows with files within the restored buckets only', () => {
    const result = compareCatalog(
      [
        { bucket: 'b', name: 'row-only' },
        { bucket: 'b', name: 'both' },
        { bucket: 'other', name: 'x' },
      ],
      [
        { bucket: 'b', name: 'both' },
        { bucket: 'b', name: 'file-only' },
      ],
      new Set(['b']),
    )
    expect(result).toEqual({ rowsWithoutFile: ['b/row-only'], filesWithoutRow: ['b/file-only'] })
  })
})

describe('planSweep', () => {
  const kept = blobKey(sha('a'), null)
  const garbage = blobKey(sha('b'), null)
  it('deletes exactly the unreferenced blobs and the manifests of backups that are gone', () => {
    const plan = planSweep({
      blobs: [
        { key: kept, size: 5 },
        { key: garbage, size: 7 },
        { key: 'storage-objects/sha256/zz/unknown', size: 1 },
      ],
      manifests: [
        { key: 'storage-manifests/backup-2026-11-24T020000Z.index.ndjson', size: 2 },
        { key: 'storage-manifests/backup-2026-11-25T020000Z.index.ndjson', size: 3 },
        { key: 'storage-manifests/README', size: 1 },
      ],
      referenced: new Set([kept]),
      backups: new Set(['backup-2026-11-25T020000Z']),
    })
    expect(plan.blobs.map((b) => b.key)).toEqual([garbage])
    expect(plan.manifests.map((m) => m.key)).toEqual([
      'storage-manifests/backup-2026-11-24T020000Z.index.ndjson',
    ])
    expect(plan.bytes).toBe(9)
  })
})
