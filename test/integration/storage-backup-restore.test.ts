// Storage files end to end against real S3 API servers standing in for two Supabase
// projects: back up two buckets (nested and unicode names, an empty and a 30 MB object,
// content types), restore into an empty project, then back up again after one change.

import { DeleteObjectCommand } from '@aws-sdk/client-s3'
import { generateIdentity, identityToRecipient } from 'age-encryption'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decryptStream } from '../../lib/adapters/crypto/age.ts'
import type { LifeboatError } from '../../lib/core/errors.ts'
import { Secret } from '../../lib/core/secret.ts'
import { BLOBS_PREFIX } from '../../lib/storage/layout.ts'
import { restoreStorage } from '../../lib/storage/restore.ts'
import { verifyStorage } from '../../lib/storage/verify.ts'
import { CountingClient, CountingStore } from '../helpers/storage-spies.ts'
import {
  backupWithSidecar,
  factsOf,
  freshBackupStore,
  pseudoRandom,
  pseudoRandomBuffer,
  type SeedObject,
  type StorageProject,
  seed,
  startStorageProject,
  storageSettings,
} from '../helpers/storage-world.ts'

const avatar = pseudoRandomBuffer(20_000, 'avatar')
const fixtures: SeedObject[] = [
  {
    bucket: 'avatars',
    name: 'users/1/avatar.png',
    body: avatar,
    contentType: 'image/png',
    cacheControl: 'max-age=3600',
    metadata: { uploadedby: 'alice' },
  },
  // Same bytes under another name: stored once.
  { bucket: 'avatars', name: 'users/2/avatar.png', body: avatar, contentType: 'image/png' },
  {
    bucket: 'avatars',
    name: 'photos/été/naïve café ☕.jpg',
    body: Buffer.from('jpeg bytes ☕'),
    contentType: 'image/jpeg',
  },
  {
    bucket: 'documents',
    name: 'reports/2026/q1/summary.pdf',
    body: Buffer.from('%PDF-1.7 first'),
    contentType: 'application/pdf',
  },
  {
    bucket: 'documents',
    name: '日本語/ファイル.txt',
    body: Buffer.from('こんにちは'),
    contentType: 'text/plain; charset=utf-8',
  },
  { bucket: 'documents', name: 'empty.txt', body: Buffer.alloc(0), contentType: 'text/plain' },
  {
    bucket: 'documents',
    name: 'big/video.bin',
    body: pseudoRandom(30 * 1024 * 1024, 'video'),
    contentType: 'video/mp4',
  },
]

let source: StorageProject
const projects: StorageProject[] = []

async function emptyProject(): Promise<StorageProject> {
  const project = await startStorageProject('target')
  projects.push(project)
  return project
}

beforeAll(async () => {
  source = await startStorageProject('source')
  projects.push(source)
  await seed(source.raw, fixtures)
})
afterAll(async () => {
  await Promise.all(projects.map((p) => p.server.stop()))
})

function expectSameObjects(
  actual: Awaited<ReturnType<typeof factsOf>>,
  expected: Awaited<ReturnType<typeof factsOf>>,
) {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort())
  for (const [label, facts] of expected) expect(actual.get(label), label).toEqual(facts)
}

