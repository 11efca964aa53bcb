// The restore job's settings, from environment and flags, every problem at once.
import { SETTINGS as S } from '../settings/settings.ts'
import type { BucketSelection } from '../storage/bucket-selection.ts'
import {
  readBucketSelection,
  readProductionStorage,
  readStorageSettings,
  type StorageChoice,
} from '../storage/settings.ts'
import { readTrustSettings, type TrustSettings } from '../trust/signing-config.ts'
import { type AgeIdentitySource, readAgeIdentity } from './age-config.ts'
import { readSelection } from './backup-config.ts'
import {
  type Env,
  type Flags,
  type HostFacts,
  NO_HOST_FACTS,
  readStoreConfig,
  SettingsReader,
  type StoreConfig,
} from './config.ts'
import { readDatabase, readProductionDatabases } from './database-config.ts'
import { LifeboatError } from './errors.ts'
import type { Secret } from './secret.ts'
import type { Selection } from './selection.ts'

export interface RestoreConfig {
  /** What to restore: a path, `s3://` URL or key, `latest`, a date or a backup id. */
  what: string
  /** Optional only with --storage-only (then it is the files' project database, if given). */
  target: Secret | undefined
  /** `TARGET_DATABASE_URL` or `--target`, for messages. */
  targetSetting: string
  /** Absent when only a local archive is restored. */
  store: StoreConfig | undefined
  selection: Selection | undefined
  /** `--target-kind`: a Supabase project, a plain database, or decided by looking (auto). */
  targetKind: 'auto' | 'supabase' | 'postgres'
  createSchema: boolean
  truncate: boolean
  confirm: string | undefined
  verify: boolean
  /** --dry-run: every check against the target and the plan, nothing written. */
  dryRun: boolean
  tempDir: string | undefined
  /** BACKUP_AGE_IDENTITY (or --identity), needed only for an encrypted archive. */
  identity: AgeIdentitySource | undefined
  /** BACKUP_SIGNING_PUBLIC_KEYS and --allow-unsigned. */
  trust: TrustSettings
  /** Where production lives according to the environment: never a restore target without --confirm. */
  production: { setting: string; url: Secret }[]
  /** Supabase Storage of the target project (TARGET_SUPABASE_STORAGE_S3_*), unless --no-storage. */
  storage: StorageChoice
  /** --storage-only: the files, not the database. */
  storageOnly: boolean
  /** SUPABASE_STORAGE_S3_URL: files go there only with --confirm-storage. */
  productionStorage: { setting: string; url: string }[]
  confirmStorage: string | undefined
  storageSelection: BucketSelection
}

/** The one backup a restore names; the parser has already refused none or several. */
export function backupArgument(positional: readonly string[]): string {
  if (positional.length !== 1) {
    throw new LifeboatError(
      'USAGE',
      positional.length === 0
        ? 'name the backup to restore: a file, an s3:// URL, latest, YYYY-MM-DD or a backup id'
        : `restore takes one backup, got ${positional.length}: ${positional.join(' ')}`,
    )
  }
  return positional[0]!
}

/** Reads the restore job's settings; every problem is reported at once. */
export function readRestoreConfig(
  env: Env,
  flags: Flags,
  positional: readonly string[],
  host: HostFacts = NO_HOST_FACTS,
): RestoreConfig {
  const what = backupArgument(positional)
  const reader = new SettingsReader(env, flags, host)
  const storageOnly = reader.boolean(S.storageOnly)
  // Never the source settings: only TARGET_DATABASE_URL or --target, completed by libpq's rules.
  const target = readDatabase(reader, S.target, { required: !storageOnly })
  // A local archive needs no store; anything else is looked up in BACKUP_STORE.
  const store = reader.given(S.store) === undefined ? undefined : readStoreConfig(reader)
  const selection = readSelection(reader)
  const anySelection = Object.values(selection).some((list) => list.length > 0)
  const config = {
    what,
    targetSetting: target?.setting ?? 'TARGET_DATABASE_URL',
    store,
    selection: anySelection ? selection : undefined,
    targetKind: (reader.optional(S.targetKind) ?? 'auto') as RestoreConfig['targetKind'],
    createSchema: reader.boolean(S.createSchema),
    truncate: reader.boolean(S.truncate),
    confirm: reader.optional(S.confirm),
    verify: reader.boolean(S.verify),
    dryRun: reader.boolean(S.dryRun),
    tempDir: reader.optional(S.tempDir),
    identity: readAgeIdentity(reader),
    trust: readTrustSettings(reader),
    production: readProductionDatabases(reader),
    storage: readStorageSettings(reader, 'target'),
    storageOnly,
    storageSelection: readBucketSelection(reader),
    productionStorage: readProductionStorage(reader),
    confirmStorage: reader.optional(S.confirmStorage),
  }
  if (storageOnly && config.storage.enabled === false) {
    if (config.storage.reason === 'disabled')
      reader.invalid('--storage-only and --no-storage exclude each other')
    else
      reader.missing('TARGET_SUPABASE_STORAGE_S3_URL (--storage-only restores the files into that project)')
  }
  reader.finish()
  return { ...config, target: target?.url }
}
