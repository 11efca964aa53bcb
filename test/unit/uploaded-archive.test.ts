// The archive's upload failed at its very end: an object under its key of exactly its
// size is this upload (the id is claimed), anything else is the failure it was.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FileStore } from '../../lib/adapters/store/file-store.ts'
import { uploadedArchive } from '../../lib/archive/upload.ts'
import { LifeboatError } from '../../lib/core/errors.ts'

const KEY = 'database-backups/backup-2026-12-06T020000Z.tar.gz'
const stats = { bytes: 10, sha256: 'a'.repeat(64) }
const taken = () => new LifeboatError('STORE_KEY_EXISTS', 'an object is already stored under this key')

async function storeHolding(bytes?: number) {
  const store = new FileStore(mkdtempSync(join(tmpdir(), 'uploaded-archive-')))
  if (bytes !== undefined) await store.put(KEY, Buffer.alloc(bytes))
  return store
}

describe('uploadedArchive', () => {
  it('is the archive when both the writer and the store are done', async () => {
    const done = uploadedArchive(Promise.resolve(stats), Promise.resolve(), await storeHolding(), KEY)
    await expect(done).resolves.toEqual(stats)
  })

  it('is the archive when the store failed at the end but holds the key at the archive’s size', async () => {
    const done = uploadedArchive(Promise.resolve(stats), Promise.reject(taken()), await storeHolding(10), KEY)
    await expect(done).resolves.toEqual(stats)
  })

  it.each([
    ['another size', 11],
    ['nothing', undefined],
  ])('is the store’s failure when the key holds %s', async (_, bytes) => {
    const done = uploadedArchive(
      Promise.resolve(stats),
      Promise.reject(taken()),
      await storeHolding(bytes),
      KEY,
    )
    await expect(done).rejects.toMatchObject({ code: 'STORE_KEY_EXISTS' })
  })

  it('is the store’s failure at once when the store failed before the writer finished', async () => {
    const never = new Promise<typeof stats>(() => {})
    const done = uploadedArchive(never, Promise.reject(taken()), await storeHolding(10), KEY)
    await expect(done).rejects.toMatchObject({ code: 'STORE_KEY_EXISTS' })
  })
})
