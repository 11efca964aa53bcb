// The pooled S3 upload (lib/adapters/store/s3-upload.ts) against a receiver that answers
// and checks as S3 documents: the requests for a small and a large body, the CRC32 of
// every part and its place in the completion, how far ahead of the store the body is
// read, and what a refused part leaves behind.
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { S3Client } from '@aws-sdk/client-s3'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { uploadObject } from '../../lib/adapters/store/s3-upload.ts'
import { S3MultipartReceiver } from '../helpers/s3-multipart-receiver.ts'

const KiB = 1024
const PART = 256 * KiB
const target = { Bucket: 'b', Key: 'k', ContentType: 'application/octet-stream' }

let receiver: S3MultipartReceiver
let client: S3Client

beforeEach(async () => {
  receiver = new S3MultipartReceiver()
  client = new S3Client({
    region: 'us-east-1',
    endpoint: await receiver.start(),
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestChecksumCalculation: 'WHEN_SUPPORTED',
    maxAttempts: 1,
  })
})

afterEach(async () => {
  client.destroy()
  await receiver.stop()
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

describe('an S3 upload through pooled part buffers', () => {
  test('a body no larger than one part is stored with a single PutObject', async () => {
    const bytes = randomBytes(PART)
    expect(await uploadObject(client, target, chunked(bytes, 64 * KiB), { partSize: PART, buffers: 2 })).toBe(
      PART,
    )
    expect(receiver.requests).toEqual(['PutObject'])
    expect(receiver.stored?.equals(bytes)).toBe(true)
  })

  test('a larger body is stored in parts, each with its CRC32, all listed in the completion', async () => {
    const bytes = randomBytes(5 * PART + 1000)
    const size = await uploadObject(client, target, chunked(bytes, 100 * KiB), {
      partSize: PART,
      buffers: 2,
    })
    expect(size).toBe(bytes.length)
    expect(receiver.requests[0]).toBe('CreateMultipartUpload')
    expect(receiver.checksumAlgorithm).toBe('CRC32')
    expect(receiver.requests.at(-1)).toBe('CompleteMultipartUpload')
    expect(partsInOrder().map((p) => p.bytes.length)).toEqual([PART, PART, PART, PART, PART, 1000])
    expect(partsInOrder().every((p) => p.crc32 !== undefined)).toBe(true)
    expect(receiver.problems).toEqual([])
    expect(receiver.stored?.equals(bytes)).toBe(true)
  })

  test('a body exactly two parts long ends with a full part, not an empty one', async () => {
    const bytes = randomBytes(2 * PART)
    await uploadObject(client, target, chunked(bytes, PART), { partSize: PART, buffers: 2 })
    expect(partsInOrder().map((p) => p.partNumber)).toEqual([1, 2])
    expect(receiver.stored?.equals(bytes)).toBe(true)
  })

  test('with the store not answering, two parts are out and the body is read no further than them', async () => {
    receiver.holdParts = true
    const source = chunked(randomBytes(12 * PART), 32 * KiB)
    const upload = uploadObject(client, target, source, { partSize: PART, buffers: 2 })
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
    const upload = uploadObject(client, target, chunked(randomBytes(8 * PART), 64 * KiB), {
      partSize: PART,
      buffers: 2,
    })
    await expect(upload).rejects.toThrow(/Access Denied/)
    expect(receiver.aborted).toBe(true)
    expect(receiver.requests).not.toContain('CompleteMultipartUpload')
    expect(receiver.stored).toBeUndefined()
  })

  test('an aborted signal stops the upload and aborts the multipart upload', async () => {
    receiver.holdParts = true
    const stop = new AbortController()
    const upload = uploadObject(client, target, chunked(randomBytes(8 * PART), 64 * KiB), {
      partSize: PART,
      buffers: 2,
      signal: stop.signal,
    })
    while (receiver.heldCount < 1) await sleep(10)
    stop.abort(new Error('interrupted'))
    await expect(upload).rejects.toThrow()
    expect(receiver.aborted).toBe(true)
    expect(receiver.stored).toBeUndefined()
  })
})
