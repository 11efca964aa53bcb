// The backup job's settings, from environment and flags, every problem at once.

import { SETTINGS as S } from '../settings/settings.ts'
import { readStorageSettings, type StorageChoice } from '../storage/settings.ts'
import { readSigningKeySource, type SigningKeySource } from '../trust/signing-config.ts'
import { readAgeRecipients } from './age-config.ts'
import {
  type Env,
  type Flags,
  type HostFacts,
  NO_HOST_FACTS,
  readStoreConfig,
  SettingsReader,
  type StoreConfig,
} from './config.ts'
import { readSourceDatabase } from './database-config.ts'
import { readDeadline } from './deadline.ts'
import type { Secret } from './secret.ts'
import type { Selection } from './selection.ts'

export interface SourceConfig {
  url: Secret
  /** Which setting held it, for messages: DATABASE_URL, SUPABASE_DB_URL or the PG* variables. */
  setting: string
}

export interface BackupConfig {
  source: SourceConfig
  store: StoreConfig
  selection: Selection
  jobs: number
  /** Tables estimated larger than this are split into key ranges across the jobs. */
  splitMinBytes: number
  gzipLevel: number
  /** age public keys; empty means the archive is not encrypted. */
  recipients: string[]
  /** BACKUP_SIGNING_KEY; undefined: the backup is written unsigned (and says so). */
  signingKey: SigningKeySource | undefined
  tempDir: string | undefined
  /** The overall deadline in milliseconds; 0 for none. */
  deadlineMs: number
  /** Supabase Storage files (SUPABASE_STORAGE_S3_*), unless not configured or --no-storage. */
  storage: StorageChoice
}

/** DATABASE_URL or SUPABASE_DB_URL, else libpq's PG* variables and service file. */
export function readSource(reader: SettingsReader): SourceConfig | undefined {
  const source = readSourceDatabase(reader, true)
  return source ? { url: source.url, setting: source.setting } : undefined
}

export function readSelection(reader: SettingsReader): Selection {
  return {
    schemas: reader.list(S.schema),
    excludeSchemas: reader.list(S.excludeSchema),
    tables: reader.list(S.table),
    excludeTables: reader.list(S.excludeTable),
  }
}

/** How the backup runs (workers, split size, gzip level, temp folder, deadline); the doctor checks them too. */
export function readBackupTuning(reader: SettingsReader) {
  return {
    jobs: reader.integer(S.jobs),
    splitMinBytes: reader.integer(S.splitMinMb) * 1024 * 1024,
    gzipLevel: reader.integer(S.compress),
    tempDir: reader.optional(S.tempDir),
    deadlineMs: readDeadline(reader),
  }
}

export function readBackupConfig(env: Env, flags: Flags, host: HostFacts = NO_HOST_FACTS): BackupConfig {
  const reader = new SettingsReader(env, flags, host)
  const source = readSource(reader)
  const store = readStoreConfig(reader)
  const config = {
    selection: readSelection(reader),
    ...readBackupTuning(reader),
    recipients: readAgeRecipients(reader),
    signingKey: readSigningKeySource(reader),
    storage: readStorageSettings(reader, 'source'),
  }
  reader.finish()
  return { source: source!, store: store!, ...config }
}
