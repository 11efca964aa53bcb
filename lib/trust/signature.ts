// Ed25519 signatures in minisign's format, so anyone can check a backup by hand with
// `minisign -V`: parse keys and signatures, sign bytes (prehashed, as minisign signs by
// default) and verify them against a list of trusted public keys (several during a rotation).
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  timingSafeEqual,
  verify,
} from 'node:crypto'
import { blake2b } from '@noble/hashes/blake2.js'
import { LifeboatError } from '../core/errors.ts'

// Format facts (minisign's documentation and source): a public key is base64 of
// "Ed" + key id (8 bytes) + Ed25519 key (32); a signature file is an untrusted comment,
// base64 of "ED" (BLAKE2b-512 prehash) or "Ed" (raw) + key id + signature (64), a trusted
// comment, and base64 of the signature over (signature ‖ trusted comment). A secret key
// is base64 of "Ed", the KDF ("Sc" scrypt, or two zero bytes for none), "B2", salt (32),
// opslimit and memlimit (8 each), then key id, secret key (64: seed ‖ public) and a
// BLAKE2b-256 checksum (32) of "Ed" ‖ key id ‖ secret key.
const ALG = Buffer.from('Ed')
const ALG_PREHASHED = Buffer.from('ED')
const KDF_NONE = Buffer.from([0, 0])
const KDF_SCRYPT = Buffer.from('Sc')
const CHK_ALG = Buffer.from('B2')
const UNTRUSTED_PREFIX = 'untrusted comment: '
const TRUSTED_PREFIX = 'trusted comment: '
/** minisign refuses longer trusted comments (TRUSTEDCOMMENTMAXBYTES). */
const TRUSTED_COMMENT_MAX = 8192 - TRUSTED_PREFIX.length - 2

export interface PublicKey {
  /** As minisign prints it: the key id as a little-endian number, in upper-case hex. */
  keyId: string
  /** The base64 line, what `minisign -P` takes. */
  line: string
  readonly id: Buffer
  readonly key: KeyObject
}

export interface SigningKey {
  keyId: string
  publicKey: PublicKey
  readonly id: Buffer
  readonly key: KeyObject
}

export interface VerifiedSignature {
  keyId: string
  trustedComment: string
  prehashed: boolean
}

/** minisign prints `le64_load(keynum)` with `%PRIX64`: reversed bytes, no zero padding. */
export function formatKeyId(id: Buffer): string {
  return Buffer.from(id).reverse().readBigUInt64BE().toString(16).toUpperCase()
}

function base64Exact(text: string, length: number): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined
  const bytes = Buffer.from(text, 'base64')
  return bytes.length === length && bytes.toString('base64') === text ? bytes : undefined
}

function ed25519Public(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' })
}

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

function ed25519Private(seed: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' })
}

function rawPublic(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url')
}

function publicKeyFrom(id: Buffer, raw: Buffer): PublicKey {
  const line = Buffer.concat([ALG, id, raw]).toString('base64')
  return { keyId: formatKeyId(id), line, id, key: ed25519Public(raw) }
}

/** A key's base64 lines: comments (`untrusted comment: …`) and blank lines are skipped. */
function dataLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith(UNTRUSTED_PREFIX) && !l.startsWith('#'))
}

/** One public key: the `RW…` line alone (as `minisign -P` takes it) or a `.pub` file's text. */
export function parsePublicKey(text: string): PublicKey {
  const lines = dataLines(text)
  const bytes = lines.length === 1 ? base64Exact(lines[0]!, 42) : undefined
  if (!bytes?.subarray(0, 2).equals(ALG)) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      'not a minisign public key (a base64 line starting RW…, 56 characters)',
    )
  }
  return publicKeyFrom(bytes.subarray(2, 10), bytes.subarray(10))
}

/**
 * Several public keys: `RW…` lines, or whole `.pub` files, separated by commas, spaces
 * or newlines. Problems name the entry's position; duplicates (same key id) are merged.
 */
