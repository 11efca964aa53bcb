// The restore job's settings, from environment and flags, every problem at once.

import { readTrustSettings, type TrustSettings } from '../trust/signing-config.ts'
import { type AgeIdentitySource, readAgeIdentity } from './age-config.ts'
import { type Env, type Flags, readStoreConfig, SettingsReader, type StoreConfig } from './config.ts'
import { LifeboatError } from './errors.ts'
import type { Secret } from './secret.ts'
import type { Selection } from './selection.ts'

export interface RestoreConfig {
  /** What to restore: a path, `s3://` URL or key, `latest`, a date or a backup id. */
  what: string
  target: Secret
  targetSetting: 'TARGET_DATABASE_URL' | '--target'
  /** Absent when only a local archive is restored. */
  store: StoreConfig | undefined
  selection: Selection | undefined
  createSchema: boolean
  truncate: boolean
  confirm: string | undefined
  verify: boolean
  tempDir: string | undefined
  /** BACKUP_AGE_IDENTITY (or --identity), needed only for an encrypted archive. */
  identity: AgeIdentitySource | undefined
  /** BACKUP_SIGNING_PUBLIC_KEYS and --allow-unsigned. */
  trust: TrustSettings
  /** Where production lives according to the environment: never a restore target without --confirm. */
  production: { setting: string; url: Secret }[]
}

/** Reads the restore job's settings; every problem is reported at once. */
export function readRestoreConfig(env: Env, flags: Flags, positional: readonly string[]): RestoreConfig {
  const reader = new SettingsReader(env, flags)
  if (positional.length === 0) {
    throw new LifeboatError(
      'USAGE',
      'name the backup to restore: a file, an s3:// URL, latest, YYYY-MM-DD or a backup id',
    )
  }
  if (positional.length > 1) {
    throw new LifeboatError(
      'USAGE',
      `restore takes one backup, got ${positional.length}: ${positional.join(' ')}`,
    )
  }
  const target = reader.requiredSecret('target', 'TARGET_DATABASE_URL')
  if (target && !/^postgres(ql)?:\/\//.test(target.reveal())) {
    reader.invalid('TARGET_DATABASE_URL (--target) must be a postgresql:// URL')
  }
  // A local archive needs no store; anything else is looked up in BACKUP_STORE.
  const store = reader.optional('store', 'BACKUP_STORE') === undefined ? undefined : readStoreConfig(reader)
  const selection: Selection = {
    schemas: reader.list('schema'),
    excludeSchemas: reader.list('exclude-schema'),
    tables: reader.list('table'),
    excludeTables: reader.list('exclude-table'),
  }
  const anySelection = Object.values(selection).some((list) => list.length > 0)
  const production = ['DATABASE_URL', 'SUPABASE_DB_URL'].flatMap((setting) => {
    const url = reader.secret(undefined, setting)
    return url && /^postgres(ql)?:\/\//.test(url.reveal()) ? [{ setting, url }] : []
  })
  const confirm = reader.optional('confirm')
  const config = {
    what: positional[0]!,
    targetSetting: (typeof flags.target === 'string' && flags.target !== ''
      ? '--target'
      : 'TARGET_DATABASE_URL') as '--target' | 'TARGET_DATABASE_URL',
    store,
    selection: anySelection ? selection : undefined,
    createSchema: reader.boolean('create-schema'),
    truncate: reader.boolean('truncate'),
    confirm,
    verify: flags.verify !== false,
    tempDir: reader.optional('temp-dir', 'LIFEBOAT_TEMP_DIR'),
    identity: readAgeIdentity(reader),
    trust: readTrustSettings(reader),
    production,
  }
  if (flags.confirm === true || flags.confirm === '')
    reader.invalid('--confirm needs the target database name')
  reader.finish()
  return { ...config, target: target! }
}
