// An upload to the S3 API whose parts are larger than an upload holds in memory (an
// archive of a large database): the parts wait in files in the temp folder given, go
// to the store as streams, and the object reads back byte for byte; a read resumes from
// a byte (a ranged GET), also after its connection dropped mid-body.
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import { openStore } from '../../lib/adapters/store/open-store.ts'
import { readResuming } from '../../lib/adapters/store/resuming-read.ts'
import { partSizeFor } from '../../lib/adapters/store/s3-upload.ts'
import { readStoreConfig, SettingsReader } from '../../lib/core/config.ts'
import { isLifeboatError } from '../../lib/core/errors.ts'
import { startCountingProxy } from '../helpers/counting-proxy.ts'
import { s3Env } from '../helpers/s3-server.ts'

const MiB = 1024 * 1024
/** What a database of about 40 GB says it may grow to: 12 MiB parts, more than memory holds. */
const LARGE_DATABASE = 40e9

let tempDir: string
beforeAll(async () => {
  tempDir = await mkdtemp(join(resolve('.tmp'), 'staged-parts-'))
})
afterAll(() => rm(tempDir, { recursive: true, force: true }))

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')
const s3Store = () => openStore(readStoreConfig(new SettingsReader(s3Env(inject('s3Endpoint'), 'staged')))!)

describe('an S3 upload with parts staged in files', () => {
  test('stores the body in parts staged in the temp folder, and it reads back the same', async () => {
    expect(partSizeFor({ expectedBytes: LARGE_DATABASE })).toBe(12 * MiB)
    const store = s3Store()
    const body = randomBytes(30 * MiB)
    const stagedWhileSending: string[][] = []
    async function* chunks() {
      for (let at = 0; at < body.length; at += MiB) {
        // Well past the first part (the stream reads a chunk or two ahead): its file is
        // being sent and the next one fills.
        if (at === 16 * MiB) stagedWhileSending.push(await readdir(tempDir))
        yield body.subarray(at, at + MiB)
      }
    }
    const { bytes } = await store.put('big.bin', Readable.from(chunks(), { highWaterMark: 1 }), {
      expectedBytes: LARGE_DATABASE,
      tempDir,
    })
    expect(bytes).toBe(body.length)
    expect(stagedWhileSending[0]).toHaveLength(2)
    expect(stagedWhileSending[0]!.every((name) => name.startsWith('lifeboat-part-'))).toBe(true)
    expect(await readdir(tempDir)).toEqual([])
    const read: Buffer[] = []
    for await (const chunk of await store.get('big.bin')) read.push(chunk as Buffer)
    expect(sha256(Buffer.concat(read))).toBe(sha256(body))
  })
})

describe('an S3 upload whose temp folder fills up while parts are staged', () => {
  let small: string
  beforeAll(async () => {
    small = await mkdtemp(join(resolve('.tmp'), 'staged-small-disk-'))
    // A 1 MiB disk of its own (the tests run as root, as CI does).
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small])
  })
  afterAll(async () => {
    execFileSync('umount', [small])
    await rm(small, { recursive: true, force: true })
  })

  test('is TEMP_DISK_FULL naming the folder, stores nothing and leaves no part file', async () => {
    const store = s3Store()
    const body = Readable.from([randomBytes(4 * MiB)])
    const failure = await store
      .put('full.bin', body, { expectedBytes: LARGE_DATABASE, tempDir: small })
      .catch((error: unknown) => error)
    expect(isLifeboatError(failure) && failure.code).toBe('TEMP_DISK_FULL')
    expect((failure as Error).message).toContain(`the temp folder ${small} ran out of space (ENOSPC)`)
    expect(await readdir(small)).toEqual([])
    expect(await store.head('full.bin')).toBeUndefined()
  })
})

describe('a read resumed from a byte', () => {
  test('returns the object from that byte on (a ranged GET)', async () => {
    const store = s3Store()
    const body = randomBytes(3 * MiB + 17)
    await store.put('ranged.bin', body)
    const from = 2 * MiB + 5
    expect((await buffer(await store.get('ranged.bin', { from }))).equals(body.subarray(from))).toBe(true)
    expect((await buffer(await store.get('ranged.bin'))).equals(body)).toBe(true)
  })

  test('a download whose connection drops mid-body is read on from where it broke', async () => {
    const body = randomBytes(3 * MiB)
    await s3Store().put('dropped.bin', body)
    const proxy = await startCountingProxy(inject('s3Endpoint'), { cutFirstGetAfter: MiB + 3 })
    try {
      const store = openStore(readStoreConfig(new SettingsReader(s3Env(proxy.endpoint, 'staged')))!)
      const resumedAt: number[] = []
      const read = await readResuming(store, 'dropped.bin', { onResume: (from) => resumedAt.push(from) })
      expect((await buffer(read)).equals(body)).toBe(true)
      expect(resumedAt).toEqual([MiB + 3])
      expect(proxy.requests.filter((r) => r.startsWith('GET'))).toEqual([
        expect.stringMatching(/^GET \/\S*dropped\.bin\?x-id=GetObject$/),
        expect.stringMatching(/dropped\.bin\?x-id=GetObject \(bytes=1048579-\)$/),
      ])
    } finally {
      await proxy.close()
    }
  })
})
