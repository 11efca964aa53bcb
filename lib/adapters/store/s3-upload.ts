// A streamed upload to S3 through a fixed set of part buffers: the body is copied into
// one, sent as a part when full while the next one fills, and each is filled again once
// its part is stored. The memory is `buffers` parts whatever the object's size, and
// none of it turns into garbage: lib-storage concatenated a fresh buffer for every part,
// which V8 freed late (a demo backup to S3: 128–168 MB with it, 116–120 MB with two
// buffers of our own; bench/README.md).
// The requests are lib-storage's: one PutObject when the body fits in a part, else
// CreateMultipartUpload (asking for CRC32 when the client sends checksums, as the SDK's
// default `WHEN_SUPPORTED` does), UploadPart, and CompleteMultipartUpload with each
// part's ETag and checksum. `IfNoneMatch` goes on the request that makes the object appear.
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

export interface UploadTarget {
  Bucket: string
  Key: string
  ContentType: string
  IfNoneMatch?: string
}

export interface UploadShape {
  partSize: number
  /** Part buffers: as many parts as there are are sent at once, and the next waits for one. */
  buffers: number
  /** Stops the requests in flight; the upload then rejects with the signal's reason. */
  signal?: AbortSignal | undefined
}

/** S3's limit of parts per multipart upload. */
const MAX_PARTS = 10_000

/**
 * Stores `body` under the target's key and returns its size. On any failure the
 * multipart upload (if one began) is aborted, so no half-written object appears.
 */
export async function uploadObject(
  client: S3Client,
  target: UploadTarget,
  body: Buffer | AsyncIterable<Buffer | string>,
  shape: UploadShape,
): Promise<number> {
  if (Buffer.isBuffer(body) && body.length <= shape.partSize) {
    await client.send(new PutObjectCommand({ ...target, Body: body }), requestOptions(shape.signal))
    return body.length
  }
  const upload = new PooledUpload(client, target, shape)
  try {
    for await (const chunk of Buffer.isBuffer(body) ? [body] : body) {
      await upload.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
    }
    await upload.finish()
    return upload.bytes
  } catch (error) {
    await upload.abort()
    throw error
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
  readonly #free: Buffer[] = []
  #made = 0
  #current: Buffer | undefined
  #filled = 0
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
      // A full buffer is sent only once more bytes come: a body of one part is a PutObject.
      if (this.#current && this.#filled === this.#shape.partSize) await this.#send()
      this.#current ??= await this.#take()
      const copied = chunk.copy(this.#current, this.#filled, offset)
      this.#filled += copied
      offset += copied
    }
    this.bytes += chunk.length
  }

  async finish(): Promise<void> {
    if (!this.#created) {
      const body = this.#current?.subarray(0, this.#filled) ?? Buffer.alloc(0)
      await this.#client.send(new PutObjectCommand({ ...this.#target, Body: body }), this.#options())
      return
    }
    if (this.#filled > 0) await this.#send()
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

  /** A buffer to fill: a new one while there are fewer than `buffers`, else the next one a stored part gives back. */
  async #take(): Promise<Buffer> {
    if (this.#made < this.#shape.buffers) {
      this.#made++
      return Buffer.allocUnsafeSlow(this.#shape.partSize)
    }
    while (this.#free.length === 0) {
      this.#throwIfFailed()
      await Promise.race(this.#sending)
    }
    return this.#free.pop()!
  }

  /** Sends the buffer just filled as the next part. */
  async #send(): Promise<void> {
    const buffer = this.#current!
    const body = buffer.subarray(0, this.#filled)
    this.#current = undefined
    this.#filled = 0
    this.#throwIfFailed()
    this.#created ??= this.#create()
    const uploadId = await this.#created
    const partNumber = ++this.#partCount
    if (partNumber > MAX_PARTS) {
      throw new Error(`the object needs more than ${MAX_PARTS} parts of ${this.#shape.partSize} bytes`)
    }
    const sending = this.#client
      .send(
        new UploadPartCommand({
          Bucket: this.#target.Bucket,
          Key: this.#target.Key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: body,
        }),
        this.#options(),
      )
      .then((stored) => {
        if (!stored.ETag) throw new Error(`part ${partNumber} was stored without an ETag`)
        this.#parts.push({
          PartNumber: partNumber,
          ETag: stored.ETag,
          ...(stored.ChecksumCRC32 ? { ChecksumCRC32: stored.ChecksumCRC32 } : {}),
          ...(stored.ChecksumCRC32C ? { ChecksumCRC32C: stored.ChecksumCRC32C } : {}),
          ...(stored.ChecksumCRC64NVME ? { ChecksumCRC64NVME: stored.ChecksumCRC64NVME } : {}),
          ...(stored.ChecksumSHA1 ? { ChecksumSHA1: stored.ChecksumSHA1 } : {}),
          ...(stored.ChecksumSHA256 ? { ChecksumSHA256: stored.ChecksumSHA256 } : {}),
        })
      })
      .catch((error: unknown) => {
        this.#failure ??= { error }
        this.#stop.abort(error)
      })
      .finally(() => {
        this.#free.push(buffer)
        this.#sending.delete(sending)
      })
    this.#sending.add(sending)
  }

  async #create(): Promise<string> {
    const checksums = (await this.#client.config.requestChecksumCalculation()) === 'WHEN_SUPPORTED'
    const created = await this.#client.send(
      new CreateMultipartUploadCommand({
        Bucket: this.#target.Bucket,
        Key: this.#target.Key,
        ContentType: this.#target.ContentType,
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
