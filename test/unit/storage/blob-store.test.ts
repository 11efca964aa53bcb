// How a Storage object goes up as a blob (lib/storage/blob-store.ts): the store is told
// its size, so an S3 store sizes the parts to fit (an object of any size fits in S3's
// 10,000 parts) and stages large ones beside the spooled file.
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { FileStore } from '../../../lib/adapters/store/file-store.ts'
import { BlobStore } from '../../../lib/storage/blob-store.ts'
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
