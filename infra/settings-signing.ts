// Parser for the signing setting: the public keys every backup must be signed by, published
// to the workflows as BACKUP_SIGNING_PUBLIC_KEYS (several during a key rotation). The secret
// half is the secrets stack's `lifeboat:signingKey` (docs/signing.md).
import { parsePublicKeyList } from '../lib/trust/signature.ts'
import type { ConfigReader } from './config-reader.ts'

/** The trusted public keys as `RW…` lines joined by commas, as the jobs read them. */
export function parseSigningPublicKeys(config: ConfigReader): string {
  const raw = config.need('lifeboat:signingPublicKeys')
  if (raw === undefined) return ''
  const { keys, problems } = parsePublicKeyList(raw)
  for (const problem of problems) config.problems.push(`lifeboat:signingPublicKeys ${problem}`)
  return keys.map((key) => key.line).join(',')
}
