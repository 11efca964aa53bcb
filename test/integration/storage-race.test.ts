// The concurrent backup / clean race. An expired backup left blobs nobody references;
// a new backup finds the same content already stored and does not upload it again, while
// a sweep wants to delete those very blobs. Each process is held before each of its store
// calls in turn while the other runs; whatever the interleaving, the new backup's blobs
// must all exist afterwards. Locks, not luck: docs/storage.md explains the protocol.
import { mkdtempSync } from 'node:fs'
import { utimes } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FileStore } from '../../lib/adapters/store/file-store.ts'
import type { Store } from '../../lib/adapters/store/store.ts'
import { archiveKey, sidecarKey } from '../../lib/archive/layout.ts'
import type { EmitEvent } from '../../lib/core/events.ts'
import { BLOBS_PREFIX, LOCKS_PREFIX, lockKey, MANIFESTS_PREFIX } from '../../lib/storage/layout.ts'
import { sweepStorage } from '../../lib/storage/sweep.ts'
import { verifyStorage } from '../../lib/storage/verify.ts'
import { GatedStore, type StoreOp } from '../helpers/storage-spies.ts'
import {
  type BackupRun,
  backupWithSidecar,
  freshBackupStore,
  type StorageProject,
  seed,
  startStorageProject,
  storageSettings,
} from '../helpers/storage-world.ts'

// Long TTL and heartbeat (nothing goes stale here, and no heartbeat shifts the call
// positions), fast polling so a backup waiting for a sweep notices it end at once.
const lockTiming = { ttlMs: 600_000, heartbeatMs: 600_000, pollMs: 20 }
let source: StorageProject

beforeAll(async () => {
  source = await startStorageProject('source')
  await seed(source.raw, [
    { bucket: 'race', name: 'one.bin', body: Buffer.from('the first object') },
    { bucket: 'race', name: 'dir/two.bin', body: Buffer.from('the second object') },
  ])
})
afterAll(async () => source.server.stop())

const settings = () =>
  storageSettings(source.endpoint, { selection: { buckets: ['race'], excludeBuckets: [] } })

function folderStore(): Store {
  return new FileStore(mkdtempSync(join(resolve('.tmp'), 'storage-race-')))
}

/** A store holding only garbage blobs: a backup of the same content whose archive and sidecar retention deleted. */
async function expiredBackup(store: Store): Promise<void> {
  const expired = await backupWithSidecar(
    { store, source: source.client },
    { settings: settings(), lockTiming },
  )
  await store.delete([sidecarKey(expired.id), archiveKey(expired.id, false)])
}

const backup = (store: Store, emit: EmitEvent = () => {}) =>
  backupWithSidecar({ store, source: source.client, emit }, { settings: settings(), lockTiming })
const sweep = (store: Store) =>
  sweepStorage({ store, now: () => new Date(), emit: () => {} }, { lockTtlMinutes: 10, lockTiming })

async function expectIntact(store: Store, run: BackupRun, where: string): Promise<void> {
  const report = await verifyStorage({ store, emit: () => {} }, run.sidecar, { mode: 'exists', jobs: 2 })
  expect(report?.problems, where).toEqual([])
}

type Outcome =
  | 'sweep gave way'
  | 'swept first, backup uploaded again'
  | 'backup waited for the sweep'
  | 'sweep after backup'

/** Holds the backup before its store call `at` while a whole sweep runs. */
async function holdBackup(store: Store, at: number | ((op: StoreOp) => boolean)): Promise<Outcome> {
  const gated = new GatedStore(store)
  const gate = gated.pauseAt(at)
  const running = backup(gated)
  const reached = await Promise.race([gate.reached, running.then(() => undefined)])
  const swept = reached ? await sweep(store) : undefined
  gate.release()
  const run = await running
  await expectIntact(store, run, `backup held before ${reached?.kind} ${reached?.key}`)
  if (!swept) return 'sweep after backup'
  if (swept.skipped) return 'sweep gave way'
  expect(swept.blobsDeleted, 'the sweep deleted the garbage before the backup looked').toBe(2)
  expect(run.result.uploaded.blobs).toBe(2)
  return 'swept first, backup uploaded again'
}

/** Holds the sweep before its store call `at` while a backup runs until it ends or waits. */
async function holdSweep(store: Store, at: number | ((op: StoreOp) => boolean)): Promise<Outcome> {
  const gated = new GatedStore(store)
  const gate = gated.pauseAt(at)
  const sweeping = sweep(gated)
  const reached = await Promise.race([gate.reached, sweeping.then(() => undefined)])
  let waited = false
  let noticed!: () => void
  const waitingOrDone = new Promise<void>((done) => {
    noticed = done
  })
  const running = backup(store, (event) => {
    if (event.type === 'step' && event.message.startsWith('waiting for the storage sweep')) {
      waited = true
      noticed()
    }
  })
  void running.then(noticed, noticed)
  if (reached) await waitingOrDone
  gate.release()
  const swept = await sweeping
  const run = await running
  await expectIntact(store, run, `sweep held before ${reached?.kind} ${reached?.key}`)
  if (waited) return 'backup waited for the sweep'
  return swept.skipped ? 'sweep gave way' : 'sweep after backup'
}

