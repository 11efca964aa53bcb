// Settings of the drill (`backup:drill`) and the DR test (`dr:test`), parsed once from
// env and flags with every problem reported at once; durations accept `4h`, `90m`, `30s`.

import { isBackupId } from '../archive/layout.ts'
import { parseAccessReview } from '../drills/access-review-report.ts'
import { readNow } from '../monitor/freshness.ts'
import { SETTINGS as S } from '../settings/settings.ts'
import { readProductionStorage, readStorageSettings, type StorageChoice } from '../storage/settings.ts'
import { readTrustSettings, type TrustSettings } from '../trust/signing-config.ts'
import { type AgeIdentitySource, readAgeIdentity } from './age-config.ts'
import {
  type Env,
  type Flags,
  type HostFacts,
  NO_HOST_FACTS,
  readRecordStoreConfig,
  readStoreConfig,
  SettingsReader,
  type StoreConfig,
} from './config.ts'
import { readDatabase, readProductionDatabases } from './database-config.ts'
import type { Secret } from './secret.ts'

export const DEFAULT_RTO_TARGET = '4h'

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, min: 60, h: 3600, d: 86_400 }

/** `4h`, `90m`, `30s`, `0.5d`, `1500ms` or plain seconds (`14400`); undefined when not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|min|h|d)?\s*$/i.exec(text)
  if (!m) return undefined
  const seconds = Number(m[1]) * UNITS[(m[2] ?? 's').toLowerCase()]!
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined
}

interface CommonConfig {
  /** Where the backups are read from (BACKUP_STORE). */
  store: StoreConfig
  /** Where the report, access review, audit event and status go; undefined: `store` itself. */
  records: StoreConfig | undefined
  rtoTargetSeconds: number
  identity: AgeIdentitySource | undefined
  /** BACKUP_SIGNING_PUBLIC_KEYS and --allow-unsigned. */
  trust: TrustSettings
  tempDir: string | undefined
  /** Where production lives: a drill never restores there, whatever is confirmed. */
  production: { setting: string; url: Secret }[]
  now: Date
  /** The drill's scratch Storage (STAGING_SUPABASE_STORAGE_S3_*), not configured, or --no-storage. */
  storage: StorageChoice
  /** SUPABASE_STORAGE_S3_URL: the Storage backed up, never a drill's. */
  productionStorage: { setting: string; url: string }[]
  /** --storage-jobs: objects transferred or blobs read at once. */
  storageJobs: number
}

export interface DrillConfig extends CommonConfig {
  /** STAGING_DATABASE_URL or --target; absent means a throwaway PostgreSQL. */
  target: { url: Secret; setting: string } | undefined
  truncate: boolean
  /** --backup: a backup id, `latest` or a date instead of the random pick. */
  backup: string | undefined
  seed: string | undefined
  days: number
}

export interface DrTestConfig extends CommonConfig {
  /**
   * Where the DR test restores: an existing empty database (`database`), a server on
   * which it creates a fresh database and drops it afterwards (`server`), or, with
   * neither, a throwaway PostgreSQL.
   */
  target:
    | { kind: 'database'; url: Secret; setting: string }
    | { kind: 'server'; url: Secret; setting: string }
    | undefined
  /** A SQL file of smoke checks (DR_TEST_CHECKS, --checks). */
  checks: string | undefined
  rpoTargetSeconds: number
  /** Keep the database created on the staging server (for a person to look at). */
  keep: boolean
  /** The access review the stack publishes (LIFEBOAT_ACCESS_REVIEW), JSON checked to parse. */
  accessReview: string | undefined
}

function readCommon(
  reader: SettingsReader,
): Omit<CommonConfig, 'store'> & { store: StoreConfig | undefined } {
  const rawRto = reader.optional(S.rtoTarget)!
  const rtoTargetSeconds = parseDuration(rawRto)
  if (rtoTargetSeconds === undefined) {
    reader.invalid(
      `${reader.given(S.rtoTarget)?.from ?? 'RTO_TARGET'} must be a duration such as 4h, 90m, 30s or seconds, got "${rawRto}"`,
    )
  }
  return {
    store: readStoreConfig(reader),
    records: readRecordStoreConfig(reader),
    rtoTargetSeconds: rtoTargetSeconds ?? 4 * 3600,
    identity: readAgeIdentity(reader),
    trust: readTrustSettings(reader),
    tempDir: reader.optional(S.tempDir),
    production: readProductionDatabases(reader),
    now: readNow(reader),
    storage: readStorageSettings(reader, 'staging'),
    productionStorage: readProductionStorage(reader),
    storageJobs: reader.integer(S.storageJobs),
  }
}

export function readDrillConfig(
  env: Env,
  flags: Flags,
  _positional: readonly string[] = [],
  host: HostFacts = NO_HOST_FACTS,
): DrillConfig {
  const reader = new SettingsReader(env, flags, host)
  const common = readCommon(reader)
  const target = readDatabase(reader, S.stagingTarget, { required: false })
  const backup = reader.optional(S.backup)
  if (backup && !isBackupId(backup) && backup !== 'latest' && !/^\d{4}-\d{2}-\d{2}$/.test(backup)) {
    reader.invalid(
      `--backup must be a backup id (backup-2026-11-25T020000Z), latest or YYYY-MM-DD, got "${backup}"`,
    )
  }
  const config = {
    seed: reader.optional(S.seed),
    days: reader.integer(S.windowDays),
    truncate: reader.boolean(S.truncate),
  }
  reader.finish()
  return {
    ...common,
    store: common.store!,
    target: target ? { url: target.url, setting: target.setting } : undefined,
    backup,
    ...config,
  }
}

export function readDrTestConfig(
  env: Env,
  flags: Flags,
  _positional: readonly string[] = [],
  host: HostFacts = NO_HOST_FACTS,
): DrTestConfig {
  const reader = new SettingsReader(env, flags, host)
  const common = readCommon(reader)
  const database = readDatabase(reader, S.drTestTarget, { required: false })
  const server = database ? undefined : readDatabase(reader, S.stagingServer, { required: false })
  const rpoHours = reader.number(S.rpoHours)
  if (rpoHours === 0) reader.invalid(`${reader.given(S.rpoHours)?.from ?? 'RPO_HOURS'} must be more than 0`)
  const checks = reader.optional(S.checks)
  const keep = reader.boolean(S.keep)
  const accessReview = reader.optional(S.accessReview)
  if (accessReview !== undefined) {
    try {
      parseAccessReview(accessReview)
    } catch (error) {
      reader.invalid(`LIFEBOAT_ACCESS_REVIEW is ${(error as Error).message}`)
    }
  }
  reader.finish()
  return {
    ...common,
    store: common.store!,
    target: database
      ? { kind: 'database', url: database.url, setting: database.setting }
      : server
        ? { kind: 'server', url: server.url, setting: server.setting }
        : undefined,
    checks,
    rpoTargetSeconds: rpoHours * 3600,
    keep,
    accessReview,
  }
}
