// The stack's settings as data: every key a stack reads, its kind and when it is needed,
// and a pure parser that reports every problem at once. Pulumi.example.yaml must list
// exactly these keys (test/infra/example-config.test.ts), so the example cannot drift.
import { LifeboatError } from '../lib/core/errors.ts'
import type { GitHubEnvironmentName, GitHubSecretKey } from '../lib/core/stack-outputs.ts'
import {
  type GitHubSettings,
  type MonitoringSettings,
  parseEnvironments,
  parseGitHub,
  parseMonitoring,
  parsePart,
  parseReplica,
  type ReplicaSettings,
  type StackPart,
} from './settings-parts.ts'

export type { GitHubSettings, MonitoringSettings, ReplicaSettings, StackPart }

/** A current backup is never expired by lifecycle before the clean job's reach plus this margin. */
export const BACKSTOP_MARGIN_DAYS = 30
/** The value Pulumi.example.yaml holds for every secret; the program refuses to deploy it. */
export const SECRET_PLACEHOLDER = '<secret>'

export type ObjectLockMode = 'off' | 'governance' | 'compliance'
export const ALERT_CHANNELS = ['slack', 'pagerduty', 'email', 'heartbeat'] as const
export type AlertChannel = (typeof ALERT_CHANNELS)[number]

export interface EnvironmentSettings {
  /** Branch name patterns allowed to deploy to the environment (its deployment branch policy). */
  branches: string[]
  reviewers: { users: number[]; teams: number[] }
  waitTimerMinutes: number
}

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

export interface LifeboatSettings {
  /** Which stack this is: the infrastructure (previewed on pull requests, holds no secret) or the secrets. */
  part: StackPart
  region: string
  bucketName: string
  /** Key prefix inside the bucket, without slashes at either end; '' for the bucket root. */
  prefix: string
  retention: RetentionSettings
  noncurrentVersionDays: number
  /** Lifecycle expiry of current backups; 0 turns the backstop off. */
  backstopExpirationDays: number
  objectLock: { mode: ObjectLockMode; days: number }
  /** SSE-KMS with this key; undefined keeps SSE-S3 (AES-256). */
  kmsKeyArn?: string
  github: GitHubSettings
  /** Reference an account's existing GitHub OIDC provider instead of creating one. */
  existingOidcProviderArn?: string
  environments: Record<GitHubEnvironmentName, EnvironmentSettings>
  alerts: { channels: AlertChannel[]; oncallEmail?: string; pagerDutyEventsUrl?: string }
  ageEncryption: boolean
  /** A second copy in another region (and account); undefined: none. */
  replica?: ReplicaSettings
  monitoring: MonitoringSettings
}

type SettingKind = 'string' | 'integer' | 'boolean' | 'object' | 'secret'

export interface SettingSpec {
  /** Full config key, `namespace:name`. */
  key: string
  kind: SettingKind
  /** Needed for every stack; otherwise `neededWhen` says when. */
  required: boolean
  neededWhen?: string
  /** The GitHub secret a secret setting fills. */
  secret?: GitHubSecretKey
}