async function callsOf(run: (store: GatedStore) => Promise<unknown>): Promise<number> {
  const store = folderStore()
  await expiredBackup(store)
  const gated = new GatedStore(store)
  await run(gated)
  return gated.ops.length
}

describe('a backup and a sweep at the same time', () => {
  it('never lose a blob the backup references, wherever the backup is held', async () => {
    const calls = await callsOf((s) => backup(s))
    const outcomes = new Set<Outcome>()
    for (let at = 0; at <= calls; at++) {
      const store = folderStore()
      await expiredBackup(store)
      outcomes.add(await holdBackup(store, at))
    }
    // Both sides of the protocol were exercised: the sweep ran first, or it gave way.
    expect(outcomes).toEqual(
      new Set(['swept first, backup uploaded again', 'sweep gave way', 'sweep after backup']),
    )
  })

  it('never lose a blob the backup references, wherever the sweep is held', async () => {
    const calls = await callsOf((s) => sweep(s))
    const outcomes = new Set<Outcome>()
    for (let at = 0; at <= calls; at++) {
      const store = folderStore()
      await expiredBackup(store)
      outcomes.add(await holdSweep(store, at))
    }
    expect(outcomes).toContain('backup waited for the sweep')
    expect(outcomes).toContain('sweep after backup')
  })

  it('holds on the S3 API too: a backup that found the blobs present makes the sweep give way', async () => {
    const store = freshBackupStore('storage-race')
    await expiredBackup(store)
    const outcome = await holdBackup(store, (op) => op.kind === 'put' && op.key.startsWith(MANIFESTS_PREFIX))
    expect(outcome).toBe('sweep gave way')
    expect((await store.list(BLOBS_PREFIX)).length).toBe(2)
  })

  it('holds on the S3 API too: a backup that starts while the sweep deletes waits for it', async () => {
    const store = freshBackupStore('storage-race-sweep')
    await expiredBackup(store)
    expect(await holdSweep(store, (op) => op.kind === 'delete')).toBe('backup waited for the sweep')
  })
})

describe('stale locks', () => {
  it('a crashed backup’s lock stops sweeps only until it is older than the TTL', async () => {
    const store = folderStore()
    await expiredBackup(store)
    const crashed = lockKey('backup-2026-01-01T000000Z-deadbeef', 'shared', 0)
    await store.put(crashed, '{}')
    const short = { ttlMs: 5 * 60_000, heartbeatMs: 600_000, pollMs: 20 }
    const sweepNow = () =>
      sweepStorage({ store, now: () => new Date(), emit: () => {} }, { lockTtlMinutes: 5, lockTiming: short })
    expect(await sweepNow()).toMatchObject({ swept: false, skipped: expect.stringContaining('deadbeef') })
    const tenMinutesAgo = new Date(Date.now() - 10 * 60_000)
    await utimes((store as FileStore).locate(crashed), tenMinutesAgo, tenMinutesAgo)
    // The crashed lock, and the expired backup's own lock and done marker.
    expect(await sweepNow()).toMatchObject({ swept: true, blobsDeleted: 2, locksCleared: 3 })
    expect(await store.list(LOCKS_PREFIX)).toEqual([])
  })

  it('a backup whose lock lapsed (stalled past the TTL) fails before its manifest and sidecar', async () => {
    const store = folderStore()
    let clock = 0
    const gated = new GatedStore(store)
    // The backup stalls for an hour while it uploads a blob.
    const gate = gated.pauseAt((op) => op.kind === 'put' && op.key.startsWith(BLOBS_PREFIX))
    void gate.reached.then(() => {
      clock += 3_600_000
      gate.release()
    })
    const run = backupWithSidecar(
      { store: gated, source: source.client, monotonic: () => clock },
      { settings: settings(), lockTiming: { ttlMs: 30 * 60_000, heartbeatMs: 600_000 } },
    )
    await expect(run).rejects.toMatchObject({ code: 'STORE_IO', message: expect.stringMatching(/lapsed/) })
    expect(await store.list(MANIFESTS_PREFIX)).toEqual([])
    expect((await store.list('database-backups/')).filter((o) => o.key.endsWith('.manifest.json'))).toEqual(
      [],
    )
  })
})
