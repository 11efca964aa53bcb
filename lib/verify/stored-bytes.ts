// The stored bytes of an archive as verify sees them: counted and hashed as they stream past
// (before decryption), or read afresh when a verification stopped early, so a report can say
// whether the store still holds what the sidecar records.
import { createHash } from 'node:crypto'
import { Transform, type TransformCallback, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Store } from '../adapters/store/store.ts'

/** Counts and hashes the stored bytes as they pass, before decryption. */
export class StoredBytesMeter extends Transform {
  bytes = 0
  finished = false
  readonly #hash = createHash('sha256')
  #digest: string | undefined
  #reported = 0
  readonly #progress: (bytes: number) => void

  constructor(progress: (bytes: number) => void) {
    super()
    this.#progress = progress
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.add(chunk)
    done(null, chunk)
  }

  override _flush(done: TransformCallback): void {
    this.finished = true
    done()
  }

  add(chunk: Buffer): void {
    this.bytes += chunk.length
    this.#hash.update(chunk)
    if (this.bytes - this.#reported >= 16 * 1024 * 1024) {
      this.#reported = this.bytes
      this.#progress(this.bytes)
    }
  }

  sha256(): string {
    this.#digest ??= this.#hash.digest('hex')
    return this.#digest
  }
}

/** The stored object's size and sha256, read afresh. */
export async function hashObject(store: Store, key: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256')
  let bytes = 0
  await pipeline(
    await store.get(key),
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        bytes += chunk.length
        hash.update(chunk)
        done()
      },
    }),
  )
  return { bytes, sha256: hash.digest('hex') }
}