export function parsePublicKeyList(text: string): { keys: PublicKey[]; problems: string[] } {
  const entries = dataLines(text).flatMap((line) => line.split(/[\s,]+/).filter(Boolean))
  const keys = new Map<string, PublicKey>()
  const problems: string[] = []
  if (entries.length === 0) problems.push('holds no minisign public key (RW…)')
  entries.forEach((entry, index) => {
    try {
      const key = parsePublicKey(entry)
      const known = keys.get(key.keyId)
      if (known && known.line !== key.line)
        problems.push(`has two different keys with the key id ${key.keyId}`)
      keys.set(key.keyId, key)
    } catch {
      problems.push(
        `${entries.length === 1 ? 'value' : `entry ${index + 1}`} is not a minisign public key (RW…, 56 characters)`,
      )
    }
  })
  return { keys: [...keys.values()], problems }
}

/**
 * A minisign secret key file made without a password (`minisign -G -W`). A
 * password-protected key is refused: an unattended backup job has nobody to type it.
 * Problems never quote the key.
 */
export function parseSigningKey(text: string): SigningKey {
  const invalid = (why: string) => new LifeboatError('CONFIG_INVALID', `the signing key ${why}`)
  const lines = dataLines(text)
  const bytes = lines.length === 1 ? base64Exact(lines[0]!, 158) : undefined
  if (!bytes) throw invalid('is not a minisign secret key file (make one with `minisign -G -W`)')
  if (!bytes.subarray(0, 2).equals(ALG) || !bytes.subarray(4, 6).equals(CHK_ALG)) {
    throw invalid('uses an algorithm minisign does not write')
  }
  const kdf = bytes.subarray(2, 4)
  if (kdf.equals(KDF_SCRYPT)) {
    throw invalid('is protected by a password; remove it with `minisign -C -W -s <file>` for the backup job')
  }
  if (!kdf.equals(KDF_NONE)) throw invalid('uses an unknown key derivation')
  const id = bytes.subarray(54, 62)
  const secret = bytes.subarray(62, 126)
  const checksum = bytes.subarray(126, 158)
  // minisign 0.11 leaves the checksum of a password-less key zero; others fill it in.
  if (checksum.some((b) => b !== 0) && !timingSafeEqual(checksum, secretKeyChecksum(id, secret))) {
    throw invalid('is damaged (its checksum does not match)')
  }
  const key = ed25519Private(secret.subarray(0, 32))
  const raw = rawPublic(createPublicKey(key))
  if (!raw.equals(secret.subarray(32))) throw invalid('is damaged (its public half does not match)')
  const publicKey = publicKeyFrom(id, raw)
  return { keyId: publicKey.keyId, publicKey, id: Buffer.from(id), key }
}

function secretKeyChecksum(id: Buffer, secret: Buffer): Buffer {
  return Buffer.from(blake2b(Buffer.concat([ALG, id, secret]), { dkLen: 32 }))
}

/** A new password-less key pair in minisign's file formats, as `minisign -G -W` writes. */
export function generateSigningKeyPair(): { secretKeyFile: string; publicKeyFile: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url')
  const raw = rawPublic(publicKey)
  const id = createHash('sha256').update(raw).update(String(Date.now())).digest().subarray(0, 8)
  const secret = Buffer.concat([seed, raw])
  const box = Buffer.concat([
    ALG,
    KDF_NONE,
    CHK_ALG,
    Buffer.alloc(48),
    id,
    secret,
    secretKeyChecksum(id, secret),
  ])
  const pub = publicKeyFrom(id, raw)
  return {
    keyId: pub.keyId,
    secretKeyFile: `${UNTRUSTED_PREFIX}minisign secret key ${pub.keyId}\n${box.toString('base64')}\n`,
    publicKeyFile: formatPublicKeyFile(pub),
  }
}

export function formatPublicKeyFile(key: PublicKey): string {
  return `${UNTRUSTED_PREFIX}minisign public key ${key.keyId}\n${key.line}\n`
}

function oneLine(text: string, what: string): string {
  if (/[\r\n]/.test(text)) throw new LifeboatError('INTERNAL', `a ${what} must be one line`)
  return text
}

