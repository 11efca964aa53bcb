// The pooled S3 upload (lib/adapters/store/s3-upload.ts) against a receiver that answers
// and checks as S3 documents: the requests for a small and a large body, the CRC32 of
// every part and its place in the completion, how far ahead of the store the body is
// read, and what a refused part leaves behind; with parts in memory and staged in files.
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { S3Client } from '@aws-sdk/client-s3'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { type UploadShape, uploadObject } from '../../lib/adapters/store/s3-upload.ts'
import { S3MultipartReceiver } from '../helpers/s3-multipart-receiver.ts'

const KiB = 1024
const PART = 256 * KiB
const target = { Bucket: 'b', Key: 'k', ContentType: 'application/octet-stream' }

let receiver: S3MultipartReceiver
let endpoint: string
let client: S3Client
/** Where staged parts go, one folder per test. */
let stage: string

const clientOf = (maxAttempts: number) =>
  new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestChecksumCalculation: 'WHEN_SUPPORTED',
    maxAttempts,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  })

beforeEach(async () => {
  receiver = new S3MultipartReceiver()
  endpoint = await receiver.start()
  client = clientOf(1)
  stage = await mkdtemp(join(tmpdir(), 'lifeboat-stage-test-'))
})

afterEach(async () => {
  client.destroy()
  await receiver.stop()
  await rm(stage, { recursive: true, force: true })
})

/** The parts the receiver got, by part number (two in flight may arrive in either order). */
const partsInOrder = () => [...receiver.parts.values()].sort((a, b) => a.partNumber - b.partNumber)

/** The bytes in chunks of `chunk`, counting how many the uploader has pulled. */
function chunked(bytes: Buffer, chunk: number) {
  const source = {
    pulled: 0,
    async *[Symbol.asyncIterator]() {
      for (let at = 0; at < bytes.length; at += chunk) {
        const piece = bytes.subarray(at, at + chunk)
        source.pulled += piece.length
        yield piece
      }
    },
  }
  return source
}

describe.each([
  ['in memory buffers', false],
  ['files', true],
])('an S3 upload through parts held in %s', (_, staged) => {
  const shape = (extra: { signal?: AbortSignal } = {}): UploadShape => ({
    partSize: PART,
    slots: 2,
    tempDir: stage,
    memoryPartLimit: staged ? 0 : undefined,
    ...extra,
  })

  test('a body no larger than one part is stored with a single PutObject', async () => {
    const bytes = randomBytes(PART)
    expect(await uploadObject(client, target, chunked(bytes, 64 * KiB), shape())).toBe(PART)
    expect(receiver.requests).toEqual(['PutObject'])
    expect(receiver.problems).toEqual([])
    expect(receiver.stored?.equals(bytes)).toBe(true)
  })

  test('a larger body is stored in parts, each with its CRC32, all listed in the completion', async () => {
    const bytes = randomBytes(5 * PART + 1000)
    const size = await uploadObject(client, target, chunked(bytes, 100 * KiB), shape())
    expect(size).toBe(bytes.length)
    expect(receiver.requests[0]).toBe('CreateMultipartUpload')
    expect(receiver.checksumAlgorithm).toBe('CRC32')
    expect(receiver.requests.at(-1)).toBe('CompleteMultipartUpload')
    expect(partsInOrder().map((p) => p.bytes.length)).toEqual([PART, PART, PART, PART, PART, 1000])
    expect(partsInOrder().every((p) => p.crc32 !== undefined)).toBe(true)
    expect(receiver.problems).toEqual([])
    expect(receiver.stored?.equals(bytes)).toBe(true)
  })

  test.each([
    ['one part', PART],
    ['parts', 3 * PART],
  ])('an object in %s carries its content type, cache control and metadata', async (_, size) => {
    const described = {
      ...target,
      ContentType: 'image/png',
      CacheControl: 'max-age=3600',
      Metadata: { owner: 'ada' },
    }
    await uploadObject(client, described, chunked(randomBytes(size), 64 * KiB), shape())
    expect(receiver.objectHeaders).toMatchObject({
      'content-type': 'image/png',
      'cache-control': 'max-age=3600',
      'x-amz-meta-owner': 'ada',
    })
  })

  test('a body exactly two parts long ends with a full part, not an empty one', async () => {
    const bytes = randomBytes(2 * PART)
    await uploadObject(client, target, chunked(bytes, PART), shape())
    expect(partsInOrder().map((p) => p.partNumber)).toEqual([1, 2])
    expect(receiver.stored?.equals(bytes)).toBe(true)
  })

  test('with the store not answering, two parts are out and the body is read no further than them', async () => {
    receiver.holdParts = true
    const source = chunked(randomBytes(12 * PART), 32 * KiB)
    const upload = uploadObject(client, target, source, shape())
    while (receiver.heldCount < 2) await sleep(10)
    await sleep(200)
    expect(receiver.mostPartsAtOnce).toBe(2)
    // Both buffers out as parts, and the chunk that found no buffer to go into.
    expect(source.pulled).toBeLessThanOrEqual(2 * PART + 32 * KiB)
    receiver.release()
    await upload
    expect(receiver.parts.size).toBe(12)
    expect(receiver.mostPartsAtOnce).toBe(2)
    expect(receiver.problems).toEqual([])
  })

  test('a part the store refuses fails the upload, aborts it and completes nothing', async () => {
    receiver.refuseParts.add(3)
    const upload = uploadObject(client, target, chunked(randomBytes(8 * PART), 64 * KiB), shape())
    await expect(upload).rejects.toThrow(/Access Denied/)
    expect(receiver.aborted).toBe(true)
    expect(receiver.requests).not.toContain('CompleteMultipartUpload')
    expect(receiver.stored).toBeUndefined()
  })

  test('an aborted signal stops the upload and aborts the multipart upload', async () => {
    receiver.holdParts = true
    const stop = new AbortController()
    const upload = uploadObject(
      client,
      target,
      chunked(randomBytes(8 * PART), 64 * KiB),
      shape({ signal: stop.signal }),
    )
    while (receiver.heldCount < 1) await sleep(10)
    stop.abort(new Error('interrupted'))
    await expect(upload).rejects.toThrow()
    expect(receiver.aborted).toBe(true)
    expect(receiver.stored).toBeUndefined()
  })
})