/** Every setting, in the order Pulumi.example.yaml lists them. */
export const SETTINGS: readonly SettingSpec[] = [
  { key: 'lifeboat:part', kind: 'string', required: false },
  { key: 'aws:region', kind: 'string', required: true },
  { key: 'lifeboat:bucketName', kind: 'string', required: true },
  { key: 'lifeboat:prefix', kind: 'string', required: false },
  { key: 'lifeboat:retention', kind: 'object', required: false },
  { key: 'lifeboat:noncurrentVersionDays', kind: 'integer', required: false },
  { key: 'lifeboat:backstopExpirationDays', kind: 'integer', required: false },
  { key: 'lifeboat:objectLock', kind: 'object', required: false },
  { key: 'lifeboat:kmsKeyArn', kind: 'string', required: false },
  { key: 'lifeboat:github', kind: 'object', required: true },
  { key: 'lifeboat:existingOidcProviderArn', kind: 'string', required: false },
  { key: 'lifeboat:environments', kind: 'object', required: false },
  { key: 'lifeboat:alerts', kind: 'object', required: true },
  { key: 'lifeboat:ageEncryption', kind: 'boolean', required: false },
  { key: 'lifeboat:replica', kind: 'object', required: false },
  { key: 'lifeboat:monitoring', kind: 'object', required: false },
  { key: 'lifeboat:databaseUrl', kind: 'secret', required: true, secret: 'databaseUrl' },
  { key: 'lifeboat:stagingDatabaseUrl', kind: 'secret', required: true, secret: 'stagingDatabaseUrl' },
  {
    key: 'lifeboat:slackWebhookUrl',
    kind: 'secret',
    required: false,
    neededWhen: 'alerts.channels has slack',
    secret: 'slackWebhookUrl',
  },
  {
    key: 'lifeboat:pagerDutyRoutingKey',
    kind: 'secret',
    required: false,
    neededWhen: 'alerts.channels has pagerduty',
    secret: 'pagerDutyRoutingKey',
  },
  {
    key: 'lifeboat:smtpUrl',
    kind: 'secret',
    required: false,
    neededWhen: 'alerts.channels has email',
    secret: 'smtpUrl',
  },
  {
    key: 'lifeboat:heartbeatUrl',
    kind: 'secret',
    required: false,
    neededWhen: 'alerts.channels has heartbeat',
    secret: 'heartbeatUrl',
  },
  {
    key: 'lifeboat:ageRecipients',
    kind: 'secret',
    required: false,
    neededWhen: 'ageEncryption is true',
    secret: 'ageRecipients',
  },
  {
    key: 'lifeboat:ageIdentity',
    kind: 'secret',
    required: false,
    neededWhen: 'ageEncryption is true',
    secret: 'ageIdentity',
  },
]

/** Reads one raw config value (`namespace:name`), as the Pulumi engine hands it over: a string. */
export type RawConfig = (key: string) => string | undefined

