// Streaming age (age-encryption.org/v1) encryption of archives as Node Transforms.
// age-encryption builds and opens the header (key wrapping, header MAC); the payload
// runs on node:crypto, as archives are many GB and its ChaCha20 is 13× faster (measured).
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { Transform, type TransformCallback } from 'node:stream'
import { Decrypter, Encrypter, identityToRecipient } from 'age-encryption'
import {
  type AgeIdentitySource,
  IDENTITY_SETTING,
  parseAgeIdentityText,
  parseAgeRecipients,
  RECIPIENTS_SETTING,
} from '../../core/age-config.ts'
import { LifeboatError } from '../../core/errors.ts'
import { registerSecret, Secret } from '../../core/secret.ts'

// The payload format (C2SP age.md, "Payload"): a 16-byte nonce, then ChaCha20-Poly1305
// chunks of 64 KiB under HKDF-SHA-256(file key, nonce, "payload"); the chunk nonce is
// an 11-byte big-endian counter and a final-chunk flag, which is what exposes truncation.
const CHUNK = 64 * 1024
const TAG = 16
const SEALED_CHUNK = CHUNK + TAG
const NONCE = 16
const VERSION_LINE = Buffer.from('age-encryption.org/v1\n')
const ARMOR_LINE = Buffer.from('-----BEGIN AGE ENCRYPTED FILE-----')
/** A header is a few hundred bytes per recipient; more than this is not an archive of ours. */
const MAX_HEADER = 1024 * 1024

export interface AgeStreamOptions {
  /** Names the archive in error messages (default: "the archive"). */
  name?: string
}

/**
 * Encrypts a stream to the recipients (public keys only). Throws `CONFIG_INVALID`
 * at once for a recipient that is not an `age1…` key.
 */
export function encryptStream(recipients: readonly string[], options: AgeStreamOptions = {}): Transform {
  const { recipients: keys, problems } = parseAgeRecipients(recipients.join(' '))
  if (problems.length > 0) throw configInvalid(RECIPIENTS_SETTING, problems)
  const encrypter = new Encrypter()
  keys.forEach((key, index) => {
    try {
      encrypter.addRecipient(key)
    } catch (error) {
      throw configInvalid(
        RECIPIENTS_SETTING,
        [`entry ${index + 1} is not a valid age public key (age1…)`],
        error,
      )
    }
  })
  return new AgeEncryptor(sealHeader(encrypter), options.name ?? 'the archive')
}

/**
 * Decrypts an age stream with the identity (key text: one or more `AGE-SECRET-KEY-1…`
 * lines). Every failure is `DECRYPT_FAILED` naming what is wrong, never the key; an
 * identity that does not parse is `CONFIG_INVALID` at once. Plaintext flows before the
 * end is authenticated: consumers must not commit anything until the stream ends cleanly.
 */
export function decryptStream(identity: Secret | undefined, options: AgeStreamOptions = {}): Transform {
  const name = options.name ?? 'the archive'
  if (identity === undefined) {
    throw new LifeboatError('DECRYPT_FAILED', `${name} is age-encrypted and ${IDENTITY_SETTING} is not set`)
  }
  const decrypter = new Decrypter()
  for (const key of parseIdentity(identity)) {
    try {
      decrypter.addIdentity(key)
    } catch (error) {
      throw configInvalid(IDENTITY_SETTING, ['is not a valid age private key (AGE-SECRET-KEY-1…)'], error)
    }
  }
  return new AgeDecryptor(decrypter, name)
}

/**
 * The identity from `BACKUP_AGE_IDENTITY`: the key text as given, or read from the
 * file it names. Checks every key; `CONFIG_INVALID` names the setting, never a key.
 */
