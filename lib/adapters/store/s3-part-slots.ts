// Where one part of a multipart upload waits until S3 has stored it: a buffer, or a file
// when parts are larger than an upload may hold in memory (an archive of more than about
// 27 GiB of tables: its parts grow so that it fits in S3's 10,000). A file keeps the
// upload's memory the same at any size, for one more write and read of each part.
import { randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { type FileHandle, open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { crc32 } from 'node:zlib'

/** The fields of an UploadPart or PutObject request that carry a part's bytes. */
export interface PartBody {
  Body: Buffer | Readable
  ContentLength?: number
  /** S3's form of a CRC32 (base64 of its 4 big-endian bytes), for a body the SDK does not hash (a stream). */
  ChecksumCRC32?: string
}

export interface PartSlot {
  /** The bytes it holds. */
  readonly size: number
  /** Whether the SDK can send the body again itself (a buffer); a stream is sent again by the uploader. */
  readonly resentBySdk: boolean
  /** Takes bytes of `chunk` from `offset` until the slot is full; returns how many it took. */
  fill(chunk: Buffer, offset: number): Promise<number>
  /** A body for one attempt at sending its bytes (a new stream for each attempt). */
  body(withChecksum: boolean): PartBody
  /** Empty again, for the next part. */
  clear(): void
  dispose(): Promise<void>
}

export class BufferSlot implements PartSlot {
  readonly resentBySdk = true
  size = 0
  readonly #buffer: Buffer

  constructor(capacity: number) {
    this.#buffer = Buffer.allocUnsafeSlow(capacity)
  }

  async fill(chunk: Buffer, offset: number): Promise<number> {
    const copied = chunk.copy(this.#buffer, this.size, offset)
    this.size += copied
    return copied
  }

  /** The SDK computes the checksum of a buffer itself. */
  body(): PartBody {
    return { Body: this.#buffer.subarray(0, this.size) }
  }

  clear(): void {
    this.size = 0
  }

  async dispose(): Promise<void> {}
}

/** S3's `x-amz-checksum-crc32` value for a CRC32. */
export function crc32Base64(value: number): string {
  const bytes = Buffer.alloc(4)
  bytes.writeUInt32BE(value >>> 0)
  return bytes.toString('base64')
}

export class FileSlot implements PartSlot {
  readonly resentBySdk = false
  size = 0
  #crc = 0
  readonly #path: string
  readonly #handle: FileHandle
  readonly #capacity: number

  private constructor(path: string, handle: FileHandle, capacity: number) {
    this.#path = path
    this.#handle = handle
    this.#capacity = capacity
  }

  /** A new file (mode 0600) in `folder`, removed by dispose. */
  static async create(folder: string, capacity: number): Promise<FileSlot> {
    const path = join(folder, `lifeboat-part-${randomUUID()}`)
    return new FileSlot(path, await open(path, 'wx+', 0o600), capacity)
  }

  async fill(chunk: Buffer, offset: number): Promise<number> {
    const piece = chunk.subarray(offset, offset + this.#capacity - this.size)
    for (let written = 0; written < piece.length; ) {
      const { bytesWritten } = await this.#handle.write(
        piece,
        written,
        piece.length - written,
        this.size + written,
      )
      written += bytesWritten
    }
    this.#crc = crc32(piece, this.#crc)
    this.size += piece.length
    return piece.length
  }

  body(withChecksum: boolean): PartBody {
    return {
      Body: createReadStream(this.#path, { start: 0, end: this.size - 1, highWaterMark: 256 * 1024 }),
      ContentLength: this.size,
      ...(withChecksum ? { ChecksumCRC32: crc32Base64(this.#crc) } : {}),
    }
  }

  clear(): void {
    this.size = 0
    this.#crc = 0
  }

  async dispose(): Promise<void> {
    await this.#handle.close().catch(() => undefined)
    await rm(this.#path, { force: true })
  }
}
