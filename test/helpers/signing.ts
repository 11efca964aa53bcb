// One signing key pair for the whole test run, as the backup job and every reader would
// hold it: the secret key for backups, the public key for restore, verify and drills.
import type { Trust } from '../../lib/archive/authenticity.ts'
import {
  generateSigningKeyPair,
  type PublicKey,
  parsePublicKeyList,
  parseSigningKey,
  type SigningKey,
} from '../../lib/trust/signature.ts'

const pair = generateSigningKeyPair()

/** The key files' texts, for BACKUP_SIGNING_KEY / BACKUP_SIGNING_PUBLIC_KEYS of a job run as a process. */
export const TEST_KEYS = { secret: pair.secretKeyFile, public: pair.publicKeyFile, keyId: pair.keyId }

export function testSigningKey(): SigningKey {
  return parseSigningKey(pair.secretKeyFile)
}

export function testPublicKeys(): PublicKey[] {
  return parsePublicKeyList(pair.publicKeyFile).keys
}

/** What a restore or verify in the tests trusts: backups signed by the test key. */
export function testTrust(): Trust {
  return { keys: testPublicKeys(), allowUnsigned: false }
}

/** The environment a job run as a process needs to sign (backup) and check (the rest). */
export function signingEnv(): Record<string, string> {
  return { BACKUP_SIGNING_KEY: TEST_KEYS.secret, BACKUP_SIGNING_PUBLIC_KEYS: TEST_KEYS.public }
}
