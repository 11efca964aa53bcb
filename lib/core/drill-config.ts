// Settings of the drill (`backup:drill`) and the DR test (`dr:test`), parsed once from
// env and flags with every problem reported at once; durations accept `4h`, `90m`, `30s`.

import { isBackupId } from '../archive/layout.ts'
import { DRILL_WINDOW_DAYS } from '../drills/pick.ts'
import { FRESHNESS_DEFAULTS, readNow } from '../monitor/freshness.ts'
import { readTrustSettings, type TrustSettings } from '../trust/signing-config.ts'
import { type AgeIdentitySource, readAgeIdentity } from './age-config.ts'
import { type Env, type Flags, readStoreConfig, SettingsReader, type StoreConfig } from './config.ts'
import { LifeboatError } from './errors.ts'
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
  store: StoreConfig
  rtoTargetSeconds: number
  identity: AgeIdentitySource | undefined
  /** BACKUP_SIGNING_PUBLIC_KEYS and --allow-unsigned. */
  trust: TrustSettings
  tempDir: string | undefined
  /** Where production lives: a drill never restores there, whatever is confirmed. */
  production: { setting: string; url: Secret }[]
  now: Date
}

export interface DrillConfig extends CommonConfig {
  /** STAGING_DATABASE_URL or --target; absent means a throwaway PostgreSQL. */
  target: { url: Secret; setting: 'STAGING_DATABASE_URL' | '--target' } | undefined
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
    | { kind: 'database'; url: Secret; setting: 'DR_TEST_DATABASE_URL' | '--target' }
    | { kind: 'server'; url: Secret; setting: 'STAGING_DATABASE_URL' }
    | undefined
  /** A SQL file of smoke checks (DR_TEST_CHECKS, --checks). */
  checks: string | undefined
  rpoTargetSeconds: number
  /** Keep the database created on the staging server (for a person to look at). */
  keep: boolean
}

function readCommon(
  reader: SettingsReader,
): Omit<CommonConfig, 'store'> & { store: StoreConfig | undefined } {
  const rawRto = reader.optional('rto-target', 'RTO_TARGET') ?? DEFAULT_RTO_TARGET
  const rtoTargetSeconds = parseDuration(rawRto)
  if (rtoTargetSeconds === undefined) {
    reader.invalid(
      `RTO_TARGET (--rto-target) must be a duration such as 4h, 90m, 30s or seconds, got "${rawRto}"`,
    )
  }
  const production = ['DATABASE_URL', 'SUPABASE_DB_URL'].flatMap((setting) => {
    const url = reader.secret(undefined, setting)
    return url && isPostgresUrl(url) ? [{ setting, url }] : []
  })
  return {
    store: readStoreConfig(reader),
    rtoTargetSeconds: rtoTargetSeconds ?? 4 * 3600,
    identity: readAgeIdentity(reader),
    trust: readTrustSettings(reader),
    tempDir: reader.optional('temp-dir', 'LIFEBOAT_TEMP_DIR'),
    production,
    now: readNow(reader),
  }
}

function isPostgresUrl(url: Secret): boolean {
  return /^postgres(ql)?:\/\//.test(url.reveal())
}

function noPositional(job: string, positional: readonly string[]): void {
  if (positional.length > 0) {
    throw new LifeboatError('USAGE', `${job} takes no arguments, got: ${positional.join(' ')} (see --help)`)
  }
}

export function readDrillConfig(env: Env, flags: Flags, positional: readonly string[] = []): DrillConfig {
  noPositional('backup:drill', positional)
  const reader = new SettingsReader(env, flags)
  const common = readCommon(reader)
  const url = reader.secret('target', 'STAGING_DATABASE_URL')
  if (url && !isPostgresUrl(url))
    reader.invalid('STAGING_DATABASE_URL (--target) must be a postgresql:// URL')
  const backup = reader.optional('backup')
  if (flags.backup === true || flags.backup === '')
    reader.invalid('--backup needs a backup id, latest or a date')
  if (backup && !isBackupId(backup) && backup !== 'latest' && !/^\d{4}-\d{2}-\d{2}$/.test(backup)) {
    reader.invalid(
      `--backup must be a backup id (backup-2026-11-25T020000Z), latest or YYYY-MM-DD, got "${backup}"`,
    )
  }
  const seed = reader.optional('seed', 'DRILL_SEED')
  const days = reader.integer('days', 'DRILL_WINDOW_DAYS', DRILL_WINDOW_DAYS, 1)
  const truncate = reader.boolean('truncate')
  reader.finish()
  return {
    ...common,
    store: common.store!,
    target: url
      ? {
          url,
          setting:
            typeof flags.target === 'string' && flags.target !== '' ? '--target' : 'STAGING_DATABASE_URL',
        }
      : undefined,
    truncate,
    backup,
    seed,
    days,
  }
}

export function readDrTestConfig(env: Env, flags: Flags, positional: readonly string[] = []): DrTestConfig {
  noPositional('dr:test', positional)
  const reader = new SettingsReader(env, flags)
  const common = readCommon(reader)
  const database = reader.secret('target', 'DR_TEST_DATABASE_URL')
  const server = database ? undefined : reader.secret(undefined, 'STAGING_DATABASE_URL')
  if (database && !isPostgresUrl(database))
    reader.invalid('DR_TEST_DATABASE_URL (--target) must be a postgresql:// URL')
  if (server && !isPostgresUrl(server)) reader.invalid('STAGING_DATABASE_URL must be a postgresql:// URL')
  const rpoHours = reader.number('rpo-hours', 'RPO_HOURS', FRESHNESS_DEFAULTS.rpoHours)
  if (rpoHours === 0) reader.invalid('RPO_HOURS must be more than 0')
  const checks = reader.optional('checks', 'DR_TEST_CHECKS')
  const keep = reader.boolean('keep')
  reader.finish()
  const databaseSetting =
    typeof flags.target === 'string' && flags.target !== '' ? '--target' : 'DR_TEST_DATABASE_URL'
  return {
    ...common,
    store: common.store!,
    target: database
      ? { kind: 'database', url: database, setting: databaseSetting }
      : server
        ? { kind: 'server', url: server, setting: 'STAGING_DATABASE_URL' }
        : undefined,
    checks,
    rpoTargetSeconds: rpoHours * 3600,
    keep,
  }
}
