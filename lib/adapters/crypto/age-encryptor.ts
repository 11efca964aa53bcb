// Encrypts a stream to age: the sealed header and nonce first, then the payload in
// 64 KiB chunks, the last one flagged final (what exposes a truncated file).
import { Transform, type TransformCallback } from 'node:stream'
import { LifeboatError } from '../../core/errors.ts'
import { CHUNK, type SealedHeader, sealChunk } from './age-payload.ts'

export class AgeEncryptor extends Transform {
  readonly #sealed: Promise<SealedHeader>
  readonly #name: string
  #key: Buffer | undefined
  readonly #plain = Buffer.allocUnsafe(CHUNK)
  #used = 0
  #counter = 0

  constructor(sealed: Promise<SealedHeader>, name: string) {
    super()
    this.#sealed = sealed
    this.#name = name
    // Surfaced by the first write or the end; this only keeps it from being "unhandled".
    sealed.catch(() => {})
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#key) {
      this.#run(callback, () => this.#write(chunk))
      return
    }
    this.#start().then(
      () => this.#run(callback, () => this.#write(chunk)),
      (error: unknown) => callback(this.#failure(error)),
    )
  }

  override _flush(callback: TransformCallback): void {
    this.#start().then(
      () => this.#run(callback, () => this.push(this.#seal(this.#plain.subarray(0, this.#used), true))),
      (error: unknown) => callback(this.#failure(error)),
    )
  }

  async #start(): Promise<void> {
    if (this.#key) return
    const { prefix, payloadKey } = await this.#sealed
    this.#key = payloadKey
    this.push(prefix)
  }

  #run(callback: TransformCallback, work: () => void): void {
    try {
      work()
      callback()
    } catch (error) {
      callback(this.#failure(error))
    }
  }

  // A full chunk is sealed only once more data arrives: the final chunk may be full,
  // and only the end of the input says which chunk is final.
  #write(chunk: Buffer): void {
    let offset = 0
    while (offset < chunk.length) {
      if (this.#used === CHUNK) {
        this.push(this.#seal(this.#plain, false))
        this.#used = 0
      }
      if (this.#used === 0 && chunk.length - offset > CHUNK) {
        this.push(this.#seal(chunk.subarray(offset, offset + CHUNK), false))
        offset += CHUNK
        continue
      }
      const n = Math.min(CHUNK - this.#used, chunk.length - offset)
      chunk.copy(this.#plain, this.#used, offset, offset + n)
      this.#used += n
      offset += n
    }
  }

  #seal(plain: Buffer, final: boolean): Buffer {
    return sealChunk(this.#key!, this.#counter++, final, plain)
  }

  #failure(error: unknown): LifeboatError {
    if (error instanceof LifeboatError) return error
    const message = error instanceof Error ? error.message : String(error)
    return new LifeboatError('INTERNAL', `age encryption of ${this.#name} failed: ${message}`, {
      cause: error,
    })
  }
}
