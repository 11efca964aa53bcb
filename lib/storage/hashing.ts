// Streams that hash what passes through: a meter (sha256 and byte count) and a check
// that fails the stream before its end when the content is not what the manifest says,
// so a consumer (an upload) never commits wrong bytes.
import { createHash } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import { LifeboatError } from '../core/errors.ts'
import { formatCount } from '../core/format.ts'

export class HashMeter extends Transform {
  bytes = 0
  readonly #hash = createHash('sha256')
  #digest: string | undefined
  readonly #onBytes: ((n: number) => void) | undefined

  constructor(onBytes?: (n: number) => void) {
    super()
    this.#onBytes = onBytes
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length
    this.#hash.update(chunk)
    this.#onBytes?.(chunk.length)
    done(null, chunk)
  }

  /** The hex sha256 of everything that passed; call once the stream has ended. */
  sha256(): string {
    this.#digest ??= this.#hash.digest('hex')
    return this.#digest
  }
}

export interface ExpectedContent {
  sha256: string
  size: number
  /** Names the content in the error (`bucket/name (storage-objects/…)`). */
  label: string
}

export class ContentCheck extends Transform {
  bytes = 0
  readonly #hash = createHash('sha256')
  readonly #expected: ExpectedContent
  readonly #onBytes: ((n: number) => void) | undefined

  constructor(expected: ExpectedContent, onBytes?: (n: number) => void) {
    super()
    this.#expected = expected
    this.#onBytes = onBytes
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length
    if (this.bytes > this.#expected.size) {
      done(this.#mismatch(`is longer than the ${formatCount(this.#expected.size)} bytes recorded`))
      return
    }
    this.#hash.update(chunk)
    this.#onBytes?.(chunk.length)
    done(null, chunk)
  }

  override _flush(done: TransformCallback): void {
    if (this.bytes !== this.#expected.size) {
      done(
        this.#mismatch(
          `has ${formatCount(this.bytes)} bytes, the manifest records ${formatCount(this.#expected.size)}`,
        ),
      )
      return
    }
    const actual = this.#hash.digest('hex')
    if (actual !== this.#expected.sha256) {
      done(
        this.#mismatch(
          `sha256 ${actual.slice(0, 12)}… differs from the manifest's ${this.#expected.sha256.slice(0, 12)}…`,
        ),
      )
      return
    }
    done()
  }

  #mismatch(what: string): LifeboatError {
    return new LifeboatError('VERIFY_FAILED', `${this.#expected.label} ${what}`)
  }
}
