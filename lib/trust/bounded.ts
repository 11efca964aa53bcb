// Reading what the bucket hands us without letting it choose how much memory we use:
// metadata files read whole only up to a hard limit, and archives metered as they
// stream against the size and sha256 their signed sidecar promises.
import { createHash } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import { LifeboatError } from '../core/errors.ts'
import { formatCount } from '../core/format.ts'

const MiB = 1024 * 1024

/**
 * Largest metadata files a real backup writes, with room to spare. A manifest entry
 * (pretty JSON, as the backup writes it) is about 4.8 KB for a table of 20 columns
 * with a key and two foreign keys (measured in test/trust/bounded.test.ts), so
 * 10,000 such tables need 48 MB: 64 MiB leaves a third spare, and refusing a bomb
 * at that limit peaks at about 150 MB RSS. SHA256SUMS lines of the longest names
 * (63-byte identifiers) are about 210 bytes, so 4 MiB holds 10,000 of them.
 */
export const METADATA_LIMITS = {
  /** manifest.json inside the tar. */
  manifest: 64 * MiB,
  /** `<id>.manifest.json` beside the archive: the manifest plus the archive's own size and sha256. */
  sidecar: 64 * MiB,
  SHA256SUMS: 4 * MiB,
  /** A minisign signature: two base64 lines and two comments (minisign caps a trusted comment at 8 KiB). */
  signature: 16 * 1024,
} as const

export interface BoundedReadOptions {
  /** Printable name of what is read (`manifest.json in backup-…`), used in errors. */
  what: string
  limit: number
  /** The size the container declares (a tar header): refused before a byte is read. */
  declaredSize?: number | undefined
}

export function tooLarge(what: string, limit: number, seen: string): LifeboatError {
  return new LifeboatError(
    'METADATA_TOO_LARGE',
    `${what} is larger than its limit of ${formatCount(limit)} bytes (${seen}); refusing to read it`,
  )
}

/**
 * Reads a whole stream into memory, stopping as soon as it passes `limit` bytes:
 * the stream is destroyed and METADATA_TOO_LARGE names the file and the limit.
 */
export async function readBounded(
  stream: NodeJS.ReadableStream,
  options: BoundedReadOptions,
): Promise<Buffer> {
  const { what, limit, declaredSize } = options
  const destroy = (error?: Error) => (stream as { destroy?: (e?: Error) => void }).destroy?.(error)
  if (declaredSize !== undefined && declaredSize > limit) {
    destroy()
    throw tooLarge(what, limit, `it declares ${formatCount(declaredSize)}`)
  }
  const chunks: Buffer[] = []
  let bytes = 0
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      bytes += buffer.length
      if (bytes > limit) {
        destroy()
        throw tooLarge(what, limit, `more than ${formatCount(limit)} read`)
      }
      chunks.push(buffer)
    }
  } catch (error) {
    if (error instanceof LifeboatError) throw error
    // A connection that drops in the middle of the object: the store's fault, said as such.
    throw new LifeboatError('STORE_IO', `cannot read ${what}: ${(error as Error).message}`, { cause: error })
  }
  return Buffer.concat(chunks, bytes)
}

/** The same, as UTF-8 text; invalid UTF-8 is refused rather than silently replaced. */
export async function readBoundedText(
  stream: NodeJS.ReadableStream,
  options: BoundedReadOptions,
): Promise<string> {
  const bytes = await readBounded(stream, options)
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new LifeboatError('ARCHIVE_CORRUPT', `${options.what} is not valid UTF-8 text`)
  }
}

export interface ArchiveExpectation {
  /** Printable name of the archive (its store URL). */
  what: string
  /** The stored size the signed sidecar records. */
  bytes: number
  /** The stored bytes' sha256 the signed sidecar records (hex). */
  sha256: string
}

/**
 * A pass-through that counts and hashes an archive's stored bytes (before decryption
 * and gunzip). It fails the moment the stream passes the expected size, without
 * handing the excess on, and at the end when the size is short or the sha256 differs.
 * Everything downstream must treat what it read as unproven until this stream ends
 * cleanly: restore should download through it first and parse only afterwards.
 */
export class ArchiveMeter extends Transform {
  bytes = 0
  readonly #hash = createHash('sha256')
  readonly #expected: ArchiveExpectation
  #sha256: string | undefined

  constructor(expected: ArchiveExpectation) {
    super()
    if (
      !Number.isSafeInteger(expected.bytes) ||
      expected.bytes < 0 ||
      !/^[0-9a-f]{64}$/.test(expected.sha256)
    ) {
      throw new LifeboatError(
        'ARCHIVE_FORMAT',
        `the sidecar of ${expected.what} holds no valid archive size and sha256`,
      )
    }
    this.#expected = expected
  }

  /** The sha256 of everything that passed, once the stream has ended. */
  get sha256(): string | undefined {
    return this.#sha256
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length
    if (this.bytes > this.#expected.bytes) {
      done(
        this.#mismatch(
          `it is longer than the ${formatCount(this.#expected.bytes)} bytes its signed sidecar records`,
        ),
      )
      return
    }
    this.#hash.update(chunk)
    done(null, chunk)
  }

  override _flush(done: TransformCallback): void {
    this.#sha256 = this.#hash.digest('hex')
    if (this.bytes < this.#expected.bytes) {
      done(
        this.#mismatch(
          `it ends after ${formatCount(this.bytes)} of the ${formatCount(this.#expected.bytes)} bytes its signed sidecar records`,
        ),
      )
    } else if (this.#sha256 !== this.#expected.sha256) {
      done(this.#mismatch('its sha256 differs from the one its signed sidecar records'))
    } else done()
  }

  #mismatch(why: string): LifeboatError {
    return new LifeboatError(
      'VERIFY_FAILED',
      `${this.#expected.what} is not the archive that was signed: ${why}`,
    )
  }
}