/** Signs `bytes` as `minisign -S` does (prehashed): the text of a `.minisig` file. */
export function signMinisign(
  bytes: Uint8Array,
  key: SigningKey,
  comments: { trusted: string; untrusted?: string },
): string {
  const trusted = oneLine(comments.trusted, 'trusted comment')
  if (Buffer.byteLength(trusted) > TRUSTED_COMMENT_MAX)
    throw new LifeboatError('INTERNAL', 'trusted comment too long')
  const untrusted = oneLine(
    comments.untrusted ?? `signature from minisign secret key ${key.keyId}`,
    'comment',
  )
  const hash = createHash('blake2b512').update(bytes).digest()
  const signature = sign(null, hash, key.key)
  const global = sign(null, Buffer.concat([signature, Buffer.from(trusted)]), key.key)
  return [
    `${UNTRUSTED_PREFIX}${untrusted}`,
    Buffer.concat([ALG_PREHASHED, key.id, signature]).toString('base64'),
    `${TRUSTED_PREFIX}${trusted}`,
    global.toString('base64'),
    '',
  ].join('\n')
}

interface ParsedSignature {
  prehashed: boolean
  id: Buffer
  signature: Buffer
  trustedComment: string
  global: Buffer
}

function parseSignature(text: string, what: string): ParsedSignature {
  const invalid = (why: string) => new LifeboatError('SIGNATURE_INVALID', `the signature of ${what} ${why}`)
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''))
  if (lines.length < 4 || !lines[0]!.startsWith(UNTRUSTED_PREFIX) || !lines[2]!.startsWith(TRUSTED_PREFIX)) {
    throw invalid('is not a minisign signature file')
  }
  if (lines.slice(4).some((l) => l.trim() !== '')) throw invalid('has lines after the signature')
  const box = base64Exact(lines[1]!.trim(), 74)
  const global = base64Exact(lines[3]!.trim(), 64)
  if (!box || !global) throw invalid('is not a minisign signature file (bad base64)')
  const alg = box.subarray(0, 2)
  if (!alg.equals(ALG) && !alg.equals(ALG_PREHASHED)) throw invalid('uses an unknown algorithm')
  // minisign trims trailing whitespace of the trusted comment before checking it.
  const trustedComment = lines[2]!.slice(TRUSTED_PREFIX.length).replace(/[\s]+$/, '')
  return {
    prehashed: alg.equals(ALG_PREHASHED),
    id: box.subarray(2, 10),
    signature: box.subarray(10),
    trustedComment,
    global,
  }
}

/**
 * Checks a minisign signature of `bytes` against the trusted keys, chosen by the key id
 * the signature names. Throws SIGNATURE_MISSING (no text), SIGNATURE_UNTRUSTED (a key
 * not in the list) or SIGNATURE_INVALID (malformed, or the bytes or comment changed).
 */
export function verifyMinisign(
  bytes: Uint8Array,
  signatureText: string | undefined,
  trusted: readonly PublicKey[],
  what: string,
): VerifiedSignature {
  if (signatureText === undefined || signatureText.trim() === '') {
    throw new LifeboatError('SIGNATURE_MISSING', `${what} has no signature`)
  }
  const parsed = parseSignature(signatureText, what)
  const key = trusted.find((k) => k.id.equals(parsed.id))
  if (!key) {
    const known = trusted.map((k) => k.keyId).join(', ') || 'none'
    throw new LifeboatError(
      'SIGNATURE_UNTRUSTED',
      `${what} is signed by key ${formatKeyId(parsed.id)}, which is not among the trusted keys (${known})`,
    )
  }
  const message = parsed.prehashed ? createHash('blake2b512').update(bytes).digest() : bytes
  if (!verify(null, message, key.key, parsed.signature)) {
    throw new LifeboatError(
      'SIGNATURE_INVALID',
      `${what} does not match its signature by key ${key.keyId}: it was changed after signing`,
    )
  }
  const signedComment = Buffer.concat([parsed.signature, Buffer.from(parsed.trustedComment)])
  if (!verify(null, signedComment, key.key, parsed.global)) {
    throw new LifeboatError(
      'SIGNATURE_INVALID',
      `the trusted comment of ${what}'s signature was changed after signing`,
    )
  }
  return { keyId: key.keyId, trustedComment: parsed.trustedComment, prehashed: parsed.prehashed }
}
