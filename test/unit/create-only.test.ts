// Create-only puts that know their own landed write (the answer lost, the retry refused):
// bytes in memory when the key holds exactly them; a stream under a claimed key when the
// whole body went out (bytes in memory always do) and the key holds an object of exactly
// its size. Only then.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { describe, expect, it } from 'vitest'
import { putClaimed, putCreateOnly } from '../../lib/adapters/store/create-only.ts'
import { FileStore } from '../../lib/adapters/store/file-store.ts'

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

describe('putClaimed', () => {
  const body = () => Readable.from([Buffer.from('0123456789'), Buffer.from('abcdef')])

  it('writes a key that is free and says how many bytes', async () => {
    const store = await storeHolding()
    await expect(putClaimed(store, 'k.json', body())).resolves.toEqual({ bytes: 16 })
    expect((await buffer(await store.get('k.json'))).toString()).toBe('0123456789abcdef')
  })

  it('is done when the store refuses after the whole body and the key holds exactly that size', async () => {
    const store = await storeHolding(Buffer.alloc(16))
    await expect(putClaimed(store, 'k.json', body())).resolves.toEqual({ bytes: 16 })
  })

  it('fails as the store failed when the key holds another size', async () => {
    const store = await storeHolding(Buffer.alloc(15))
    await expect(putClaimed(store, 'k.json', body())).rejects.toMatchObject({ code: 'STORE_KEY_EXISTS' })
  })

  it('fails as the body failed, whatever the key holds, when the body did not go out whole', async () => {
    const store = await storeHolding(Buffer.alloc(10))
    const broken = Readable.from(
      (async function* () {
        yield Buffer.from('0123456789')
        throw new Error('the writer stopped')
      })(),
    )
    await expect(putClaimed(store, 'k.json', broken)).rejects.toThrow()
    expect(await buffer(await store.get('k.json'))).toEqual(Buffer.alloc(10))
  })

  it('takes bytes in memory too: done when the key holds an object of their size, failing on another', async () => {
    const bytes = Buffer.from('0123456789abcdef')
    await expect(putClaimed(await storeHolding(), 'k.json', bytes)).resolves.toEqual({ bytes: 16 })
    await expect(putClaimed(await storeHolding(Buffer.alloc(16)), 'k.json', bytes)).resolves.toEqual({
      bytes: 16,
    })
    await expect(putClaimed(await storeHolding(Buffer.alloc(17)), 'k.json', bytes)).rejects.toMatchObject({
      code: 'STORE_KEY_EXISTS',
    })
  })
})
