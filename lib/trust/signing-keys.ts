// The signing keys the settings name, loaded: inline text parsed, key files read (the
// one I/O of signing settings, kept apart so the settings readers stay pure).
import { readFile } from 'node:fs/promises'
import { LifeboatError } from '../core/errors.ts'
import { type PublicKey, parsePublicKeyList, parseSigningKey, type SigningKey } from './signature.ts'
import {
  PUBLIC_KEYS_SETTING,
  SIGNING_KEY_SETTING,
  type SigningKeySource,
  type TrustedKeysSource,
  type TrustSettings,
} from './signing-config.ts'

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

export async function loadTrust(
  settings: TrustSettings,
): Promise<{ keys: PublicKey[]; allowUnsigned: boolean }> {
  return {
    keys: settings.keys ? await loadTrustedKeys(settings.keys) : [],
    allowUnsigned: settings.allowUnsigned,
  }
}
