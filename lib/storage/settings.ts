// Storage settings, parsed once from env and flags with every problem collected: the
// Supabase Storage S3 endpoint (source, or TARGET_ for a restore), bucket selection,
// parallel transfers. A separate account from the backup store's AWS settings.
import type { SettingsReader } from '../core/config.ts'
import type { Secret } from '../core/secret.ts'
import { SETTINGS as S } from '../settings/settings.ts'
import type { BucketSelection } from './bucket-selection.ts'

export const STORAGE_DEFAULTS = {
  jobs: S.storageJobs.default as number,
  rereadDays: S.storageRereadDays.default as number,
  lockTtlMinutes: S.storageLockTtlMinutes.default as number,
}

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

/** The project backed up, the one a restore writes to (`TARGET_`), a drill's scratch project (`STAGING_`). */
export type StorageRole = 'source' | 'target' | 'staging'

const PREFIXES: Record<StorageRole, string> = { source: '', target: 'TARGET_', staging: 'STAGING_' }

/** The variable names of one role: `SUPABASE_STORAGE_S3_URL` or `TARGET_SUPABASE_STORAGE_S3_URL`, … */
export function storageSettingNames(role: StorageRole) {
  const base = `${PREFIXES[role]}SUPABASE_STORAGE_S3`
  return {
    base,
    url: `${base}_URL`,
    accessKeyId: `${base}_ACCESS_KEY_ID`,
    secretAccessKey: `${base}_SECRET_ACCESS_KEY`,
    region: `${base}_REGION`,
  }
}

/** The definitions of one role's endpoint settings (lib/settings/storage-settings.ts). */
function endpointDefs(role: StorageRole) {
  if (role === 'staging') {
    return {
      url: S.stagingStorageS3Url,
      accessKeyId: S.stagingStorageS3AccessKeyId,
      secretAccessKey: S.stagingStorageS3SecretAccessKey,
      region: S.stagingStorageS3Region,
    }
  }
  return role === 'target'
    ? {
        url: S.targetStorageS3Url,
        accessKeyId: S.targetStorageS3AccessKeyId,
        secretAccessKey: S.targetStorageS3SecretAccessKey,
        region: S.targetStorageS3Region,
      }
    : {
        url: S.storageS3Url,
        accessKeyId: S.storageS3AccessKeyId,
        secretAccessKey: S.storageS3SecretAccessKey,
        region: S.storageS3Region,
      }
}

/**
 * Storage for a backup (`source`) or a restore (`target`): enabled when the endpoint URL
 * is set, disabled by `--no-storage`. Problems go to the reader; call `finish()` after.
 */
export function readStorageSettings(reader: SettingsReader, role: StorageRole): StorageChoice {
  const names = storageSettingNames(role)
  const defs = endpointDefs(role)
  if (!reader.boolean(S.storage)) return { enabled: false, reason: 'disabled' }
  const url = reader.optional(defs.url)
  const anyOther = [defs.accessKeyId, defs.secretAccessKey, defs.region].some((d) => reader.given(d))
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
  const accessKeyId = reader.required(defs.accessKeyId)
  // The secret comes from the environment only: a flag would put it in the process list.
  const secretAccessKey = reader.requiredSecret(defs.secretAccessKey)
  const region = reader.required(defs.region)
  const settings: StorageSettings = {
    endpoint: {
      url: url.replace(/\/+$/, ''),
      region: region ?? '',
      accessKeyId: accessKeyId ?? '',
      secretAccessKey: secretAccessKey as Secret,
      setting: names.base,
    },
    selection: readBucketSelection(reader),
    jobs: reader.integer(S.storageJobs),
    rereadDays: reader.number(S.storageRereadDays),
    reread: reader.boolean(S.storageReread),
    lockTtlMinutes: reader.number(S.storageLockTtlMinutes),
  }
  return { enabled: true, settings }
}

/** SUPABASE_STORAGE_S3_URL where a restore or drill reads it: the Storage never written unconfirmed. */
export function readProductionStorage(reader: SettingsReader): { setting: string; url: string }[] {
  const url = reader.optional(S.productionStorageS3Url)
  return url === undefined ? [] : [{ setting: S.productionStorageS3Url.env![0]!, url }]
}

/** `--storage-bucket` / `--exclude-storage-bucket` (or STORAGE_BUCKETS, STORAGE_EXCLUDE_BUCKETS). */
export function readBucketSelection(reader: SettingsReader): BucketSelection {
  return { buckets: reader.list(S.storageBucket), excludeBuckets: reader.list(S.excludeStorageBucket) }
}
