// Whether a backup is the one the backup job wrote: its sidecar (which pins the archive's
// size and sha256 and every file's hash) is read with a size limit and its signature
// checked before a byte of it is parsed; an archive read without its sidecar is
// authenticated by the signature of its inner manifest.json. docs/signing.md.
import { isDeepStrictEqual } from 'node:util'
import type { Store } from '../adapters/store/store.ts'
import { isLifeboatError, LifeboatError } from '../core/errors.ts'
import type { SignatureFact } from '../retention/goodness.ts'
import {
  checkSignature,
  INNER_SIGNATURE_FILE,
  type SignatureCheck,
  sidecarSignatureKey,
} from '../trust/backup-signature.ts'
import { METADATA_LIMITS, readBounded, readBoundedText } from '../trust/bounded.ts'
import type { PublicKey } from '../trust/signature.ts'
import { sidecarKey } from './layout.ts'
import { type Manifest, parseManifest } from './manifest.ts'

/** What a reader trusts: the public keys backups must be signed by, and whether unsigned ones pass. */
export interface Trust {
  keys: readonly PublicKey[]
  /** --allow-unsigned: an unsigned backup (or no keys configured) passes, loudly. */
  allowUnsigned: boolean
}

export interface AuthenticSidecar {
  manifest: Manifest
  authenticity: SignatureCheck
}

/** Reads `<id>.manifest.json` and its signature; only a verified (or explicitly allowed) sidecar is parsed. */
export async function readAuthenticSidecar(
  store: Store,
  id: string,
  trust: Trust,
): Promise<AuthenticSidecar> {
  const { bytes, authenticity } = await checkSidecar(store, id, trust)
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes)
  return { manifest: parseManifest(text, store.locate(sidecarKey(id))), authenticity }
}

/** The sidecar's bytes, and its signature checked against them (checkSignature throws where it does not hold). */
async function checkSidecar(
  store: Store,
  id: string,
  trust: Trust,
): Promise<{ bytes: Uint8Array; authenticity: SignatureCheck }> {
  const key = sidecarKey(id)
  const bytes = await readBounded(await store.get(key), {
    what: store.locate(key),
    limit: METADATA_LIMITS.sidecar,
  })
  const signature = await readSignature(store, sidecarSignatureKey(id))
  const authenticity = checkSignature({
    what: `${id} (its sidecar)`,
    file: `${id}.manifest.json`,
    bytes,
    signature,
    trusted: trust.keys,
    allowUnsigned: trust.allowUnsigned,
  })
  return { bytes, authenticity }
}

async function readSignature(store: Store, key: string): Promise<string | undefined> {
  // Only "not found" is no signature: a store that cannot answer is its own error, never
  // an unsigned backup that --allow-unsigned would then let through.
  if (!(await store.head(key))) return undefined
  return readBoundedText(await store.get(key), { what: store.locate(key), limit: METADATA_LIMITS.signature })
}

/** What makes a signature not hold, as opposed to a store that cannot be read. */
const FAILING_SIGNATURE = [
  'SIGNATURE_INVALID',
  'SIGNATURE_UNTRUSTED',
  'METADATA_TOO_LARGE',
  'BACKUP_NOT_FOUND',
]

/**
 * Whether a backup's sidecar signature holds, for clean's "good" (lib/retention/goodness.ts):
 * no `.minisig` is unsigned; one that fails, names an unknown key or another file is signed
 * but not valid. Read with the same limits as a restore's. A failed lookup is not "no
 * signature": a store that cannot be read ends the clean, which then deletes nothing,
 * instead of marking every backup unsigned.
 */
export async function signatureFactOf(
  store: Store,
  id: string,
  trusted: readonly PublicKey[],
): Promise<SignatureFact> {
  try {
    await checkSidecar(store, id, { keys: trusted, allowUnsigned: false })
    return { signed: true, valid: true }
  } catch (error) {
    if (!isLifeboatError(error)) throw error
    // No `.minisig`, or an empty one: no signature at all.
    if (error.code === 'SIGNATURE_MISSING') return { signed: false, valid: false }
    if (FAILING_SIGNATURE.includes(error.code)) return { signed: true, valid: false }
    throw error
  }
}

/** The inner manifest.json of an archive read without its sidecar: checked before it is parsed. */
export function authenticateInnerManifest(
  where: string,
  manifestText: string,
  signature: string | undefined,
  trust: Trust,
): SignatureCheck {
  return checkSignature({
    what: `${where} (its manifest.json)`,
    file: 'manifest.json',
    bytes: Buffer.from(manifestText, 'utf8'),
    signature,
    trusted: trust.keys,
    allowUnsigned: trust.allowUnsigned,
  })
}

/** A stored archive's manifest.json must be its signed sidecar without the `archive` field. */
export function assertSameAsSidecar(inner: Manifest, sidecar: Manifest, where: string): void {
  const { archive: _archive, ...expected } = sidecar
  if (!isDeepStrictEqual(JSON.parse(JSON.stringify(inner)), JSON.parse(JSON.stringify(expected)))) {
    throw new LifeboatError(
      'VERIFY_FAILED',
      `${where}: its manifest.json differs from the signed sidecar: the archive is not the one that was signed`,
    )
  }
}

export { INNER_SIGNATURE_FILE }
