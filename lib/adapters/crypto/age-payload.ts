// The age payload (C2SP age.md, "Payload") on node:crypto: the header sealed by
// age-encryption, the payload key, and 64 KiB ChaCha20-Poly1305 chunks, sealed and opened.
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto'
import type { Encrypter } from 'age-encryption'
import { LifeboatError } from '../../core/errors.ts'

// The payload format (C2SP age.md, "Payload"): a 16-byte nonce, then ChaCha20-Poly1305
// chunks of 64 KiB under HKDF-SHA-256(file key, nonce, "payload"); the chunk nonce is
// an 11-byte big-endian counter and a final-chunk flag, which is what exposes truncation.
export const CHUNK = 64 * 1024
export const TAG = 16
export const SEALED_CHUNK = CHUNK + TAG
export const NONCE = 16

export interface SealedHeader {
  /** The header and the payload nonce: the first bytes of the file. */
  prefix: Buffer
  payloadKey: Buffer
}

// age-encryption keeps the file key inside Encrypter; a recipient that adds no stanza
// is handed it. Encrypting an empty file yields header || nonce || an empty final
// chunk (one tag), so the header and nonce are reused and the payload encrypted here.
export async function sealHeader(encrypter: Encrypter): Promise<SealedHeader> {
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

export function derivePayloadKey(fileKey: Uint8Array, nonce: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32))
}

export function chunkNonce(counter: number, final: boolean): Buffer {
  const nonce = Buffer.alloc(12)
  // 48 bits of the 88-bit counter: 2^48 chunks of 64 KiB is 16 EiB.
  nonce.writeUIntBE(counter, 5, 6)
  nonce[11] = final ? 1 : 0
  return nonce
}

export function sealChunk(key: Buffer, counter: number, final: boolean, plain: Buffer): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, chunkNonce(counter, final), { authTagLength: TAG })
  const body = cipher.update(plain)
  cipher.final()
  return Buffer.concat([body, cipher.getAuthTag()])
}

/** The plaintext, or undefined when the chunk fails authentication. */
export function openChunk(key: Buffer, counter: number, final: boolean, sealed: Buffer): Buffer | undefined {
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