describe('an S3 upload of a stream', () => {
  test('an abort while the body waits for its next chunk ends the upload and destroys the body', async () => {
    const body = new PassThrough()
    body.write(randomBytes(3 * PART))
    const stop = new AbortController()
    const upload = uploadObject(client, target, body, { partSize: PART, signal: stop.signal })
    while (receiver.parts.size < 2) await sleep(10)
    stop.abort(new Error('interrupted'))
    await expect(upload).rejects.toThrow('interrupted')
    expect(body.destroyed).toBe(true)
    expect(receiver.aborted).toBe(true)
  })

  test('a signal aborted before the upload starts sends nothing and destroys the body', async () => {
    const body = new PassThrough()
    const stop = new AbortController()
    stop.abort(new Error('interrupted'))
    await expect(uploadObject(client, target, body, { partSize: PART, signal: stop.signal })).rejects.toThrow(
      'interrupted',
    )
    expect(body.destroyed).toBe(true)
    expect(receiver.requests).toEqual([])
  })
})

describe('an S3 upload through parts staged in files', () => {
  const shape: UploadShape = {
    partSize: PART,
    slots: 2,
    memoryPartLimit: 0,
    get tempDir() {
      return stage
    },
  }

  test('leaves no file behind once stored', async () => {
    await uploadObject(client, target, chunked(randomBytes(5 * PART), 64 * KiB), shape)
    expect(receiver.parts.size).toBe(5)
    expect(await readdir(stage)).toEqual([])
  })

  test('leaves no file behind when the store refuses a part', async () => {
    receiver.refuseParts.add(2)
    await expect(
      uploadObject(client, target, chunked(randomBytes(5 * PART), 64 * KiB), shape),
    ).rejects.toThrow(/Access Denied/)
    expect(await readdir(stage)).toEqual([])
  })

  test('holds two part files, whatever the size of the body', async () => {
    receiver.holdParts = true
    const upload = uploadObject(client, target, chunked(randomBytes(12 * PART), 64 * KiB), shape)
    while (receiver.heldCount < 2) await sleep(10)
    expect(await readdir(stage)).toHaveLength(2)
    receiver.release()
    await upload
  })

  test('sends a part again, the same bytes, when S3 fails it with a 500', async () => {
    client.destroy()
    client = clientOf(3)
    receiver.failPartsOnce.add(2)
    const bytes = randomBytes(4 * PART)
    await uploadObject(client, target, chunked(bytes, 64 * KiB), shape)
    expect(receiver.requests.filter((r) => r === 'UploadPart 2')).toHaveLength(2)
    expect(receiver.problems).toEqual([])
    expect(receiver.stored?.equals(bytes)).toBe(true)
  })

  test('does not send a refused part again', async () => {
    client.destroy()
    client = clientOf(3)
    receiver.refuseParts.add(1)
    await expect(
      uploadObject(client, target, chunked(randomBytes(4 * PART), 64 * KiB), shape),
    ).rejects.toThrow(/Access Denied/)
    expect(receiver.requests.filter((r) => r === 'UploadPart 1')).toHaveLength(1)
    expect(receiver.aborted).toBe(true)
  })
})
