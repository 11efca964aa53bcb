// Signed backups (docs/signing.md): the backup job's secret key, everyone else's public
// keys, and the loud way to read a backup whose signature cannot be checked.
import { defineSettings } from './types.ts'

export const TRUST_SETTINGS = defineSettings({
  signingKey: {
    env: ['BACKUP_SIGNING_KEY'],
    type: 'string',
    secret: true,
    jobs: ['backup'],
    help: 'minisign secret key (`minisign -G -W`), its text or a file path: the backup is signed with it; unset, the backup is unsigned (and says so)',
  },
  signingPublicKeys: {
    env: ['BACKUP_SIGNING_PUBLIC_KEYS'],
    type: 'string',
    jobs: ['restore', 'verify', 'clean', 'drill', 'dr-test'],
    help: 'public keys backups must be signed by (`RW…` lines, comma-separated, or a file path); several during a key rotation',
  },
  allowUnsigned: {
    flag: 'allow-unsigned',
    type: 'boolean',
    jobs: ['restore', 'verify', 'drill', 'dr-test'],
    help: 'use a backup whose signature cannot be checked (no public keys, or no signature): loud, and audited',
  },
})
