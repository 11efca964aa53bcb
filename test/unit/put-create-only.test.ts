// A create-only put of bytes in memory counts as done when the key holds exactly those
// bytes (its own write, landed though the answer was lost), and only then.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buffer } from 'node:stream/consumers'
import { describe, expect, it } from 'vitest'
import { FileStore } from '../../lib/adapters/store/file-store.ts'
import { putCreateOnly } from '../../lib/adapters/store/store.ts'

const ours = Buffer.from('{"id":"backup-2026-12-06T020000Z"}\n')
const storeHolding = async (bytes?: Buffer) => {
  const store = new FileStore(mkdtempSync(join(tmpdir(), 'put-create-only-')))
  if (bytes) await store.put('k.json', bytes)
  return store
}

describe('putCreateOnly', () => {
  it('writes a key that is free', async () => {
    const store = await storeHolding()
    await putCreateOnly(store, 'k.json', ours)
    expect(await buffer(await store.get('k.json'))).toEqual(ours)
  })

  it('is done when the key already holds exactly these bytes', async () => {
    await expect(putCreateOnly(await storeHolding(ours), 'k.json', ours)).resolves.toBeUndefined()
  })

  it.each([
    ['other bytes of the same length', Buffer.from(ours.toString().replace('02', '03'))],
    ['these bytes and more', Buffer.concat([ours, Buffer.from('x')])],
    ['the start of these bytes', ours.subarray(0, 10)],
  ])('fails as STORE_KEY_EXISTS, keeping the object, when the key holds %s', async (_, stored) => {
    const store = await storeHolding(stored)
    await expect(putCreateOnly(store, 'k.json', ours)).rejects.toMatchObject({ code: 'STORE_KEY_EXISTS' })
    expect(await buffer(await store.get('k.json'))).toEqual(stored)
  })
})
