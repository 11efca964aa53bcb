// Storage settings, parsed once from env and flags with every problem collected: the
// Supabase Storage S3 endpoint (source, or TARGET_ for a restore), bucket selection,
// parallel transfers. A separate account from the backup store's AWS settings.
import type { Flags, SettingsReader } from '../core/config.ts'
import type { Secret } from '../core/secret.ts'
import type { BucketSelection } from './bucket-selection.ts'

export const STORAGE_DEFAULTS = { jobs: 4, rereadDays: 30, lockTtlMinutes: 30 } as const

export interface StorageEndpoint {
  /** `https://<ref>.supabase.co/storage/v1/s3` (or `<ref>.storage.supabase.co`). */
  url: string
  region: string
  accessKeyId: string
  secretAccessKey: Secret
  /** The variable prefix the values came from (`SUPABASE_STORAGE_S3` or `TARGET_SUPABASE_STORAGE_S3`), for messages. */
  setting: string
}

export interface StorageSettings {
  endpoint: StorageEndpoint
  selection: BucketSelection
  /** Objects transferred at once. */
  jobs: number
  /** Content is read from the source again at least this often, even when its ETag is unchanged. */
  rereadDays: number
  /** Read every object's content this run (`--storage-reread`). */
  reread: boolean
  lockTtlMinutes: number
}

export type StorageChoice =
  | { enabled: true; settings: StorageSettings }
  | { enabled: false; reason: 'not-configured' | 'disabled' }

export type StorageRole = 'source' | 'target'

/** The variable names of one role: `SUPABASE_STORAGE_S3_URL` or `TARGET_SUPABASE_STORAGE_S3_URL`, … */
export function storageSettingNames(role: StorageRole) {
  const base = `${role === 'target' ? 'TARGET_' : ''}SUPABASE_STORAGE_S3`
  return {
    base,
    url: `${base}_URL`,
    accessKeyId: `${base}_ACCESS_KEY_ID`,
    secretAccessKey: `${base}_SECRET_ACCESS_KEY`,
    region: `${base}_REGION`,
  }
}

/**
 * Storage for a backup (`source`) or a restore (`target`): enabled when the endpoint URL
 * is set, disabled by `--no-storage`. Problems go to the reader; call `finish()` after.
 */
export function readStorageSettings(
  reader: SettingsReader,
  role: StorageRole,
  flags: Flags = {},
): StorageChoice {
  const names = storageSettingNames(role)
  const flag = role === 'target' ? 'target-storage' : 'storage'
  if (isStorageDisabled(flags)) return { enabled: false, reason: 'disabled' }
  const url = reader.optional(`${flag}-s3-url`, names.url)
  const anyOther = [names.accessKeyId, names.secretAccessKey, names.region].some((n) => reader.env(n))
  if (url === undefined) {
    if (anyOther) reader.missing(`${names.url} (the other ${names.base}_* settings are set)`)
    return { enabled: false, reason: 'not-configured' }
  }
  if (!/^https?:\/\/[^/\s]+/.test(url)) {
    reader.invalid(`${names.url} must be an http(s) URL such as https://<ref>.supabase.co/storage/v1/s3`)
  } else if (/^https?:\/\/[^/]*@/.test(url)) {
    reader.invalid(
      `${names.url} must not hold credentials; set ${names.accessKeyId} and ${names.secretAccessKey}`,
    )
  }
  const accessKeyId = reader.required(`${flag}-s3-access-key-id`, names.accessKeyId)
  // The secret comes from the environment only: a flag would put it in the process list.
  const secretAccessKey = reader.requiredSecret(undefined, names.secretAccessKey)
  const region = reader.required(`${flag}-s3-region`, names.region)
  const settings: StorageSettings = {
    endpoint: {
      url: url.replace(/\/+$/, ''),
      region: region ?? '',
      accessKeyId: accessKeyId ?? '',
      secretAccessKey: secretAccessKey as Secret,
      setting: names.base,
    },
    selection: {
      buckets: reader.list('storage-bucket', 'STORAGE_BUCKETS'),
      excludeBuckets: reader.list('exclude-storage-bucket', 'STORAGE_EXCLUDE_BUCKETS'),
    },
    jobs: reader.integer('storage-jobs', 'STORAGE_JOBS', STORAGE_DEFAULTS.jobs, 1),
    rereadDays: reader.number(undefined, 'STORAGE_REREAD_DAYS', STORAGE_DEFAULTS.rereadDays),
    reread: reader.boolean('storage-reread'),
    lockTtlMinutes: reader.number(undefined, 'STORAGE_LOCK_TTL_MINUTES', STORAGE_DEFAULTS.lockTtlMinutes),
  }
  if (settings.jobs > 64)
    reader.invalid(`STORAGE_JOBS (--storage-jobs) must be at most 64, got ${settings.jobs}`)
  if (settings.lockTtlMinutes < 1) reader.invalid('STORAGE_LOCK_TTL_MINUTES must be at least 1')
  return { enabled: true, settings }
}

/**
 * `--no-storage`: minimist (zx) reads it as `storage: false`, so the job must not declare
 * `storage` a boolean flag (that would default it to false).
 */
export function isStorageDisabled(flags: Flags): boolean {
  return flags.storage === false || flags['no-storage'] === true
}
