// What a backup's signatures cover and where they live, and the one decision every
// reader makes before trusting a byte: verified, refused, or unsigned-and-allowed
// (--allow-unsigned, loud and audited). Pure: the bytes and texts are passed in.

import { BACKUPS_PREFIX } from '../archive/layout.ts'
import { LifeboatError } from '../core/errors.ts'
import {
  type PublicKey,
  type SigningKey,
  signMinisign,
  type VerifiedSignature,
  verifyMinisign,
} from './signature.ts'
import { PUBLIC_KEYS_SETTING } from './signing-config.ts'

/** minisign's own naming: the signature of `x` is `x.minisig`. */
export const SIGNATURE_SUFFIX = '.minisig'
/** Inside the tar, after manifest.json: signs the inner manifest, for archives restored without the store. */
export const INNER_SIGNATURE_FILE = `manifest.json${SIGNATURE_SUFFIX}`

/** `database-backups/<id>.manifest.json.minisig`, beside the sidecar it signs. */
export function sidecarSignatureKey(id: string): string {
  return `${BACKUPS_PREFIX}${id}.manifest.json${SIGNATURE_SUFFIX}`
}

/**
 * minisign's default trusted comment (`timestamp:…\tfile:…\thashed`): `minisign -V`
 * prints it, and the file name binds the signature to this backup's file.
 */
export function trustedCommentFor(file: string, at: Date): string {
  return `timestamp:${Math.floor(at.getTime() / 1000)}\tfile:${file}\thashed`
}

/** The file a trusted comment names (`file:…`), if it names one. */
export function signedFileName(trustedComment: string): string | undefined {
  return /(?:^|\t)file:([^\t]*)/.exec(trustedComment)?.[1]
}

/** Signs the sidecar's exact bytes, as `minisign -Sm <id>.manifest.json` would. */
export function signSidecar(sidecar: Uint8Array, id: string, key: SigningKey, at: Date): string {
  return signMinisign(sidecar, key, { trusted: trustedCommentFor(`${id}.manifest.json`, at) })
}

/** Signs the tar's manifest.json bytes; written as INNER_SIGNATURE_FILE right after it. */
export function signInnerManifest(manifest: Uint8Array, key: SigningKey, at: Date): string {
  return signMinisign(manifest, key, { trusted: trustedCommentFor('manifest.json', at) })
}

export type SignatureCheck =
  | ({ status: 'verified' } & VerifiedSignature)
  | { status: 'unsigned'; reason: string; warning: string }

export interface SignatureCheckInput {
  /** Printable: `backup-… (its sidecar)`. */
  what: string
  /** The file name the signature must name in its trusted comment (`<id>.manifest.json`, `manifest.json`). */
  file: string
  bytes: Uint8Array
  /** The `.minisig` text; undefined when there is none. */
  signature: string | undefined
  /** BACKUP_SIGNING_PUBLIC_KEYS, loaded. */
  trusted: readonly PublicKey[]
  allowUnsigned: boolean
}

/**
 * The gate before any byte of a backup is trusted. --allow-unsigned lets through only
 * what cannot be checked (no signature, or no public keys configured), with a warning to
 * print and audit; a signature that fails, or names an unknown key, is refused always.
 */
export function checkSignature(input: SignatureCheckInput): SignatureCheck {
  const unsigned = (reason: string): SignatureCheck => ({
    status: 'unsigned',
    reason,
    warning: `${input.what} is NOT authenticated (${reason}); restoring it anyway because --allow-unsigned was given`,
  })
  if (input.trusted.length === 0) {
    if (input.allowUnsigned) return unsigned(`${PUBLIC_KEYS_SETTING} is not set, so no signature was checked`)
    throw new LifeboatError(
      'CONFIG_MISSING',
      `${PUBLIC_KEYS_SETTING} is not set, so the signature of ${input.what} cannot be checked; set it to the backup job's public key (docs/signing.md), or pass --allow-unsigned`,
    )
  }
  if (input.signature === undefined || input.signature.trim() === '') {
    if (input.allowUnsigned) return unsigned('it has no signature')
    throw new LifeboatError(
      'SIGNATURE_MISSING',
      `${input.what} has no signature; it may predate signing or have been forged: check it by hand (docs/signing.md) and pass --allow-unsigned to use it anyway`,
    )
  }
  const verified = verifyMinisign(input.bytes, input.signature, input.trusted, input.what)
  const named = signedFileName(verified.trustedComment)
  if (named !== input.file) {
    throw new LifeboatError(
      'SIGNATURE_INVALID',
      `the signature of ${input.what} was made for ${named === undefined ? 'an unnamed file' : `"${named}"`}, not "${input.file}"`,
    )
  }
  return { status: 'verified', ...verified }
}