describe('a backup of two buckets', () => {
  const store = new CountingStore(freshBackupStore('storage-e2e'))
  const settings = () => storageSettings(source.endpoint)
  let first: Awaited<ReturnType<typeof backupWithSidecar>>
  let sourceBefore: Awaited<ReturnType<typeof factsOf>>

  beforeAll(async () => {
    sourceBefore = await factsOf(source.raw)
    first = await backupWithSidecar({ store, source: source.client }, { settings: settings() })
  })

  it('records every object and stores equal contents once', async () => {
    expect(first.result).toMatchObject({
      buckets: 2,
      objects: 7,
      read: { objects: 7 },
      reused: { objects: 0 },
    })
    expect(first.result.uploaded.blobs).toBe(6)
    expect(first.result.deduplicated.objects).toBe(1)
    expect((await store.list(BLOBS_PREFIX)).length).toBe(6)
  })

  it('passes verification in existence and read modes', async () => {
    for (const mode of ['exists', 'read'] as const) {
      const report = await verifyStorage({ store, emit: () => {} }, first.sidecar, { mode, jobs: 2 })
      expect(report, mode).toMatchObject({ ok: true, problems: [], objects: 7, blobs: 6 })
    }
  })

  it('restores into an empty project: every object identical in name, size, sha256 and metadata', async () => {
    const target = await emptyProject()
    const result = await restoreStorage({ store, target: target.client, emit: () => {} }, first.sidecar, {
      selection: { buckets: [], excludeBuckets: [] },
      truncate: false,
      jobs: 3,
    })
    expect(result).toMatchObject({
      bucketsCreated: ['avatars', 'documents'],
      uploaded: { objects: 7 },
      identical: 0,
    })
    expectSameObjects(await factsOf(target.raw), sourceBefore)
  })

  it('after one object changes, reads and uploads only that object, and both backups restore', async () => {
    await seed(source.raw, [
      {
        bucket: 'documents',
        name: 'reports/2026/q1/summary.pdf',
        body: Buffer.from('%PDF-1.7 second'),
        contentType: 'application/pdf',
      },
    ])
    const counted = new CountingClient(source.client)
    const putsBefore = store.puts.length
    const second = await backupWithSidecar({ store, source: counted }, { settings: settings() })
    const blobPuts = store.puts.slice(putsBefore).filter((k) => k.startsWith(BLOBS_PREFIX))
    expect(counted.gets).toEqual(['documents/reports/2026/q1/summary.pdf'])
    // Without the database, an unchanged object's metadata comes from a HEAD, never its bytes.
    expect(counted.heads).toHaveLength(6)
    expect(blobPuts).toHaveLength(1)
    expect(second.result).toMatchObject({
      read: { objects: 1 },
      reused: { objects: 6 },
      uploaded: { blobs: 1 },
    })
    expect(second.result.reused.bytes).toBeGreaterThan(30 * 1024 * 1024)

    for (const [backup, expected] of [
      [first, sourceBefore],
      [second, await factsOf(source.raw)],
    ] as const) {
      const target = await emptyProject()
      await restoreStorage({ store, target: target.client, emit: () => {} }, backup.sidecar, {
        selection: { buckets: [], excludeBuckets: [] },
        truncate: false,
        jobs: 4,
      })
      expectSameObjects(await factsOf(target.raw), expected)
    }
  })
})

describe('an encrypted backup', () => {
  it('stores only age-encrypted blobs and restores with the identity, not without', async () => {
    const identity = await generateIdentity()
    const recipient = await identityToRecipient(identity)
    const store = freshBackupStore('storage-age')
    await seed(source.raw, [
      { bucket: 'sealed', name: 'empty', body: Buffer.alloc(0) },
      {
        bucket: 'sealed',
        name: 'ünïcödé/日本.txt',
        body: Buffer.from('sealed ✓'),
        contentType: 'text/plain',
      },
    ])
    const backup = await backupWithSidecar(
      { store, source: source.client },
      {
        settings: storageSettings(source.endpoint, {
          selection: { buckets: ['avatars', 'sealed'], excludeBuckets: [] },
        }),
        recipients: [recipient],
      },
    )
    const blobs = await store.list(BLOBS_PREFIX)
    expect(blobs.length).toBe(4)
    expect(blobs.every((b) => b.key.endsWith('.age'))).toBe(true)
    expect(backup.reference.manifest.key).toMatch(/\.storage\.ndjson\.age$/)

    const target = await emptyProject()
    const restore = () =>
      restoreStorage({ store, target: target.client, emit: () => {} }, backup.sidecar, {
        selection: { buckets: [], excludeBuckets: [] },
        truncate: false,
        jobs: 2,
      })
    await expect(restore()).rejects.toMatchObject({ code: 'DECRYPT_FAILED' })
    const decrypt = (name: string) => decryptStream(new Secret(identity), { name })
    await restoreStorage({ store, target: target.client, emit: () => {}, decrypt }, backup.sidecar, {
      selection: { buckets: [], excludeBuckets: [] },
      truncate: false,
      jobs: 2,
    })
    const restored = await factsOf(target.raw)
    expect([...restored.keys()].sort()).toEqual([
      'avatars/photos/été/naïve café ☕.jpg',
      'avatars/users/1/avatar.png',
      'avatars/users/2/avatar.png',
      'sealed/empty',
      'sealed/ünïcödé/日本.txt',
    ])
    expect(restored.get('sealed/empty')?.size).toBe(0)
    expect(restored.get('avatars/users/1/avatar.png')?.metadata).toEqual({ uploadedby: 'alice' })
  })
})

