// Signing settings: BACKUP_SIGNING_KEY (the secret key, backup job only) and
// BACKUP_SIGNING_PUBLIC_KEYS (every job that reads backups). Each holds the key text
// itself or a path to a file holding it. Reading settings is pure: the files are read by
// lib/trust/signing-keys.ts (loadSigningKey / loadTrustedKeys).
import type { SettingsReader } from '../core/config.ts'
import { Secret } from '../core/secret.ts'
import { SETTINGS } from '../settings/settings.ts'
import { type PublicKey, parsePublicKeyList, parseSigningKey } from './signature.ts'

export const SIGNING_KEY_SETTING = 'BACKUP_SIGNING_KEY'
export const PUBLIC_KEYS_SETTING = 'BACKUP_SIGNING_PUBLIC_KEYS'

export type SigningKeySource = { kind: 'inline'; text: Secret } | { kind: 'file'; path: string }
export type TrustedKeysSource = { kind: 'inline'; keys: PublicKey[] } | { kind: 'file'; path: string }

/** Key text has a base64 line of a key (`RW…`) or a comment line; anything else is a path. */
function looksLikeKeyText(value: string): boolean {
  return value.includes('\n') || /untrusted comment:/.test(value) || /^RW[A-Za-z0-9+/]{54}/.test(value)
}

/**
 * `BACKUP_SIGNING_KEY`: a minisign secret key made with `minisign -G -W` (the file's
 * text, or its path). Undefined when unset: the backup then writes no signature and
 * says so. Inline text is checked now, with the other settings.
 */
export function readSigningKeySource(reader: SettingsReader): SigningKeySource | undefined {
  const raw = reader.optional(SETTINGS.signingKey)
  if (raw === undefined) return undefined
  const value = raw.trim()
  if (!looksLikeKeyText(value)) return { kind: 'file', path: value }
  const text = new Secret(value)
  try {
    parseSigningKey(text.reveal())
  } catch (error) {
    reader.invalid(`${SIGNING_KEY_SETTING}: ${(error as Error).message}`)
  }
  return { kind: 'inline', text }
}

/**
 * `BACKUP_SIGNING_PUBLIC_KEYS`: the public keys a backup may be signed by, `RW…` lines
 * (as `minisign -P` takes them) separated by commas, spaces or newlines, or the path
 * of a file of `.pub` files put together. Several keys are trusted at once while a
 * key is being rotated. Undefined when unset.
 */
export function readTrustedKeysSource(reader: SettingsReader): TrustedKeysSource | undefined {
  const raw = reader.optional(SETTINGS.signingPublicKeys)
  if (raw === undefined) return undefined
  const value = raw.trim()
  if (!looksLikeKeyText(value) && !value.includes(',')) return { kind: 'file', path: value }
  const { keys, problems } = parsePublicKeyList(value)
  for (const problem of problems) reader.invalid(`${PUBLIC_KEYS_SETTING} ${problem}`)
  return { kind: 'inline', keys }
}

/** What a reader of backups is configured to trust: the public keys and --allow-unsigned. */
export interface TrustSettings {
  keys: TrustedKeysSource | undefined
  allowUnsigned: boolean
}

export function readTrustSettings(reader: SettingsReader): TrustSettings {
  return { keys: readTrustedKeysSource(reader), allowUnsigned: reader.boolean(SETTINGS.allowUnsigned) }
}
