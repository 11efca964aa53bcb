// age encryption settings: recipients (public keys, all the backup runner needs) and
// the identity (private key, restore and verify only). Pure: parsing and checks;
// reading an identity file is I/O and lives in lib/adapters/crypto/age.ts.
import { SETTINGS } from '../settings/settings.ts'
import type { SettingsReader } from './config.ts'
import { Secret } from './secret.ts'

export const RECIPIENTS_SETTING = 'BACKUP_AGE_RECIPIENTS'
export const IDENTITY_SETTING = 'BACKUP_AGE_IDENTITY'

/** Where the identity comes from: the key text itself, or a file holding it (like `age -i key.txt`). */
export type AgeIdentitySource = { kind: 'inline'; text: Secret } | { kind: 'file'; path: string }

/** `BACKUP_AGE_RECIPIENTS`: `age1…` keys, comma or whitespace separated; [] when unset (no encryption). */
export function readAgeRecipients(reader: SettingsReader): string[] {
  const raw = reader.optional(SETTINGS.recipients)
  if (raw === undefined) return []
  const { recipients, problems } = parseAgeRecipients(raw)
  for (const problem of problems) reader.invalid(`${RECIPIENTS_SETTING} ${problem}`)
  return recipients
}

/**
 * `BACKUP_AGE_IDENTITY` (or `--identity`): the private key, the text of a key file
 * (several keys and `#` comments allowed), or a path to such a file. Undefined when unset:
 * only an encrypted archive needs it, and the decryptor says so then.
 */
export function readAgeIdentity(reader: SettingsReader): AgeIdentitySource | undefined {
  const raw = reader.optional(SETTINGS.identity)
  if (raw === undefined) return undefined
  const source = classifyIdentity(raw)
  if (source.kind === 'inline') {
    const { problems } = parseAgeIdentityText(source.text.reveal())
    for (const problem of problems) reader.invalid(`${IDENTITY_SETTING} ${problem}`)
  }
  return source
}

/** Key text (one that mentions a secret key or spans lines) is inline; anything else is a path. */
export function classifyIdentity(raw: string): AgeIdentitySource {
  const value = raw.trim()
  if (/AGE-SECRET-KEY-/i.test(value) || value.includes('\n'))
    return { kind: 'inline', text: new Secret(value) }
  return { kind: 'file', path: value }
}

/** Splits and checks recipients. Problems name the entry's position, never its value. */
export function parseAgeRecipients(raw: string): { recipients: string[]; problems: string[] } {
  const entries = raw.split(/[\s,]+/).filter(Boolean)
  const recipients: string[] = []
  const problems: string[] = []
  if (entries.length === 0) problems.push('is empty: give one or more age1… public keys')
  entries.forEach((entry, index) => {
    const position = entries.length === 1 ? 'value' : `entry ${index + 1}`
    const problem = checkRecipient(entry)
    if (problem) problems.push(`${position} ${problem}`)
    else recipients.push(entry.toLowerCase())
  })
  return { recipients: [...new Set(recipients)], problems }
}

/**
 * Parses identity text as `age -i` reads a key file: one key per line, blank lines
 * and `#` comments ignored. Keys are upper-cased Bech32, as age-keygen writes them.
 */
export function parseAgeIdentityText(text: string): { keys: string[]; problems: string[] } {
  const keys: string[] = []
  const problems: string[] = []
  if (/^(age-encryption\.org\/|-----BEGIN AGE ENCRYPTED FILE-----)/.test(text.trimStart())) {
    return { keys, problems: ['is an encrypted key file (age -p); decrypt it first with `age -d`'] }
  }
  const lines = text.split(/\r?\n/)
  lines.forEach((line, index) => {
    const value = line.trim()
    if (value === '' || value.startsWith('#')) return
    const where = lines.length === 1 ? 'value' : `line ${index + 1}`
    if (/^-----BEGIN|^ssh-|^ecdsa-/.test(value)) {
      problems.push(`${where} is an SSH or PEM key; only age keys (AGE-SECRET-KEY-1…) are supported`)
    } else if (/^age1/i.test(value)) {
      problems.push(`${where} is a public key (age1…); it needs the private key (AGE-SECRET-KEY-1…)`)
    } else if (!isAgeIdentity(value)) {
      problems.push(`${where} is not a valid age private key (AGE-SECRET-KEY-1…)`)
    } else {
      keys.push(value.toUpperCase())
    }
  })
  if (keys.length === 0 && problems.length === 0)
    problems.push('holds no age private key (AGE-SECRET-KEY-1…)')
  return { keys, problems }
}

/** Recipient types age-encryption 0.3.1 can encrypt to, by Bech32 prefix (HRP). */
const RECIPIENT_HRPS = new Set(['age', 'age1pq', 'age1tag', 'age1tagpq'])
const IDENTITY_HRPS = new Set(['age-secret-key-', 'age-secret-key-pq-'])

function checkRecipient(entry: string): string | undefined {
  if (/^AGE-SECRET-KEY-/i.test(entry)) {
    return 'is a private key (AGE-SECRET-KEY-…): give its public key (age1…), and keep the private key off the backup runner'
  }
  if (/^(ssh-|ecdsa-)/.test(entry)) return 'is an SSH key; only age1… recipients are supported'
  const decoded = decodeBech32(entry)
  if (!decoded || !RECIPIENT_HRPS.has(decoded.hrp)) return 'is not a valid age public key (age1…)'
  // An X25519 key is 32 bytes: 52 five-bit words.
  if (decoded.hrp === 'age' && decoded.words !== 52) return 'is not a valid age public key (age1…)'
  return undefined
}

export function isAgeIdentity(value: string): boolean {
  const decoded = decodeBech32(value)
  return decoded !== undefined && IDENTITY_HRPS.has(decoded.hrp) && decoded.words === 52
}

// Bech32 (BIP 173, without its 90-character limit, as age's post-quantum keys are
// longer): checking the checksum here reports a mistyped key with the other settings.
const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]

function decodeBech32(value: string): { hrp: string; words: number } | undefined {
  if (value !== value.toLowerCase() && value !== value.toUpperCase()) return undefined
  const text = value.toLowerCase()
  const separator = text.lastIndexOf('1')
  if (separator < 1 || text.length - separator - 1 < 6) return undefined
  const hrp = text.slice(0, separator)
  const data: number[] = []
  for (const char of text.slice(separator + 1)) {
    const word = CHARSET.indexOf(char)
    if (word < 0) return undefined
    data.push(word)
  }
  const codes = [...hrp].map((c) => c.charCodeAt(0))
  if (codes.some((c) => c < 33 || c > 126)) return undefined
  const expanded = [...codes.map((c) => c >> 5), 0, ...codes.map((c) => c & 31)]
  if (polymod([...expanded, ...data]) !== 1) return undefined
  return { hrp, words: data.length - 6 }
}

function polymod(values: readonly number[]): number {
  let checksum = 1
  for (const value of values) {
    const top = checksum >>> 25
    checksum = ((checksum & 0x1ffffff) << 5) ^ value
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) checksum ^= GENERATOR[i]!
  }
  return checksum >>> 0
}