/** Parses every non-secret setting; throws one CONFIG_INVALID/CONFIG_MISSING error naming all problems. */
export function parseSettings(raw: RawConfig): LifeboatSettings {
  const problems: string[] = []
  let missing = false
  const need = (key: string): string | undefined => {
    const value = raw(key)
    if (value === undefined || value === '') {
      missing = true
      problems.push(`${key} is not set`)
      return undefined
    }
    return value
  }
  const optional = (key: string): string | undefined => {
    const value = raw(key)
    return value === '' ? undefined : value
  }
  const integer = (key: string, fallback: number, min: number, max: number): number => {
    const value = optional(key)
    if (value === undefined) return fallback
    const n = Number(value)
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${key} must be a whole number from ${min} to ${max}, got "${value}"`)
      return fallback
    }
    return n
  }
  const object = (key: string, isRequired: boolean): Record<string, unknown> | undefined => {
    const value = isRequired ? need(key) : optional(key)
    if (value === undefined) return undefined
    try {
      const parsed: unknown = JSON.parse(value)
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
        return parsed as Record<string, unknown>
      }
    } catch {
      // reported below
    }
    problems.push(`${key} must be an object (set it with \`pulumi config set --path '${key}.<field>' …\`)`)
    return undefined
  }

  const region = need('aws:region') ?? ''
  if (region && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
    problems.push(`aws:region "${region}" is not an AWS region`)

  const bucketName = need('lifeboat:bucketName') ?? ''
  if (bucketName && !isBucketName(bucketName)) {
    problems.push(
      `lifeboat:bucketName "${bucketName}" is not a valid S3 bucket name (3–63 lower-case letters, digits, dots, hyphens)`,
    )
  }

  const prefix = optional('lifeboat:prefix') ?? ''
  if (prefix && !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(prefix)) {
    problems.push(`lifeboat:prefix "${prefix}" must be path segments without leading or trailing slashes`)
  }

  const retentionRaw = object('lifeboat:retention', false) ?? {}
  const tier = (field: keyof RetentionSettings, fallback: number, min: number, max: number): number => {
    const value = retentionRaw[field]
    if (value === undefined) return fallback
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      problems.push(
        `lifeboat:retention.${field} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
      )
      return fallback
    }
    return value
  }
  const retention: RetentionSettings = {
    days: tier('days', 30, 1, 3650),
    minKeep: tier('minKeep', 7, 1, 1000),
    daily: tier('daily', 0, 0, 3650),
    weekly: tier('weekly', 0, 0, 520),
    monthly: tier('monthly', 0, 0, 120),
  }
  const noncurrentVersionDays = integer('lifeboat:noncurrentVersionDays', 30, 1, 3650)
  const backstopExpirationDays = integer('lifeboat:backstopExpirationDays', 0, 0, 36500)
  const backstopFloor = retentionReachDays(retention) + BACKSTOP_MARGIN_DAYS
  if (backstopExpirationDays > 0 && backstopExpirationDays < backstopFloor) {
    problems.push(
      `lifeboat:backstopExpirationDays (${backstopExpirationDays}) must be 0 (off) or at least ` +
        `${backstopFloor} (the oldest backup the clean job keeps on purpose, ${retentionReachDays(retention)} days, ` +
        `+ ${BACKSTOP_MARGIN_DAYS}): an earlier expiry would undercut the clean job`,
    )
  }

  const lock = object('lifeboat:objectLock', false) ?? { mode: 'off' }
  const mode = String(lock.mode ?? 'off').toLowerCase()
  const lockDays = lock.days === undefined ? 0 : Number(lock.days)
  if (mode !== 'off' && mode !== 'governance' && mode !== 'compliance') {
    problems.push(`lifeboat:objectLock.mode must be off, governance or compliance, got "${mode}"`)
  } else if (mode === 'off' && lockDays !== 0) {
    problems.push('lifeboat:objectLock.days must be 0 (or unset) when the mode is off')
  } else if (mode !== 'off' && (!Number.isInteger(lockDays) || lockDays < 1 || lockDays > 36500)) {
    problems.push(`lifeboat:objectLock.days must be a whole number from 1 to 36500 for ${mode} mode`)
  }

  const kmsKeyArn = optional('lifeboat:kmsKeyArn')
  if (kmsKeyArn && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(kmsKeyArn)) {
    problems.push(
      'lifeboat:kmsKeyArn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias',
    )
  }

  const github = parseGitHub(object('lifeboat:github', true), problems)
  const part = parsePart(optional('lifeboat:part'), problems)
  const existingOidcProviderArn = optional('lifeboat:existingOidcProviderArn')
  if (
    existingOidcProviderArn &&
    !/^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/.test(
      existingOidcProviderArn,
    )
  ) {
    problems.push(
      'lifeboat:existingOidcProviderArn must be the ARN of the token.actions.githubusercontent.com provider',
    )
  }

  const environments = parseEnvironments(object('lifeboat:environments', false) ?? {}, problems)

  const alertsRaw = object('lifeboat:alerts', true) ?? {}
  const channelsRaw: unknown[] = Array.isArray(alertsRaw.channels) ? alertsRaw.channels : []
  const channels: AlertChannel[] = []
  for (const channel of channelsRaw) {
    if (typeof channel === 'string' && (ALERT_CHANNELS as readonly string[]).includes(channel)) {
      if (!channels.includes(channel as AlertChannel)) channels.push(channel as AlertChannel)
    } else {
      problems.push(
        `lifeboat:alerts.channels: "${String(channel)}" is not one of ${ALERT_CHANNELS.join(', ')}`,
      )
    }
  }
  if (raw('lifeboat:alerts') !== undefined && channels.length === 0) {
    problems.push(
      'lifeboat:alerts.channels must name at least one channel: a failed backup nobody hears of is no backup',
    )
  }
  const oncallEmail = typeof alertsRaw.oncallEmail === 'string' ? alertsRaw.oncallEmail : undefined
  if (channels.includes('email') && !oncallEmail)
    problems.push('lifeboat:alerts.oncallEmail is needed for the email channel')
  if (oncallEmail && !oncallEmail.split(',').every((a) => /^[^@\s]+@[^@\s]+$/.test(a.trim()))) {
    problems.push('lifeboat:alerts.oncallEmail must be e-mail addresses, comma separated')
  }
  const pagerDutyEventsUrl =
    typeof alertsRaw.pagerDutyEventsUrl === 'string' ? alertsRaw.pagerDutyEventsUrl : undefined
  if (pagerDutyEventsUrl && !/^https:\/\/[^\s/]+\/\S*$/.test(pagerDutyEventsUrl)) {
    problems.push('lifeboat:alerts.pagerDutyEventsUrl must be an https URL')
  }

  const replica = parseReplica(object('lifeboat:replica', false), { region, bucketName, prefix }, problems)
  const monitoring = parseMonitoring(object('lifeboat:monitoring', false), oncallEmail, problems)

  const ageRaw = optional('lifeboat:ageEncryption') ?? 'false'
  if (ageRaw !== 'true' && ageRaw !== 'false') problems.push('lifeboat:ageEncryption must be true or false')

  if (problems.length > 0) {
    throw new LifeboatError(
      missing ? 'CONFIG_MISSING' : 'CONFIG_INVALID',
      `Stack configuration: ${problems.join('; ')}`,
      {
        details: problems,
      },
    )
  }
  return {
    part,
    region,
    bucketName,
    prefix,
    retention,
    noncurrentVersionDays,
    backstopExpirationDays,
    objectLock: { mode: mode as ObjectLockMode, days: mode === 'off' ? 0 : lockDays },
    ...(kmsKeyArn ? { kmsKeyArn } : {}),
    github,
    ...(existingOidcProviderArn ? { existingOidcProviderArn } : {}),
    environments,
    alerts: {
      channels,
      ...(oncallEmail ? { oncallEmail } : {}),
      ...(pagerDutyEventsUrl ? { pagerDutyEventsUrl } : {}),
    },
    ageEncryption: ageRaw === 'true',
    ...(replica ? { replica } : {}),
    monitoring,
  }
}

/** The secret settings this stack needs, given its other settings. */
export function neededSecrets(settings: LifeboatSettings): SettingSpec[] {
  return SETTINGS.filter((spec) => {
    if (spec.kind !== 'secret') return false
    if (spec.required) return true
    switch (spec.secret) {
      case 'slackWebhookUrl':
        return settings.alerts.channels.includes('slack')
      case 'pagerDutyRoutingKey':
        return settings.alerts.channels.includes('pagerduty')
      case 'smtpUrl':
        return settings.alerts.channels.includes('email')
      case 'heartbeatUrl':
        return settings.alerts.channels.includes('heartbeat')
      case 'ageRecipients':
      case 'ageIdentity':
        return settings.ageEncryption
      default:
        return false
    }
  })
}

/**
 * Checks one secret's value; the message names the setting, never the value.
 * Returns undefined when the value is acceptable.
 */
export function checkSecretValue(spec: SettingSpec, value: string): string | undefined {
  const command = `pulumi config set --secret ${spec.key} '…'`
  if (value.trim() === '' || value === SECRET_PLACEHOLDER) {
    return `${spec.key} still holds the placeholder from Pulumi.example.yaml; run \`${command}\``
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase()
  switch (spec.secret) {
    case 'databaseUrl':
    case 'stagingDatabaseUrl':
      return scheme === 'postgres' || scheme === 'postgresql'
        ? undefined
        : `${spec.key} must be a postgresql:// connection URL`
    case 'slackWebhookUrl':
    case 'heartbeatUrl':
      return scheme === 'https' ? undefined : `${spec.key} must be an https URL`
    case 'smtpUrl':
      return scheme === 'smtp' || scheme === 'smtps'
        ? undefined
        : `${spec.key} must be an smtp:// or smtps:// URL`
    case 'ageRecipients':
      return /^(age1[0-9a-z]+)([\s,]+age1[0-9a-z]+)*$/.test(value.trim())
        ? undefined
        : `${spec.key} must be one or more age1… public keys`
    case 'ageIdentity':
      return /AGE-SECRET-KEY-1[0-9A-Z]+/.test(value)
        ? undefined
        : `${spec.key} must hold an AGE-SECRET-KEY-1… key`
    default:
      return undefined
  }
}

function isBucketName(name: string): boolean {
  return (
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !name.includes('..') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !name.startsWith('xn--')
  )
}
