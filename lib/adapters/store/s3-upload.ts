// A streamed upload to S3 through a fixed set of part slots: the body is copied into
// one, sent as a part when full while the next one fills, and each is filled again once
// its part is stored. The memory is two parts (or two files) whatever the size, and
// none of it turns into garbage: lib-storage concatenated a fresh buffer for every part,
// which V8 freed late (a demo backup to S3: 128–168 MB with it, 116–120 MB with two
// buffers of our own; bench/README.md).
// The requests are lib-storage's: one PutObject when the body fits in a part, else
// CreateMultipartUpload (asking for CRC32 when the client sends checksums, as the SDK's
// default `WHEN_SUPPORTED` does), UploadPart, and CompleteMultipartUpload with each
// part's ETag and checksum. `IfNoneMatch` goes on the request that makes the object appear.
// Parts larger than an upload may hold in memory wait in files instead (s3-part-slots.ts).
import { tmpdir } from 'node:os'
import { Readable } from 'node:stream'
import {
  AbortMultipartUploadCommand,
  ChecksumAlgorithm,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { BufferSlot, FileSlot, type PartBody, type PartSlot } from './s3-part-slots.ts'
import { withResends } from './s3-resend.ts'

export interface UploadTarget {
  Bucket: string
  Key: string
  ContentType: string
  CacheControl?: string
  Metadata?: Record<string, string>
  IfNoneMatch?: string
}

const MiB = 1024 * 1024
/** S3's limit of parts per multipart upload, and its least part size. */
const MAX_PARTS = 10_000
const MIN_PART = 5 * MiB
/** Parts for an object of unknown size: 16 MiB reaches 156 GiB. */
const UNKNOWN_SIZE_PART = 16 * MiB
/** Part slots of an upload: one part is sent while the next fills, or two are sent at once. */
const PART_SLOTS = 2
/**
 * The largest part an upload holds in memory: two of them are what the 120 MB target
 * leaves room for (bench/README.md). Larger parts wait in files (s3-part-slots.ts).
 */
export const MEMORY_PART_LIMIT = 8 * MiB

/**
 * The part size of a streamed upload of about `expectedBytes`: as small as S3 allows
 * while that size, three times over (an archive can outgrow its tables: bytea as hex),
 * fits in 10,000 parts: 5 MiB up to 16 GiB, larger beyond (and then, over
 * MEMORY_PART_LIMIT, waiting in files rather than in memory).
 */
export function partSizeFor(options: { expectedBytes?: number | undefined }): number {
  if (options.expectedBytes === undefined) return UNKNOWN_SIZE_PART
  return Math.max(MIN_PART, Math.ceil((3 * options.expectedBytes) / MAX_PARTS / MiB) * MiB)
}

export interface UploadShape {
  partSize: number
  /** Part slots: as many parts as there are are sent at once, and the next waits for one (2 without it). */
  slots?: number
  /** Where parts over the memory limit wait, in files (the OS temp folder without it). */
  tempDir?: string | undefined
  /** The largest part held in memory (MEMORY_PART_LIMIT without it). */
  memoryPartLimit?: number
  /** Stops the requests in flight; the upload then rejects with the signal's reason. */
  signal?: AbortSignal | undefined
}

/**
 * Stores `body` under the target's key and returns its size. On any failure the
 * multipart upload (if one began) is aborted, so no half-written object appears, and a
 * stream body is destroyed.
 */
export async function uploadObject(
  client: S3Client,
  target: UploadTarget,
  body: Buffer | Readable | AsyncIterable<Buffer | string>,
  shape: UploadShape,
): Promise<number> {
  const stream = body instanceof Readable ? body : undefined
  if (shape.signal?.aborted) {
    stream?.destroy()
    throw shape.signal.reason
  }
  if (Buffer.isBuffer(body) && body.length <= shape.partSize) {
    await client.send(new PutObjectCommand({ ...target, Body: body }), requestOptions(shape.signal))
    return body.length
  }
  // A body waiting for its next chunk hears of the abort through its own end.
  const onAbort = () => stream?.destroy(shape.signal!.reason)
  shape.signal?.addEventListener('abort', onAbort, { once: true })
  const upload = new PooledUpload(client, target, shape)
  try {
    for await (const chunk of Buffer.isBuffer(body) ? [body] : body) {
      await upload.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
    }
    await upload.finish()
    return upload.bytes
  } catch (error) {
    stream?.destroy()
    await upload.abort()
    throw error
  } finally {
    shape.signal?.removeEventListener('abort', onAbort)
    await upload.dispose()
  }
}

const requestOptions = (signal: AbortSignal | undefined) => (signal ? { abortSignal: signal } : {})

class PooledUpload {
  bytes = 0
  readonly #client: S3Client
  readonly #target: UploadTarget
  readonly #shape: UploadShape
  /** Cancels the requests in flight when the upload fails or the caller's signal fires. */
  readonly #stop = new AbortController()
  readonly #signal: AbortSignal
  readonly #slots: PartSlot[] = []
  readonly #free: PartSlot[] = []
  #current: PartSlot | undefined
  #checksums: Promise<boolean> | undefined
  #created: Promise<string> | undefined
  #partCount = 0
  readonly #parts: CompletedPart[] = []
  readonly #sending = new Set<Promise<void>>()
  #failure: { error: unknown } | undefined

  constructor(client: S3Client, target: UploadTarget, shape: UploadShape) {
    this.#client = client
    this.#target = target
    this.#shape = shape
    this.#signal = shape.signal ? AbortSignal.any([shape.signal, this.#stop.signal]) : this.#stop.signal
  }

  async write(chunk: Buffer): Promise<void> {
    let offset = 0
    while (offset < chunk.length) {
      // A full slot is sent only once more bytes come: a body of one part is a PutObject.
      if (this.#current?.size === this.#shape.partSize) await this.#send()
      this.#current ??= await this.#take()
      offset += await this.#current.fill(chunk, offset)
    }
    this.bytes += chunk.length
  }

  async finish(): Promise<void> {
    if (!this.#created) {
      const slot = this.#current
      await this.#request(
        slot,
        (body) => this.#client.send(new PutObjectCommand({ ...this.#target, ...body }), this.#options()),
        { Body: Buffer.alloc(0) },
      )
      return
    }
    if (this.#current && this.#current.size > 0) await this.#send()
    await Promise.all(this.#sending)
    this.#throwIfFailed()
    const parts = this.#parts.sort((a, b) => a.PartNumber! - b.PartNumber!)
    await this.#client.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.#target.Bucket,
        Key: this.#target.Key,
        ...(this.#target.IfNoneMatch ? { IfNoneMatch: this.#target.IfNoneMatch } : {}),
        UploadId: await this.#created,
        MultipartUpload: { Parts: parts },
      }),
      this.#options(),
    )
  }

  /** After a failure: stops the parts in flight, then aborts the multipart upload. */
  async abort(): Promise<void> {
    this.#stop.abort(new Error('upload stopped'))
    await Promise.all(this.#sending)
    const uploadId = await this.#created?.catch(() => undefined)
    if (!uploadId) return
    await this.#client
      .send(
        new AbortMultipartUploadCommand({
          Bucket: this.#target.Bucket,
          Key: this.#target.Key,
          UploadId: uploadId,
        }),
      )
      .catch(() => undefined) // the bucket lifecycle aborts stale multipart uploads after a day
  }

  /** Removes the staged files, if any. */
  async dispose(): Promise<void> {
    await Promise.all(this.#slots.map((slot) => slot.dispose()))
  }

  /** A slot to fill: a new one while there are fewer than `slots`, else the next one a stored part gives back. */
  async #take(): Promise<PartSlot> {
    if (this.#slots.length < (this.#shape.slots ?? PART_SLOTS)) {
      const { partSize, memoryPartLimit = MEMORY_PART_LIMIT } = this.#shape
      const slot =
        partSize > memoryPartLimit
          ? await FileSlot.create(stageFolder(this.#shape), partSize)
          : new BufferSlot(partSize)
      this.#slots.push(slot)
      return slot
    }
    while (this.#free.length === 0) {
      this.#throwIfFailed()
      await Promise.race(this.#sending)
    }
    const slot = this.#free.pop()!
    slot.clear()
    return slot
  }

  /** Sends the slot just filled as the next part. */
  async #send(): Promise<void> {
    const slot = this.#current!
    this.#current = undefined
    this.#throwIfFailed()
    this.#created ??= this.#create()
    const uploadId = await this.#created
    const partNumber = ++this.#partCount
    if (partNumber > MAX_PARTS) {
      throw new Error(`the object needs more than ${MAX_PARTS} parts of ${this.#shape.partSize} bytes`)
    }
    const { Bucket, Key } = this.#target
    const sending = this.#request(slot, (body) =>
      this.#client.send(
        new UploadPartCommand({ Bucket, Key, UploadId: uploadId, PartNumber: partNumber, ...body }),
        this.#options(),
      ),
    )
      .then((stored) => {
        if (!stored.ETag) throw new Error(`part ${partNumber} was stored without an ETag`)
        this.#parts.push({ PartNumber: partNumber, ETag: stored.ETag, ...checksumsOf(stored) })
      })
      .catch((error: unknown) => {
        this.#failure ??= { error }
        this.#stop.abort(error)
      })
      .finally(() => {
        this.#free.push(slot)
        this.#sending.delete(sending)
      })
    this.#sending.add(sending)
  }

  /**
   * Sends a slot's bytes (or `empty` without a slot) with `send`: once when the SDK
   * retries the body itself, else again on a transient failure, a new stream each time.
   */
  async #request<Output>(
    slot: PartSlot | undefined,
    send: (body: PartBody) => Promise<Output>,
    empty?: PartBody,
  ): Promise<Output> {
    const withChecksum = await this.#checksumsAsked()
    const attempt = async () => {
      const body = slot ? slot.body(withChecksum) : empty!
      try {
        return await send(body)
      } finally {
        if (!Buffer.isBuffer(body.Body)) body.Body.destroy()
      }
    }
    if (!slot || slot.resentBySdk) return attempt()
    return withResends(attempt, { attempts: await this.#client.config.maxAttempts(), signal: this.#signal })
  }

  /** Whether the client sends checksums (the SDK's default `WHEN_SUPPORTED`). */
  #checksumsAsked(): Promise<boolean> {
    this.#checksums ??= this.#client.config
      .requestChecksumCalculation()
      .then((when) => when === 'WHEN_SUPPORTED')
    return this.#checksums
  }

  async #create(): Promise<string> {
    const checksums = await this.#checksumsAsked()
    const created = await this.#client.send(
      new CreateMultipartUploadCommand({
        Bucket: this.#target.Bucket,
        Key: this.#target.Key,
        ContentType: this.#target.ContentType,
        ...(this.#target.CacheControl ? { CacheControl: this.#target.CacheControl } : {}),
        ...(this.#target.Metadata ? { Metadata: this.#target.Metadata } : {}),
        ...(checksums ? { ChecksumAlgorithm: ChecksumAlgorithm.CRC32 } : {}),
      }),
      this.#options(),
    )
    if (!created.UploadId) throw new Error('CreateMultipartUpload answered without an UploadId')
    return created.UploadId
  }

  #options(): { abortSignal: AbortSignal } {
    return { abortSignal: this.#signal }
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure.error
    if (this.#signal.aborted) throw this.#signal.reason
  }
}

/** The checksums S3 answered for a part, which the completion lists with its ETag. */
function checksumsOf(stored: Partial<Omit<CompletedPart, 'PartNumber' | 'ETag'>>) {
  return {
    ...(stored.ChecksumCRC32 ? { ChecksumCRC32: stored.ChecksumCRC32 } : {}),
    ...(stored.ChecksumCRC32C ? { ChecksumCRC32C: stored.ChecksumCRC32C } : {}),
    ...(stored.ChecksumCRC64NVME ? { ChecksumCRC64NVME: stored.ChecksumCRC64NVME } : {}),
    ...(stored.ChecksumSHA1 ? { ChecksumSHA1: stored.ChecksumSHA1 } : {}),
    ...(stored.ChecksumSHA256 ? { ChecksumSHA256: stored.ChecksumSHA256 } : {}),
  }
}

/** Where an upload's parts over MEMORY_PART_LIMIT wait. */
export const stageFolder = (shape: Pick<UploadShape, 'tempDir'>): string => shape.tempDir ?? tmpdir()