export async function loadIdentity(
  source: AgeIdentitySource,
  read: (path: string) => Promise<string> = (path) => readFile(path, 'utf8'),
): Promise<Secret> {
  if (source.kind === 'inline') return new Secret(parseIdentity(source.text).join('\n'))
  // A key is Bech32 (letters, digits, dashes): a value with '/' or '.' is a path, safe to print.
  const shown = /[/.]/.test(source.path) ? ` ${source.path}` : ''
  let text: string
  try {
    text = await read(source.path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? 'is not readable'
          : `cannot be read (${code})`
    throw new LifeboatError(
      'CONFIG_INVALID',
      `${IDENTITY_SETTING} is neither an age private key (AGE-SECRET-KEY-1…) nor a key file: the file${shown} ${why}`,
      { cause: error },
    )
  }
  return new Secret(parseIdentity(new Secret(text), 'key file').join('\n'))
}

/** The public keys (`age1…`) of an identity, in order: a doctor checks them against the recipients. */
export async function recipientsOf(identity: Secret): Promise<string[]> {
  return Promise.all(parseIdentity(identity).map((key) => identityToRecipient(key)))
}

/** The public key of a single-key identity (the first key of a key file). */
export async function recipientOf(identity: Secret): Promise<string> {
  const [first] = await recipientsOf(identity)
  return first!
}

/** True when some key of the identity can open archives encrypted to these recipients. */
export async function identityMatches(identity: Secret, recipients: readonly string[]): Promise<boolean> {
  const own = await recipientsOf(identity)
  const wanted = new Set(recipients.map((r) => r.toLowerCase()))
  return own.some((r) => wanted.has(r))
}

function parseIdentity(identity: Secret, what = ''): string[] {
  const { keys, problems } = parseAgeIdentityText(identity.reveal())
  if (problems.length > 0)
    throw configInvalid(what ? `${IDENTITY_SETTING} ${what}` : IDENTITY_SETTING, problems)
  for (const key of keys) registerSecret(key)
  return keys
}

function configInvalid(setting: string, problems: readonly string[], cause?: unknown): LifeboatError {
  const details = problems.map((p) => `${setting} ${p}`)
  return new LifeboatError('CONFIG_INVALID', details.join('; '), { cause, details })
}

interface SealedHeader {
  /** The header and the payload nonce: the first bytes of the file. */
  prefix: Buffer
  payloadKey: Buffer
}

// age-encryption keeps the file key inside Encrypter; a recipient that adds no stanza
// is handed it. Encrypting an empty file yields header || nonce || an empty final
// chunk (one tag), so the header and nonce are reused and the payload encrypted here.
async function sealHeader(encrypter: Encrypter): Promise<SealedHeader> {
  let fileKey: Uint8Array | undefined
  encrypter.addRecipient({
    wrapFileKey(key) {
      fileKey = Uint8Array.from(key)
      return []
    },
  })
  const empty = Buffer.from(await encrypter.encrypt(new Uint8Array(0)))
  const prefix = empty.subarray(0, empty.length - TAG)
  const nonce = prefix.subarray(prefix.length - NONCE)
  if (!fileKey) throw new LifeboatError('INTERNAL', 'age-encryption did not hand out the file key')
  const payloadKey = derivePayloadKey(fileKey, nonce)
  // Proves the layout assumption against the library itself, should a new version change it.
  if (openChunk(payloadKey, 0, true, empty.subarray(empty.length - TAG))?.length !== 0) {
    throw new LifeboatError('INTERNAL', 'age-encryption produced an unexpected file layout')
  }
  return { prefix: Buffer.from(prefix), payloadKey }
}

function derivePayloadKey(fileKey: Uint8Array, nonce: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32))
}

function chunkNonce(counter: number, final: boolean): Buffer {
  const nonce = Buffer.alloc(12)
  // 48 bits of the 88-bit counter: 2^48 chunks of 64 KiB is 16 EiB.
  nonce.writeUIntBE(counter, 5, 6)
  nonce[11] = final ? 1 : 0
  return nonce
}

function sealChunk(key: Buffer, counter: number, final: boolean, plain: Buffer): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, chunkNonce(counter, final), { authTagLength: TAG })
  const body = cipher.update(plain)
  cipher.final()
  return Buffer.concat([body, cipher.getAuthTag()])
}

/** The plaintext, or undefined when the chunk fails authentication. */
function openChunk(key: Buffer, counter: number, final: boolean, sealed: Buffer): Buffer | undefined {
  if (sealed.length < TAG) return undefined
  const decipher = createDecipheriv('chacha20-poly1305', key, chunkNonce(counter, final), {
    authTagLength: TAG,
  })
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG))
  const plain = decipher.update(sealed.subarray(0, sealed.length - TAG))
  try {
    decipher.final()
  } catch {
    return undefined
  }
  return plain
}

class AgeEncryptor extends Transform {
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

class AgeDecryptor extends Transform {
  readonly #decrypter: Decrypter
  readonly #name: string
  #state: 'header' | 'nonce' | 'payload' = 'header'
  /** Bytes before the payload, until the header and nonce are complete. */
  #head: Buffer = Buffer.alloc(0)
  #fileKey: Buffer | undefined
  #key: Buffer | undefined
  readonly #sealed = Buffer.allocUnsafe(SEALED_CHUNK)
  #used = 0
  #counter = 0

  constructor(decrypter: Decrypter, name: string) {
    super()
    this.#decrypter = decrypter
    this.#name = name
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
    try {
      return Buffer.from(await this.#decrypter.decryptHeader(header))
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
