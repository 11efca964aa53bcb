// The stack's settings: what a stack is configured with, as one typed object, and a pure
// parser that reports every problem at once. The keys themselves are data in
// setting-specs.ts (Pulumi.example.yaml must list exactly those: test/infra/example-config.test.ts).
import { LifeboatError } from '../lib/core/errors.ts'
import type { GitHubEnvironmentName } from '../lib/core/stack-outputs.ts'
import { configReader, type RawConfig } from './config-reader.ts'
import { type AlertSettings, parseAlerts } from './settings-alerts.ts'
import {
  type ObjectLockMode,
  parseKmsKeyArn,
  parseLifecycle,
  parseLocation,
  parseObjectLock,
  parseRetention,
  type RetentionSettings,
} from './settings-bucket.ts'
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
import { parseSigningPublicKeys } from './settings-signing.ts'
import { parseStorage, type StorageStackSettings } from './settings-storage.ts'

export type { RawConfig } from './config-reader.ts'
export {
  checkSecretValue,
  DEPRECATED_SETTINGS,
  deprecatedSettings,
  neededSecrets,
  SECRET_PLACEHOLDER,
  SETTINGS,
  type SettingSpec,
  straySecrets,
} from './setting-specs.ts'
export { ALERT_CHANNELS, type AlertChannel } from './settings-alerts.ts'
export {
  BACKSTOP_MARGIN_DAYS,
  type ObjectLockMode,
  type RetentionSettings,
  retentionReachDays,
} from './settings-bucket.ts'
export type { StorageEndpointSettings, StorageStackSettings } from './settings-storage.ts'
export type { GitHubSettings, MonitoringSettings, ReplicaSettings, StackPart }

export interface EnvironmentSettings {
  /** Branch name patterns allowed to deploy to the environment (its deployment branch policy). */
  branches: string[]
  reviewers: { users: number[]; teams: number[] }
  waitTimerMinutes: number
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
  alerts: AlertSettings
  ageEncryption: boolean
  /** A second copy in another region (and account); undefined: none. */
  replica?: ReplicaSettings
  monitoring: MonitoringSettings
  /** The public keys backups must be signed by, `RW…` lines joined by commas. */
  signingPublicKeys: string
  /** Supabase Storage endpoints (source, and the drills' scratch project); empty: no files. */
  storage: StorageStackSettings
}

function parseOidcProviderArn(value: string | undefined, problems: string[]): string | undefined {
  if (
    value &&
    !/^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/.test(value)
  ) {
    problems.push(
      'lifeboat:existingOidcProviderArn must be the ARN of the token.actions.githubusercontent.com provider',
    )
  }
  return value
}

function parseBoolean(config: ReturnType<typeof configReader>, key: string): boolean {
  const value = config.optional(key) ?? 'false'
  if (value !== 'true' && value !== 'false') config.problems.push(`${key} must be true or false`)
  return value === 'true'
}

/** Parses every non-secret setting; throws one CONFIG_INVALID/CONFIG_MISSING error naming all problems. */
export function parseSettings(raw: RawConfig): LifeboatSettings {
  const config = configReader(raw)
  const { problems } = config
  const location = parseLocation(config)
  const retention = parseRetention(config)
  const lifecycle = parseLifecycle(config, retention)
  const objectLock = parseObjectLock(config)
  const kmsKeyArn = parseKmsKeyArn(config)
  const github = parseGitHub(config.object('lifeboat:github', true), problems)
  const part = parsePart(config.optional('lifeboat:part'), problems)
  const existingOidcProviderArn = parseOidcProviderArn(
    config.optional('lifeboat:existingOidcProviderArn'),
    problems,
  )
  const environments = parseEnvironments(config.object('lifeboat:environments', false) ?? {}, problems)
  const alerts = parseAlerts(config)
  const replica = parseReplica(config.object('lifeboat:replica', false), { ...location, kmsKeyArn }, problems)
  const monitoring = parseMonitoring(
    config.object('lifeboat:monitoring', false),
    alerts.oncallEmail,
    problems,
  )
  const ageEncryption = parseBoolean(config, 'lifeboat:ageEncryption')
  const signingPublicKeys = parseSigningPublicKeys(config)
  const storage = parseStorage(config)

  if (problems.length > 0) {
    throw new LifeboatError(
      config.missing ? 'CONFIG_MISSING' : 'CONFIG_INVALID',
      `Stack configuration: ${problems.join('; ')}`,
      { details: problems },
    )
  }
  return {
    part,
    ...location,
    retention,
    ...lifecycle,
    objectLock,
    ...(kmsKeyArn ? { kmsKeyArn } : {}),
    github,
    ...(existingOidcProviderArn ? { existingOidcProviderArn } : {}),
    environments,
    alerts,
    ageEncryption,
    ...(replica ? { replica } : {}),
    monitoring,
    signingPublicKeys,
    storage,
  }
}
