// Settings of API-only mode (SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY): which path a
// backup or restore takes, and the REST backup's and restore's settings, every problem
// at once. Also Supabase project refs, by which an API and a database are matched.
import { SETTINGS as S } from '../settings/settings.ts'
import type { BucketSelection } from '../storage/bucket-selection.ts'
import {
  readBucketSelection,
  readProductionStorage,
  readStorageSettings,
  type StorageChoice,
} from '../storage/settings.ts'
import {
  readSigningKeySource,
  readTrustSettings,
  type SigningKeySource,
  type TrustSettings,
} from '../trust/signing-config.ts'
import { type AgeIdentitySource, readAgeIdentity, readAgeRecipients } from './age-config.ts'
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
import { libpqLocation, readProductionDatabases } from './database-config.ts'
import { readDeadline } from './deadline.ts'
import { LifeboatError } from './errors.ts'
import { backupArgument } from './restore-config.ts'
import type { Secret } from './secret.ts'
import type { Selection } from './selection.ts'

export type SourceMode = 'postgres' | 'rest'

export interface ApiSettings {
  /** `https://<ref>.supabase.co`, without a path. */
  url: string
  key: Secret
}

export interface RestRetrySettings {
  attempts: number
  baseDelayMs: number
  timeoutMs: number
}

export interface RestBackupConfig {
  api: ApiSettings
  store: StoreConfig
  selection: Selection
  /** Exposed schemas to read (PostgREST serves one schema per request). */
  schemas: string[]
  batchSize: number
  authUsers: boolean
  gzipLevel: number
  recipients: string[]
  /** BACKUP_SIGNING_KEY; undefined: the backup is written unsigned (and says so). */
  signingKey: SigningKeySource | undefined
  tempDir: string | undefined
  /** The overall deadline in milliseconds; 0 for none. */
  deadlineMs: number
  retry: RestRetrySettings
  /** Supabase Storage files (SUPABASE_STORAGE_S3_*), unless not configured or --no-storage. */
  storage: StorageChoice
}

export interface RestRestoreConfig {
  what: string
  api: ApiSettings
  store: StoreConfig | undefined
  selection: Selection | undefined
  truncate: boolean
  confirm: string | undefined
  verify: boolean
  batchSize: number
  tempDir: string | undefined
  identity: AgeIdentitySource | undefined
  /** BACKUP_SIGNING_PUBLIC_KEYS and --allow-unsigned. */
  trust: TrustSettings
  retry: RestRetrySettings
  /** Databases and APIs the environment names as the source: production. */
  production: { setting: string; host: string; ref: string | undefined }[]
  /** The target project's Storage (TARGET_SUPABASE_STORAGE_S3_*): files after the rows. */
  storage: StorageChoice
  storageSelection: BucketSelection
  productionStorage: { setting: string; url: string }[]
  confirmStorage: string | undefined
}

/**
 * `--source rest|postgres`; by default the direct connection when DATABASE_URL or
 * SUPABASE_DB_URL is set (recommended: one consistent snapshot), the API when only
 * SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY are.
 */
export function chooseSource(env: Env, flags: Flags): SourceMode {
  const forced = flags.source
  if (forced !== undefined && forced !== '') {
    if (forced === 'rest' || forced === 'api') return 'rest'
    if (forced === 'postgres' || forced === 'direct') return 'postgres'
    throw new LifeboatError('CONFIG_INVALID', `--source must be postgres or rest, got "${String(forced)}"`)
  }
  const reader = new SettingsReader(env, flags)
  if (reader.given(S.databaseUrl) || libpqLocation(reader)) return 'postgres'
  if (reader.given(S.supabaseUrl) && reader.given(S.supabaseServiceRoleKey)) return 'rest'
  return 'postgres'
}

/** `--via rest|postgres` for a restore; the API when no target database is given but an API is. */
export function chooseRestoreVia(env: Env, flags: Flags): SourceMode {
  const forced = flags.via
  if (forced !== undefined && forced !== '') {
    if (forced === 'rest' || forced === 'api') return 'rest'
    if (forced === 'postgres' || forced === 'direct') return 'postgres'
    throw new LifeboatError('CONFIG_INVALID', `--via must be postgres or rest, got "${String(forced)}"`)
  }
  const reader = new SettingsReader(env, flags)
  // Files only: no rows go anywhere, whatever API is configured.
  if (reader.given(S.target) || reader.boolean(S.storageOnly)) return 'postgres'
  if (reader.given(S.supabaseUrl) && reader.given(S.supabaseServiceRoleKey)) return 'rest'
  return 'postgres'
}

export function readApiSettings(reader: SettingsReader): ApiSettings | undefined {
  const raw = reader.required(S.supabaseUrl)
  const key = reader.requiredSecret(S.supabaseServiceRoleKey)
  if (raw === undefined || key === undefined) return undefined
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    reader.invalid(`SUPABASE_URL must be the project URL (https://<ref>.supabase.co), got "${raw}"`)
    return undefined
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    reader.invalid(`SUPABASE_URL must be an https:// URL, got "${url.protocol}//…"`)
    return undefined
  }
  // The project URL, even when someone pasted the REST endpoint itself.
  const path = url.pathname.replace(/\/+$/, '').replace(/\/rest\/v1$/, '')
  return { url: `${url.origin}${path}`, key }
}

