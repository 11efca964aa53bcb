// Retention of Storage blobs after backup:clean's retention (mark and sweep), and what a
// tampered or missing blob does to verify and restore: fail, naming the object.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '../../lib/adapters/store/store.ts'
import { LifeboatError } from '../../lib/core/errors.ts'
import { runClean } from '../../lib/retention/clean.ts'
import { BLOBS_PREFIX, blobKey, LOCKS_PREFIX, MANIFESTS_PREFIX } from '../../lib/storage/layout.ts'
import { readStorageIndex } from '../../lib/storage/manifest-io.ts'
import { restoreStorage } from '../../lib/storage/restore.ts'
import { sweepStorage } from '../../lib/storage/sweep.ts'
import { verifyStorage } from '../../lib/storage/verify.ts'
import {
  type BackupRun,
  backupWithSidecar,
  freshBackupStore,
  type StorageProject,
  seed,
  startStorageProject,
  storageSettings,
} from '../helpers/storage-world.ts'

let source: StorageProject
let target: StorageProject

beforeAll(async () => {
  source = await startStorageProject('source')
  target = await startStorageProject('target')
})
afterAll(async () => {
  await Promise.all([source.server.stop(), target.server.stop()])
})

async function blobsOf(store: Store, backup: BackupRun): Promise<Set<string>> {
  const index = await readStorageIndex(store, backup.reference.index)
  return new Set(index.entries.map((e) => blobKey(e.sha256, index.header.keyset)))
}

const keysUnder = async (store: Store, prefix: string) =>
  new Set((await store.list(prefix)).map((o) => o.key))

describe('clean after retention', () => {
  it('deletes exactly the blobs and manifests no kept backup references', async () => {
    const store = freshBackupStore('storage-retention')
    const settings = storageSettings(source.endpoint, {
      selection: { buckets: ['files'], excludeBuckets: [] },
    })
    const version = async (n: number, names: string[]) =>
      seed(
        source.raw,
        names.map((name) => ({ bucket: 'files', name, body: Buffer.from(`${name} v${n}`) })),
      )
    await version(1, ['a.txt', 'b.txt', 'c.txt'])
    const oldest = await backupWithSidecar({ store, source: source.client }, { settings })
    await version(2, ['b.txt', 'c.txt'])
    const middle = await backupWithSidecar({ store, source: source.client }, { settings })
    await version(3, ['c.txt'])
    const newest = await backupWithSidecar({ store, source: source.client }, { settings })

    // backup:clean's retention: every backup is old, the floor keeps the newest two.
    const cleaned = await runClean(
      { store, now: new Date('2027-06-01T00:00:00Z'), emit: () => {} },
      { maxAgeDays: 30, floor: 2, tiers: { daily: 0, weekly: 0, monthly: 0 }, orphanGraceHours: 24 },
    )
    expect(cleaned.deleted.map((d) => d.id)).toEqual([oldest.id])

    const [oldBlobs, midBlobs, newBlobs] = await Promise.all(
      [oldest, middle, newest].map((b) => blobsOf(store, b)),
    )
    const kept = new Set([...midBlobs!, ...newBlobs!])
    const unreferenced = [...oldBlobs!].filter((k) => !kept.has(k))
    expect(unreferenced).toHaveLength(2) // b.txt and c.txt v1; a.txt v1 is in both kept backups

    const blobsBefore = await keysUnder(store, BLOBS_PREFIX)
    const swept = await sweepStorage({ store, now: () => new Date(), emit: () => {} }, { lockTtlMinutes: 30 })
    expect(swept).toMatchObject({ swept: true, blobsDeleted: 2, manifestsDeleted: 2, backupsMarked: 2 })

    const blobsAfter = await keysUnder(store, BLOBS_PREFIX)
    expect([...blobsBefore].filter((k) => !blobsAfter.has(k)).sort()).toEqual(unreferenced.sort())
    expect([...kept].every((k) => blobsAfter.has(k))).toBe(true)
    expect([...(await keysUnder(store, MANIFESTS_PREFIX))].some((k) => k.includes(oldest.id))).toBe(false)
    expect(await keysUnder(store, LOCKS_PREFIX)).toEqual(new Set())
    for (const backup of [middle, newest]) {
      const report = await verifyStorage({ store, emit: () => {} }, backup.sidecar, { mode: 'read', jobs: 2 })
      expect(report?.ok, backup.id).toBe(true)
    }
    // A second sweep finds nothing more to delete.
    expect(
      await sweepStorage({ store, now: () => new Date(), emit: () => {} }, { lockTtlMinutes: 30 }),
    ).toMatchObject({
      blobsDeleted: 0,
      manifestsDeleted: 0,
    })
  })

  it('stops before deleting anything when a kept backup’s index is unreadable', async () => {
    const store = freshBackupStore('storage-retention-bad-index')
    const settings = storageSettings(source.endpoint, {
      selection: { buckets: ['files'], excludeBuckets: [] },
    })
    const backup = await backupWithSidecar({ store, source: source.client }, { settings })
    await store.put(backup.reference.index.key, '{"format":1,"kind":"lifeboat-storage-index"}\n')
    await store.put(blobKey('f'.repeat(64), null), 'garbage nobody references')
    await expect(
      sweepStorage({ store, now: () => new Date(), emit: () => {} }, { lockTtlMinutes: 30 }),
    ).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT' })
    expect(await keysUnder(store, BLOBS_PREFIX)).toContain(blobKey('f'.repeat(64), null))
  })
})