describe('a restore into a project that already has files', () => {
  it('refuses differing content, skips identical content, and with truncate makes buckets equal the backup', async () => {
    const store = freshBackupStore('storage-conflict')
    const settings = storageSettings(source.endpoint, {
      selection: { buckets: ['avatars'], excludeBuckets: [] },
    })
    const backup = await backupWithSidecar({ store, source: source.client }, { settings })
    const target = await emptyProject()
    await seed(target.raw, [
      {
        bucket: 'avatars',
        name: 'users/1/avatar.png',
        body: avatar,
        contentType: 'image/png',
        cacheControl: 'max-age=3600',
        metadata: { uploadedby: 'alice' },
      },
      {
        bucket: 'avatars',
        name: 'users/2/avatar.png',
        body: Buffer.from('someone else'),
        contentType: 'image/png',
      },
      { bucket: 'avatars', name: 'uploaded-later.png', body: Buffer.from('new'), contentType: 'image/png' },
    ])
    const restore = (truncate: boolean) =>
      restoreStorage({ store, target: target.client, emit: () => {} }, backup.sidecar, {
        selection: { buckets: [], excludeBuckets: [] },
        truncate,
        jobs: 2,
      })
    const refused = await restore(false).catch((e: LifeboatError) => e)
    expect(refused).toMatchObject({ code: 'TARGET_NOT_EMPTY' })
    expect((refused as LifeboatError).message).toContain('avatars/users/2/avatar.png')
    expect((await factsOf(target.raw)).get('avatars/users/2/avatar.png')?.size).toBe(12)

    const result = await restore(true)
    expect(result).toMatchObject({ identical: 1, overwritten: 1, extraDeleted: 1, uploaded: { objects: 2 } })
    const after = await factsOf(target.raw)
    expect([...after.keys()].sort()).toEqual([
      'avatars/photos/été/naïve café ☕.jpg',
      'avatars/users/1/avatar.png',
      'avatars/users/2/avatar.png',
    ])

    // A second run finds everything in place: an interrupted restore can simply be run again.
    expect(await restore(false)).toMatchObject({ identical: 3, uploaded: { objects: 0 } })
  })
})

describe('objects that change while the backup runs', () => {
  it('are reported as added, deleted and changed, and the backup holds what it read', async () => {
    await seed(source.raw, [
      { bucket: 'moving', name: 'stays.txt', body: Buffer.from('stays') },
      { bucket: 'moving', name: 'goes.txt', body: Buffer.from('goes') },
      { bucket: 'moving', name: 'changes.txt', body: Buffer.from('before') },
    ])
    // Between the listing and the first read, a user deletes, uploads and overwrites.
    class MovingSource extends CountingClient {
      override async getObject(bucket: string, name: string, signal?: AbortSignal) {
        if (this.gets.length === 0) {
          await source.raw.send(new DeleteObjectCommand({ Bucket: 'moving', Key: 'goes.txt' }))
          await seed(source.raw, [
            { bucket: 'moving', name: 'new.txt', body: Buffer.from('new') },
            { bucket: 'moving', name: 'changes.txt', body: Buffer.from('after!') },
          ])
        }
        return super.getObject(bucket, name, signal)
      }
    }
    const store = freshBackupStore('storage-moving')
    const settings = storageSettings(source.endpoint, {
      jobs: 1,
      selection: { buckets: ['moving'], excludeBuckets: [] },
    })
    const backup = await backupWithSidecar({ store, source: new MovingSource(source.client) }, { settings })
    expect(backup.result.changedDuringBackup).toEqual({ added: 1, deleted: 1, changed: 1 })
    expect(backup.result.objects).toBe(2)
    const target = await emptyProject()
    await restoreStorage({ store, target: target.client, emit: () => {} }, backup.sidecar, {
      selection: { buckets: [], excludeBuckets: [] },
      truncate: false,
      jobs: 1,
    })
    const restored = await factsOf(target.raw)
    expect([...restored.keys()].sort()).toEqual(['moving/changes.txt', 'moving/stays.txt'])
    expect(restored.get('moving/changes.txt')?.size).toBe('after!'.length)
  })
})