function readRetry(reader: SettingsReader): RestRetrySettings {
  return {
    attempts: reader.integer(S.restMaxAttempts),
    baseDelayMs: reader.integer(S.restRetryBaseMs),
    timeoutMs: reader.integer(S.restTimeoutMs),
  }
}

/** Schemas must be named exactly: the API cannot list the schemas it exposes. */
function exactSchemas(reader: SettingsReader, selection: Selection): string[] {
  const patterns = selection.schemas.filter((s) => /[*?]/.test(s))
  if (patterns.length > 0) {
    reader.invalid(`in API mode -n/--schema takes exact schema names, not patterns (${patterns.join(', ')})`)
  }
  return selection.schemas.length > 0 ? selection.schemas.filter((s) => !/[*?]/.test(s)) : ['public']
}

export function readRestBackupConfig(env: Env, flags: Flags): RestBackupConfig {
  const reader = new SettingsReader(env, flags)
  const api = readApiSettings(reader)
  const store = readStoreConfig(reader)
  const selection = readSelection(reader)
  const config = {
    selection,
    schemas: exactSchemas(reader, selection),
    batchSize: reader.integer(S.batchSize),
    authUsers: reader.boolean(S.authUsers),
    gzipLevel: reader.integer(S.compress),
    recipients: readAgeRecipients(reader),
    signingKey: readSigningKeySource(reader),
    tempDir: reader.optional(S.tempDir),
    deadlineMs: readDeadline(reader),
    retry: readRetry(reader),
    storage: readStorageSettings(reader, 'source'),
  }
  reader.finish()
  return { api: api!, store: store!, ...config }
}

export function readRestRestoreConfig(
  env: Env,
  flags: Flags,
  positional: readonly string[],
  host: HostFacts = NO_HOST_FACTS,
): RestRestoreConfig {
  const what = backupArgument(positional)
  const reader = new SettingsReader(env, flags, host)
  const api = readApiSettings(reader)
  const store = reader.given(S.store) === undefined ? undefined : readStoreConfig(reader)
  const selection = readSelection(reader)
  const anySelection = Object.values(selection).some((list) => list.length > 0)
  const production = readProductionDatabases(reader).map(({ setting, url }) => {
    const { hostname, username } = new URL(url.reveal())
    return { setting, host: hostname, ref: supabaseProjectRef(hostname, decodeURIComponent(username)) }
  })
  const config = {
    what,
    store,
    selection: anySelection ? selection : undefined,
    truncate: reader.boolean(S.truncate),
    confirm: reader.optional(S.confirm),
    verify: reader.boolean(S.verify),
    batchSize: reader.integer(S.batchSize),
    tempDir: reader.optional(S.tempDir),
    identity: readAgeIdentity(reader),
    trust: readTrustSettings(reader),
    retry: readRetry(reader),
    production,
    storage: readStorageSettings(reader, 'target'),
    storageSelection: readBucketSelection(reader),
    productionStorage: readProductionStorage(reader),
    confirmStorage: reader.optional(S.confirmStorage),
  }
  if (reader.boolean(S.storageOnly)) {
    reader.invalid('--storage-only restores files only, with no API: leave out --via rest')
  }
  if (reader.boolean(S.createSchema)) {
    reader.invalid('--create-schema needs a database connection: the API cannot run DDL (docs/api-mode.md)')
  }
  if (reader.boolean(S.dryRun)) reader.invalid('--dry-run is not available through the API (--via rest)')
  reader.finish()
  return { api: api!, ...config }
}

/**
 * The Supabase project a host belongs to: `<ref>.supabase.co` (API),
 * `db.<ref>.supabase.co` (direct), or a pooler host with user `postgres.<ref>`.
 */
export function supabaseProjectRef(host: string, user?: string): string | undefined {
  const h = host.toLowerCase()
  const direct = /^db\.([a-z0-9]+)\.supabase\.(co|in)$/.exec(h)
  if (direct) return direct[1]
  const api = /^([a-z0-9]+)\.supabase\.(co|in)$/.exec(h)
  if (api) return api[1]
  if (/\.pooler\.supabase\.com$/.test(h) && user?.includes('.')) return user.slice(user.indexOf('.') + 1)
  return undefined
}

/**
 * Why an API target counts as production (empty when it does not): it is the API a
 * REST backup was read from (same host and port), or it belongs to the same Supabase
 * project as the backup's source or the database the environment names.
 */
export function apiProductionReasons(input: {
  /** `host[:port]` of SUPABASE_URL. */
  target: { host: string; ref: string | undefined }
  backupSource: { host: string; kind: 'postgres' | 'rest' } | undefined
  environment: readonly { setting: string; host: string; ref: string | undefined }[]
}): string[] {
  const targetRef = input.target.ref
  const reasons: string[] = []
  const source = input.backupSource
  if (source) {
    const sourceRef = supabaseProjectRef(source.host.replace(/:\d+$/, ''))
    const sameApi = source.kind === 'rest' && source.host.toLowerCase() === input.target.host.toLowerCase()
    if (sameApi || (sourceRef !== undefined && sourceRef === targetRef)) {
      reasons.push('it is the project this backup was taken from')
    }
  }
  for (const { setting, ref } of input.environment) {
    if (ref !== undefined && ref === targetRef) reasons.push(`it is the project ${setting} names`)
  }
  return reasons
}
