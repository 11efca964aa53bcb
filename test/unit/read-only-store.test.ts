// The store a drill restores from while its records go elsewhere: reads pass through,
// a write or a delete is refused and leaves the store as it was.
import { mkdtemp, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { FileStore } from '../../lib/adapters/store/file-store.ts'
import { readOnlyStore } from '../../lib/adapters/store/read-only-store.ts'

let folder: string
let store: FileStore

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'read-only-'))
  store = new FileStore(folder)
  await store.put('database-backups/a.manifest.json', '{"id":"a"}')
})

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  let out = ''
  for await (const chunk of stream) out += chunk.toString()
  return out
}

describe('readOnlyStore', () => {
  it('reads, heads and lists what the store holds', async () => {
    const reader = readOnlyStore(store)
    expect(await text(await reader.get('database-backups/a.manifest.json'))).toBe('{"id":"a"}')
    expect((await reader.head('database-backups/a.manifest.json'))?.size).toBe(10)
    expect((await reader.list('database-backups/')).map((o) => o.key)).toEqual([
      'database-backups/a.manifest.json',
    ])
    expect(reader.location).toBe(store.location)
  })

  it('refuses a write, naming the store, and writes nothing', async () => {
    await expect(readOnlyStore(store).put('drills/report.json', '{}')).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringContaining(`a write in ${store.location}, which this run only reads from`),
    })
    expect(await readdir(folder)).toEqual(['database-backups'])
  })

  it('refuses a delete and keeps the object', async () => {
    await expect(readOnlyStore(store).delete(['database-backups/a.manifest.json'])).rejects.toMatchObject({
      code: 'INTERNAL',
    })
    expect(await store.head('database-backups/a.manifest.json')).toBeDefined()
  })
})
