// How a Storage object goes up as a blob (lib/storage/blob-store.ts): the store is told
// its size, so an S3 store sizes the parts to fit (an object of any size fits in S3's
// 10,000 parts) and stages large ones beside the spooled file; and how it comes back: a
// read whose connection resets goes on from where it broke, still checked whole.
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buffer } from 'node:stream/consumers'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { FileStore } from '../../../lib/adapters/store/file-store.ts'
import type { GetOptions } from '../../../lib/adapters/store/store.ts'
import { BlobStore, openBlob } from '../../../lib/storage/blob-store.ts'
import { servedBytes, socketReset } from '../../helpers/served-bytes.ts'
import { CountingStore } from '../../helpers/storage-spies.ts'

let folder: string
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'lifeboat-blobs-'))
})
afterEach(() => rm(folder, { recursive: true, force: true }))

describe('BlobStore.putFile', () => {
  test('tells the store the object’s size and the spool’s folder for staging', async () => {
    const root = new FileStore(join(folder, 'store'))
    await root.create?.()
    const store = new CountingStore(root)
    const spool = join(folder, 'spool.bin')
    const content = randomBytes(70_000)
    await writeFile(spool, content)
    const sha256 = createHash('sha256').update(content).digest('hex')
    const blobs = new BlobStore(store)
    expect(await blobs.putFile(sha256, spool, 'avatars/a.png', content.length)).toBe(content.length)
    expect(store.putOptions.get(blobs.keyOf(sha256))).toMatchObject({
      expectedBytes: content.length,
      tempDir: folder,
      ifNoneMatch: '*',
    })
  })
})

/** A folder store whose first read of each object drops half-way, as a reset connection does. */
class ResettingStore extends FileStore {
  readonly reads: number[] = []
  override async get(key: string, options?: GetOptions) {
    const from = options?.from ?? 0
    this.reads.push(from)
    if (from > 0) return super.get(key, options)
    const bytes = await buffer(await super.get(key))
    return servedBytes(bytes, bytes.length >> 1, socketReset)
  }
}

describe('openBlob', () => {
  test('reads on from where a reset connection broke, and the content checks out', async () => {
    const store = new ResettingStore(join(folder, 'store'))
    await store.create?.()
    const content = randomBytes(200_000)
    const sha256 = createHash('sha256').update(content).digest('hex')
    const key = new BlobStore(store).keyOf(sha256)
    await store.put(key, content)
    const read = await openBlob(store, key, { sha256, size: content.length, label: 'b/a.bin' }, undefined)
    expect((await buffer(read)).equals(content)).toBe(true)
    expect(store.reads).toEqual([0, expect.any(Number)])
    expect(store.reads[1]).toBeGreaterThanOrEqual(content.length >> 1)
  })
})
