// The temp files a backup writes before packing (spooled tables, key-range parts). For
// an encrypted backup they are encrypted too, with an ephemeral key that lives only in
// this process's memory: a crash (kill -9, power loss) leaves ciphertext nobody can read.
// AES-256-CTR, a fresh 16-byte IV at the head of each file: seekable (the API export reads
// rows back by offset), and the bytes are authenticated end to end anyway by the per-file
// sha256 in the manifest, computed before they reach the disk and checked by every restore.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { open, stat } from 'node:fs/promises'
import { type Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

const ALGORITHM = 'aes-256-ctr'
const IV_BYTES = 16
const BLOCK = 16

/** How a job's temp files are written and read back: plain, or sealed with an ephemeral key. */
export interface TempFiles {
  readonly encrypted: boolean
  /** A new file (mode 0600) at `path`; finishes once every byte is on disk. */
  createWriteStream(path: string): Writable
  /** The plain content of a file this object wrote. */
  createReadStream(path: string, options?: { highWaterMark?: number }): Promise<Readable>
  /** `length` plain bytes from `offset` of a file this object wrote. */
  readAt(path: string, offset: number, length: number): Promise<Buffer>
  /** Many `readAt`s on one open file (re-sorting rows by their offsets). */
  openRandom(path: string): Promise<RandomReader>
  /** The plain size of a file this object wrote. */
  size(path: string): Promise<number>
}

export interface RandomReader {
  read(offset: number, length: number): Promise<Buffer>
  close(): Promise<void>
}

/** Reads `length` plain bytes at `offset` through a reader, closing it after. */
async function readOnce(reader: RandomReader, offset: number, length: number): Promise<Buffer> {
  try {
    return await reader.read(offset, length)
  } finally {
    await reader.close()
  }
}

/** Temp files as they are: for a backup that is not encrypted (the archive is plain too). */
export const plainTempFiles: TempFiles = {
  encrypted: false,
  createWriteStream: (path) => createWriteStream(path, { mode: 0o600 }),
  createReadStream: async (path, options) =>
    createReadStream(path, { highWaterMark: options?.highWaterMark ?? 1024 * 1024 }),
  readAt: async (path, offset, length) => readOnce(await plainTempFiles.openRandom(path), offset, length),
  async openRandom(path) {
    const handle = await open(path, 'r')
    return {
      async read(offset, length) {
        const buffer = Buffer.alloc(length)
        const { bytesRead } = await handle.read(buffer, 0, length, offset)
        return buffer.subarray(0, bytesRead)
      },
      close: () => handle.close(),
    }
  },
  size: async (path) => (await stat(path)).size,
}

/** Temp files sealed with a key made here and never written anywhere. */
export function encryptedTempFiles(): TempFiles {
  const key = randomBytes(32)
  return {
    encrypted: true,
    createWriteStream: (path) => new EncryptingFile(path, key),
    async createReadStream(path, options) {
      const iv = await readIv(path)
      const decipher = createDecipheriv(ALGORITHM, key, iv)
      const file = createReadStream(path, {
        start: IV_BYTES,
        highWaterMark: options?.highWaterMark ?? 1024 * 1024,
      })
      file.on('error', (error) => decipher.destroy(error))
      return file.pipe(decipher)
    },
    async readAt(path, offset, length) {
      return readOnce(await this.openRandom(path), offset, length)
    },
    async openRandom(path) {
      const handle = await open(path, 'r')
      const iv = Buffer.alloc(IV_BYTES)
      await handle.read(iv, 0, IV_BYTES, 0)
      return {
        async read(offset, length) {
          const skip = offset % BLOCK
          const sealed = Buffer.alloc(length + skip)
          const { bytesRead } = await handle.read(sealed, 0, sealed.length, IV_BYTES + offset - skip)
          const decipher = createDecipheriv(ALGORITHM, key, counterAt(iv, Math.floor(offset / BLOCK)))
          const plain = Buffer.concat([decipher.update(sealed.subarray(0, bytesRead)), decipher.final()])
          return plain.subarray(skip)
        },
        close: () => handle.close(),
      }
    },
    size: async (path) => Math.max(0, (await stat(path)).size - IV_BYTES),
  }
}

/** The CTR counter block for the block at `index`: the IV plus `index`, as a 128-bit big-endian number. */
export function counterAt(iv: Buffer, index: number): Buffer {
  const counter = Buffer.from(iv)
  let carry = BigInt(index)
  for (let i = BLOCK - 1; i >= 0 && carry > 0n; i--) {
    const sum = BigInt(counter[i]!) + (carry & 0xffn)
    counter[i] = Number(sum & 0xffn)
    carry = (carry >> 8n) + (sum >> 8n)
  }
  return counter
}

async function readIv(path: string): Promise<Buffer> {
  const handle = await open(path, 'r')
  try {
    const iv = Buffer.alloc(IV_BYTES)
    const { bytesRead } = await handle.read(iv, 0, IV_BYTES, 0)
    if (bytesRead !== IV_BYTES) throw new Error(`${path}: the temp file is truncated`)
    return iv
  } finally {
    await handle.close()
  }
}

/** Encrypts what is written into a new file; `finish` once the file is complete on disk. */
class EncryptingFile extends Writable {
  readonly #cipher
  readonly #written: Promise<void>

  constructor(path: string, key: Buffer) {
    super({ highWaterMark: 1024 * 1024 })
    const iv = randomBytes(IV_BYTES)
    this.#cipher = createCipheriv(ALGORITHM, key, iv)
    const file = createWriteStream(path, { mode: 0o600 })
    file.write(iv)
    this.#written = pipeline(this.#cipher, file)
    this.#written.catch(() => undefined)
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    // A failed file write (ENOSPC) is the error worth reporting, not the cipher's "destroyed".
    this.#cipher.write(chunk, (error) => (error ? this.#written.then(() => done(error), done) : done()))
  }

  override _final(done: (error?: Error | null) => void): void {
    this.#cipher.end()
    this.#written.then(() => done(), done)
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.#cipher.destroy()
    done(error)
  }
}
