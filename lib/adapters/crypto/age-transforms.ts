// The age encryption and decryption Transforms: plaintext cut into 64 KiB chunks and sealed
// after the header; on the way back the header opened by age-encryption, then every chunk
// authenticated in order, the final one marked, so truncation and tampering are refused.
import { Transform, type TransformCallback } from 'node:stream'
import type { Decrypter } from 'age-encryption'
import { IDENTITY_SETTING } from '../../core/age-config.ts'
import { LifeboatError } from '../../core/errors.ts'
import {
  ARMOR_LINE,
  CHUNK,
  derivePayloadKey,
  MAX_HEADER,
  NONCE,
  openChunk,
  SEALED_CHUNK,
  type SealedHeader,
  sealChunk,
  VERSION_LINE,
} from './age-payload.ts'

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

export class AgeDecryptor extends Transform {
  /** Ready once age-encryption is loaded and the identity added (a refused key rejects it). */
  readonly #decrypter: Promise<Decrypter>
  readonly #name: string
  #state: 'header' | 'nonce' | 'payload' = 'header'
  /** Bytes before the payload, until the header and nonce are complete. */
  #head: Buffer = Buffer.alloc(0)
  #fileKey: Buffer | undefined
  #key: Buffer | undefined
  readonly #sealed = Buffer.allocUnsafe(SEALED_CHUNK)
  #used = 0
  #counter = 0

  constructor(decrypter: Promise<Decrypter>, name: string) {
    super()
    this.#decrypter = decrypter
    this.#name = name
    // Surfaced when the header arrives; this only keeps it from being "unhandled".
    decrypter.catch(() => {})
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#state === 'payload') {
      this.#run(callback, () => this.#write(chunk))
      return
    }
    this.#head = Buffer.concat([this.#head, chunk])
    this.#readHead().then(
      (rest) => this.#run(callback, () => rest && this.#write(rest)),
      (error: unknown) => callback(error as Error),
    )
  }

  override _flush(callback: TransformCallback): void {
    this.#run(callback, () => {
      if (this.#state === 'header') this.#checkVersion(true)
      if (this.#state !== 'payload') throw this.#error('is truncated: it ends inside its age header')
      const last = this.#sealed.subarray(0, this.#used)
      const plain = openChunk(this.#key!, this.#counter, true, last)
      if (plain === undefined) {
        if (last.length === SEALED_CHUNK && openChunk(this.#key!, this.#counter, false, last)) {
          throw this.#error(
            `is truncated: it ends after chunk ${this.#counter + 1} without age's final chunk`,
          )
        }
        throw this.#error(
          `is corrupted or truncated: its last chunk (${this.#counter + 1}) fails authentication`,
        )
      }
      if (plain.length === 0 && this.#counter > 0) {
        throw this.#error('is corrupted: its final chunk is empty, which age forbids after the first chunk')
      }
      this.push(plain)
    })
  }

  #run(callback: TransformCallback, work: () => void): void {
    try {
      work()
      callback()
    } catch (error) {
      callback(error as Error)
    }
  }

  /** Consumes the header and nonce once complete; returns the payload bytes after them. */
  async #readHead(): Promise<Buffer | undefined> {
    if (this.#state === 'header') {
      this.#checkVersion(false)
      const mac = this.#head.indexOf('\n---')
      const end = mac < 0 ? -1 : this.#head.indexOf('\n', mac + 1)
      if (end < 0) {
        if (this.#head.length > MAX_HEADER)
          throw this.#error('is not an age file: no header end in its first MiB')
        return undefined
      }
      this.#fileKey = await this.#openHeader(this.#head.subarray(0, end + 1))
      this.#head = this.#head.subarray(end + 1)
      this.#state = 'nonce'
    }
    if (this.#head.length < NONCE) return undefined
    this.#key = derivePayloadKey(this.#fileKey!, this.#head.subarray(0, NONCE))
    this.#fileKey = undefined
    const rest = this.#head.subarray(NONCE)
    this.#head = Buffer.alloc(0)
    this.#state = 'payload'
    return rest
  }

  /** The file key from the header; which failure it is, in words. */
  async #openHeader(header: Buffer): Promise<Buffer> {
    const decrypter = await this.#decrypter
    try {
      return Buffer.from(await decrypter.decryptHeader(header))
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      if (message.includes('no identity matched')) {
        const passphrase = /\n-> scrypt /.test(header.toString('latin1'))
          ? ' (it is passphrase-encrypted)'
          : ''
        throw this.#error(
          `cannot be opened with ${IDENTITY_SETTING}: no key matches its recipients${passphrase}`,
          error,
        )
      }
      if (message.includes('HMAC'))
        throw this.#error('has a corrupted age header (header MAC mismatch)', error)
      throw this.#error(`has a malformed age header (${message})`, error)
    }
  }

  /** Fails fast on anything that does not start like an age file. */
  #checkVersion(ended: boolean): void {
    const head = this.#head
    if (head.length === 0) {
      if (ended) throw this.#error('is empty')
      return
    }
    const seen = Math.min(head.length, VERSION_LINE.length)
    if (head.subarray(0, seen).equals(VERSION_LINE.subarray(0, seen))) return
    const armor = Math.min(head.length, ARMOR_LINE.length)
    if (head.subarray(0, armor).equals(ARMOR_LINE.subarray(0, armor))) {
      throw this.#error('is ASCII-armored age; remove the armor first (`age -d` reads it)')
    }
    throw this.#error('is not an age-encrypted file')
  }

  // A full chunk is opened only once more data arrives: at the end it is the final one.
  #write(chunk: Buffer): void {
    let offset = 0
    while (offset < chunk.length) {
      if (this.#used === SEALED_CHUNK) {
        this.push(this.#open(this.#sealed))
        this.#used = 0
      }
      if (this.#used === 0 && chunk.length - offset > SEALED_CHUNK) {
        this.push(this.#open(chunk.subarray(offset, offset + SEALED_CHUNK)))
        offset += SEALED_CHUNK
        continue
      }
      const n = Math.min(SEALED_CHUNK - this.#used, chunk.length - offset)
      chunk.copy(this.#sealed, this.#used, offset, offset + n)
      this.#used += n
      offset += n
    }
  }

  #open(sealed: Buffer): Buffer {
    const plain = openChunk(this.#key!, this.#counter, false, sealed)
    if (plain === undefined) {
      throw this.#error(`is corrupted: chunk ${this.#counter + 1} fails authentication`)
    }
    this.#counter++
    return plain
  }

  #error(what: string, cause?: unknown): LifeboatError {
    return new LifeboatError('DECRYPT_FAILED', `${this.#name} ${what}`, { cause })
  }
}