describe('a tampered or missing blob', () => {
  const settings = () =>
    storageSettings(source.endpoint, { selection: { buckets: ['photos'], excludeBuckets: [] } })
  let store: Store
  let backup: BackupRun

  beforeAll(async () => {
    await seed(source.raw, [
      {
        bucket: 'photos',
        name: 'trips/2026/beach.jpg',
        body: Buffer.from('beach photo bytes'),
        contentType: 'image/jpeg',
      },
      {
        bucket: 'photos',
        name: 'trips/2026/hill.jpg',
        body: Buffer.from('hill photo bytes!'),
        contentType: 'image/jpeg',
      },
    ])
    store = freshBackupStore('storage-tamper')
    backup = await backupWithSidecar({ store, source: source.client }, { settings: settings() })
    const beach = (await readStorageIndex(store, backup.reference.index)).entries[0]!
    // Same size, other bytes: the existence check cannot see it, the content check must.
    await store.put(blobKey(beach.sha256, null), Buffer.from('BEACH PHOTO BYTES'))
  })

  it('fails verify --read-data naming the object, while the existence check passes', async () => {
    const exists = await verifyStorage({ store, emit: () => {} }, backup.sidecar, { mode: 'exists', jobs: 2 })
    expect(exists?.ok).toBe(true)
    const read = await verifyStorage({ store, emit: () => {} }, backup.sidecar, { mode: 'read', jobs: 2 })
    expect(read?.ok).toBe(false)
    expect(read?.failedObjects).toEqual(['photos/trips/2026/beach.jpg'])
    expect(read?.problems.join('\n')).toMatch(/photos\/trips\/2026\/beach\.jpg.*sha256/)
  })

  it('fails the restore naming the object, before anything is written to the target', async () => {
    const error = await restoreStorage({ store, target: target.client, emit: () => {} }, backup.sidecar, {
      selection: { buckets: [], excludeBuckets: [] },
      truncate: false,
      jobs: 2,
    }).catch((e: LifeboatError) => e)
    expect(error).toBeInstanceOf(LifeboatError)
    expect(error).toMatchObject({ code: 'VERIFY_FAILED' })
    expect((error as LifeboatError).message).toContain('photos/trips/2026/beach.jpg')
    expect(await target.client.listBuckets()).toEqual([])
  })

  it('is named by the existence check when it is gone', async () => {
    const hill = (await readStorageIndex(store, backup.reference.index)).entries[1]!
    await store.delete([blobKey(hill.sha256, null)])
    const exists = await verifyStorage({ store, emit: () => {} }, backup.sidecar, { mode: 'exists', jobs: 2 })
    expect(exists?.failedObjects).toEqual(['photos/trips/2026/hill.jpg'])
    expect(exists?.problems[0]).toMatch(/hill\.jpg: its blob .* is missing/)
  })

  it('leaves a backup without Storage files alone', async () => {
    expect(
      await verifyStorage({ store, emit: () => {} }, { id: 'backup-x' }, { mode: 'read', jobs: 1 }),
    ).toBeUndefined()
  })
})
