// The backup job's settings, from environment and flags, every problem at once.

import { readAgeRecipients } from './age-config.ts'
import { type Env, type Flags, readStoreConfig, SettingsReader, type StoreConfig } from './config.ts'
import { readDeadline } from './deadline.ts'
import type { Secret } from './secret.ts'
import type { Selection } from './selection.ts'

export interface SourceConfig {
  url: Secret
  /** Which variable held it, for messages. */
  setting: 'DATABASE_URL' | 'SUPABASE_DB_URL'
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
  tempDir: string | undefined
  /** The overall deadline in milliseconds; 0 for none. */
  deadlineMs: number
}

export function readSource(reader: SettingsReader): SourceConfig | undefined {
  const setting = reader.optional(undefined, 'DATABASE_URL') ? 'DATABASE_URL' : 'SUPABASE_DB_URL'
  const url = reader.requiredSecret(undefined, 'DATABASE_URL', 'SUPABASE_DB_URL')
  if (!url) return undefined
  if (!/^postgres(ql)?:\/\//.test(url.reveal())) {
    reader.invalid(`${setting} must be a postgresql:// URL`)
    return undefined
  }
  return { url, setting }
}

export function readSelection(reader: SettingsReader): Selection {
  return {
    schemas: reader.list('schema'),
    excludeSchemas: reader.list('exclude-schema'),
    tables: reader.list('table'),
    excludeTables: reader.list('exclude-table'),
  }
}

export function readBackupConfig(env: Env, flags: Flags): BackupConfig {
  const reader = new SettingsReader(env, flags)
  const source = readSource(reader)
  const store = readStoreConfig(reader)
  const config = {
    selection: readSelection(reader),
    jobs: reader.integer('jobs', 'BACKUP_JOBS', 1, 1),
    splitMinBytes: reader.integer('split-min-mb', 'BACKUP_SPLIT_MIN_MB', 64, 0) * 1024 * 1024,
    gzipLevel: reader.integer('compress', 'BACKUP_GZIP_LEVEL', 6, 0),
    recipients: readAgeRecipients(reader),
    tempDir: reader.optional('temp-dir', 'LIFEBOAT_TEMP_DIR'),
    deadlineMs: readDeadline(reader),
  }
  if (config.gzipLevel > 9) reader.invalid('BACKUP_GZIP_LEVEL (--compress) must be between 0 and 9')
  reader.finish()
  return { source: source!, store: store!, ...config }
}
