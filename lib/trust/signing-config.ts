// Signing settings: BACKUP_SIGNING_KEY (the secret key, backup job only) and
// BACKUP_SIGNING_PUBLIC_KEYS (every job that reads backups). Each holds the key text
// itself or a path to a file holding it; files are read by loadSigningKey / loadTrustedKeys.
import { readFile } from 'node:fs/promises'
import type { SettingsReader } from '../core/config.ts'
import { LifeboatError } from '../core/errors.ts'
import { Secret } from '../core/secret.ts'
import { SETTINGS } from '../settings/settings.ts'
import { type PublicKey, parsePublicKeyList, parseSigningKey, type SigningKey } from './signature.ts'

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

async function readKeyFile(path: string, setting: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      `${setting} names the file ${path}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    )
  }
}

export async function loadSigningKey(source: SigningKeySource): Promise<SigningKey> {
  const text =
    source.kind === 'inline' ? source.text.reveal() : await readKeyFile(source.path, SIGNING_KEY_SETTING)
  try {
    return parseSigningKey(text)
  } catch (error) {
    const where = source.kind === 'file' ? ` (${source.path})` : ''
    throw new LifeboatError('CONFIG_INVALID', `${SIGNING_KEY_SETTING}${where}: ${(error as Error).message}`)
  }
}

export async function loadTrustedKeys(source: TrustedKeysSource): Promise<PublicKey[]> {
  if (source.kind === 'inline') return source.keys
  const { keys, problems } = parsePublicKeyList(await readKeyFile(source.path, PUBLIC_KEYS_SETTING))
  if (problems.length > 0) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      `${PUBLIC_KEYS_SETTING} (${source.path}) ${problems.join('; ')}`,
    )
  }
  return keys
}

/** What a reader of backups is configured to trust: the public keys and --allow-unsigned. */
export interface TrustSettings {
  keys: TrustedKeysSource | undefined
  allowUnsigned: boolean
}

export function readTrustSettings(reader: SettingsReader): TrustSettings {
  return { keys: readTrustedKeysSource(reader), allowUnsigned: reader.boolean(SETTINGS.allowUnsigned) }
}

export async function loadTrust(
  settings: TrustSettings,
): Promise<{ keys: PublicKey[]; allowUnsigned: boolean }> {
  return {
    keys: settings.keys ? await loadTrustedKeys(settings.keys) : [],
    allowUnsigned: settings.allowUnsigned,
  }
}
