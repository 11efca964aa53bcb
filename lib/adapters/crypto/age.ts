// Streaming age (age-encryption.org/v1) encryption of archives as Node Transforms.
// age-encryption builds and opens the header (key wrapping, header MAC); the payload
// runs on node:crypto, as archives are many GB and its ChaCha20 is 13× faster (measured).
import { readFile } from 'node:fs/promises'
import type { Transform } from 'node:stream'
import {
  type AgeIdentitySource,
  IDENTITY_SETTING,
  parseAgeIdentityText,
  parseAgeRecipients,
  RECIPIENTS_SETTING,
} from '../../core/age-config.ts'
import { LifeboatError } from '../../core/errors.ts'
import { registerSecret, Secret } from '../../core/secret.ts'
import { sealHeader } from './age-payload.ts'
import { AgeDecryptor, AgeEncryptor } from './age-transforms.ts'

/**
 * age-encryption, loaded when a job first encrypts or decrypts: importing it costs about
 * 0.1 s and 10 MB (its post-quantum recipients), which every unencrypted backup and
 * restore paid at start-up. Keys are checked without it (lib/core/age-config.ts).
 */
const ageLibrary = () => import('age-encryption')

export interface AgeStreamOptions {
  /** Names the archive in error messages (default: "the archive"). */
  name?: string
}

/**
 * Encrypts a stream to the recipients (public keys only). Throws `CONFIG_INVALID`
 * at once for a recipient that is not an `age1…` key (one the library still refuses
 * fails the stream with it).
 */
export function encryptStream(recipients: readonly string[], options: AgeStreamOptions = {}): Transform {
  const { recipients: keys, problems } = parseAgeRecipients(recipients.join(' '))
  if (problems.length > 0) throw configInvalid(RECIPIENTS_SETTING, problems)
  const sealed = ageLibrary().then(({ Encrypter }) => {
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
    return sealHeader(encrypter)
  })
  return new AgeEncryptor(sealed, options.name ?? 'the archive')
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
  const keys = parseIdentity(identity)
  const decrypter = ageLibrary().then(({ Decrypter }) => {
    const decrypter = new Decrypter()
    for (const key of keys) {
      try {
        decrypter.addIdentity(key)
      } catch (error) {
        throw configInvalid(IDENTITY_SETTING, ['is not a valid age private key (AGE-SECRET-KEY-1…)'], error)
      }
    }
    return decrypter
  })
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
  const { identityToRecipient } = await ageLibrary()
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
