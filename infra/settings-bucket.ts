// Parsers for the bucket's settings: where it is (region, name, prefix), how long backups
// and old versions live (retention, noncurrent versions, the lifecycle backstop), Object
// Lock and the encryption key. Each pushes its problems to the reader's shared list.
import type { ConfigReader } from './config-reader.ts'

/** A current backup is never expired by lifecycle before the clean job's reach plus this margin. */
export const BACKSTOP_MARGIN_DAYS = 30

export type ObjectLockMode = 'off' | 'governance' | 'compliance'

/**
 * The clean job's policy (lib/retention/retention.ts), published to the workflows as RETENTION_*:
 * backups older than `days` go, except the newest `minKeep` and the newest of each of the
 * last `daily` days, `weekly` weeks and `monthly` months.
 */
export interface RetentionSettings {
  days: number
  minKeep: number
  daily: number
  weekly: number
  monthly: number
}

/** The oldest backup the clean job may still keep on purpose, in days. */
export function retentionReachDays(retention: RetentionSettings): number {
  return Math.max(retention.days, retention.daily, retention.weekly * 7, retention.monthly * 31)
}

export function isBucketName(name: string): boolean {
  return (
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !name.includes('..') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !name.startsWith('xn--')
  )
}

export function parseLocation(config: ConfigReader): { region: string; bucketName: string; prefix: string } {
  const { problems } = config
  const region = config.need('aws:region') ?? ''
  if (region && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
    problems.push(`aws:region "${region}" is not an AWS region`)

  const bucketName = config.need('lifeboat:bucketName') ?? ''
  if (bucketName && !isBucketName(bucketName)) {
    problems.push(
      `lifeboat:bucketName "${bucketName}" is not a valid S3 bucket name (3–63 lower-case letters, digits, dots, hyphens)`,
    )
  }

  const prefix = config.optional('lifeboat:prefix') ?? ''
  if (prefix && !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(prefix)) {
    problems.push(`lifeboat:prefix "${prefix}" must be path segments without leading or trailing slashes`)
  }
  return { region, bucketName, prefix }
}

export function parseRetention(config: ConfigReader): RetentionSettings {
  const retentionRaw = config.object('lifeboat:retention', false) ?? {}
  const tier = (field: keyof RetentionSettings, fallback: number, min: number, max: number): number => {
    const value = retentionRaw[field]
    if (value === undefined) return fallback
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      config.problems.push(
        `lifeboat:retention.${field} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
      )
      return fallback
    }
    return value
  }
  return {
    days: tier('days', 30, 1, 3650),
    minKeep: tier('minKeep', 7, 1, 1000),
    daily: tier('daily', 0, 0, 3650),
    weekly: tier('weekly', 0, 0, 520),
    monthly: tier('monthly', 0, 0, 120),
  }
}

/** Old versions' expiry, and the backstop expiry of current backups (never before the clean job's reach). */
export function parseLifecycle(
  config: ConfigReader,
  retention: RetentionSettings,
): { noncurrentVersionDays: number; backstopExpirationDays: number } {
  const noncurrentVersionDays = config.integer('lifeboat:noncurrentVersionDays', 30, 1, 3650)
  const backstopExpirationDays = config.integer('lifeboat:backstopExpirationDays', 0, 0, 36500)
  const backstopFloor = retentionReachDays(retention) + BACKSTOP_MARGIN_DAYS
  if (backstopExpirationDays > 0 && backstopExpirationDays < backstopFloor) {
    config.problems.push(
      `lifeboat:backstopExpirationDays (${backstopExpirationDays}) must be 0 (off) or at least ` +
        `${backstopFloor} (the oldest backup the clean job keeps on purpose, ${retentionReachDays(retention)} days, ` +
        `+ ${BACKSTOP_MARGIN_DAYS}): an earlier expiry would undercut the clean job`,
    )
  }
  return { noncurrentVersionDays, backstopExpirationDays }
}

export function parseObjectLock(config: ConfigReader): { mode: ObjectLockMode; days: number } {
  const { problems } = config
  const lock = config.object('lifeboat:objectLock', false) ?? { mode: 'off' }
  const mode = String(lock.mode ?? 'off').toLowerCase()
  const lockDays = lock.days === undefined ? 0 : Number(lock.days)
  if (mode !== 'off' && mode !== 'governance' && mode !== 'compliance') {
    problems.push(`lifeboat:objectLock.mode must be off, governance or compliance, got "${mode}"`)
  } else if (mode === 'off' && lockDays !== 0) {
    problems.push('lifeboat:objectLock.days must be 0 (or unset) when the mode is off')
  } else if (mode !== 'off' && (!Number.isInteger(lockDays) || lockDays < 1 || lockDays > 36500)) {
    problems.push(`lifeboat:objectLock.days must be a whole number from 1 to 36500 for ${mode} mode`)
  }
  return { mode: mode as ObjectLockMode, days: mode === 'off' ? 0 : lockDays }
}

export function parseKmsKeyArn(config: ConfigReader): string | undefined {
  const kmsKeyArn = config.optional('lifeboat:kmsKeyArn')
  if (kmsKeyArn && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(kmsKeyArn)) {
    config.problems.push(
      'lifeboat:kmsKeyArn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias',
    )
  }
  return kmsKeyArn
}
