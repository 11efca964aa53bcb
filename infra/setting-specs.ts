// The stack's settings as data: every key a stack reads, its kind, when it is needed and
// which GitHub secret a secret fills; and the checks of a secret's value, which name the
// setting and never the value. Pulumi.example.yaml lists exactly these keys.
import type { GitHubSecretKey } from '../lib/core/stack-outputs.ts'
import { parseSigningKey } from '../lib/trust/signature.ts'
import type { RawConfig } from './config-reader.ts'
import type { LifeboatSettings } from './settings.ts'
import { STORAGE_KEYS } from './settings-storage.ts'

/** The value Pulumi.example.yaml holds for every secret; the program refuses to deploy it. */
export const SECRET_PLACEHOLDER = '<secret>'

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
  /** A plain setting without which this secret means nothing: set alone, it is refused. */
  requires?: string
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
  { key: 'lifeboat:signingPublicKeys', kind: 'string', required: true },
  { key: STORAGE_KEYS.source.url, kind: 'string', required: false },
  { key: STORAGE_KEYS.source.region, kind: 'string', required: false },
  { key: STORAGE_KEYS.staging.url, kind: 'string', required: false },
  { key: STORAGE_KEYS.staging.region, kind: 'string', required: false },
  { key: 'lifeboat:databaseUrl', kind: 'secret', required: true, secret: 'databaseUrl' },
  { key: 'lifeboat:signingKey', kind: 'secret', required: true, secret: 'signingKey' },
  {
    key: 'lifeboat:drTestDatabaseUrl',
    kind: 'secret',
    required: false,
    neededWhen: 'set: the DR test restores into this empty database instead of the runner',
    secret: 'drTestDatabaseUrl',
  },
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
  ...storageSecretSpecs('storageS3', STORAGE_KEYS.source.url),
  ...storageSecretSpecs('stagingStorageS3', STORAGE_KEYS.staging.url),
]

/** The access key pair of one Storage endpoint: needed when its URL is set, refused without it. */
function storageSecretSpecs(name: 'storageS3' | 'stagingStorageS3', url: string): SettingSpec[] {
  return (['AccessKeyId', 'SecretAccessKey'] as const).map((part) => ({
    key: `lifeboat:${name}${part}`,
    kind: 'secret',
    required: false,
    neededWhen: `${url} is set`,
    secret: `${name}${part}`,
    requires: url,
  }))
}

/**
 * Keys a stack may still hold from an older Lifeboat: accepted, so `pulumi up` goes on, and
 * ignored, with the warning `deprecatedSettings` gives.
 */
export const DEPRECATED_SETTINGS: readonly { key: string; instead: string }[] = [
  {
    // It was a server the DR test created its database on. Users of Supabase pointed it at a
    // staging project, where a database the test creates is no project and `postgres` is no
    // superuser: every DR test failed on schema.sql's owners. The dr-test workflow now brings
    // its own PostgreSQL, as the drill does; the value is not taken over as DR_TEST_DATABASE_URL
    // because that one is restored into as it is, and a staging project's database is not empty.
    key: 'lifeboat:stagingDatabaseUrl',
    instead:
      'the DR test now restores into a PostgreSQL container on the runner; to restore into a new Supabase project instead, set lifeboat:drTestDatabaseUrl to its (empty) database',
  },
]

/** A warning per deprecated key this stack still sets, saying what to do instead. */
export function deprecatedSettings(raw: RawConfig): string[] {
  return DEPRECATED_SETTINGS.filter(({ key }) => ![undefined, ''].includes(raw(key))).map(
    ({ key, instead }) =>
      `${key} is no longer used and is ignored (the GitHub secret it set is removed): ${instead}. \`pulumi config rm ${key}\` to silence this warning (docs/infrastructure.md "Settings")`,
  )
}

/**
 * The secret settings this stack needs, given its other settings; with `raw`, also the
 * optional ones it sets (the secrets stack publishes those; the infrastructure stack's list
 * of what the secrets stack must set leaves them out).
 */
export function neededSecrets(settings: LifeboatSettings, raw?: RawConfig): SettingSpec[] {
  return SETTINGS.filter((spec) => {
    if (spec.kind !== 'secret') return false
    if (spec.required) return true
    switch (spec.secret) {
      case 'drTestDatabaseUrl':
        return raw !== undefined && ![undefined, ''].includes(raw(spec.key))
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
      case 'storageS3AccessKeyId':
      case 'storageS3SecretAccessKey':
        return settings.storage.source !== undefined
      case 'stagingStorageS3AccessKeyId':
      case 'stagingStorageS3SecretAccessKey':
        return settings.storage.staging !== undefined
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
    case 'drTestDatabaseUrl':
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
    case 'signingKey':
      return isSigningKey(value)
        ? undefined
        : `${spec.key} must be a minisign secret key file without a password (\`minisign -G -W\`)`
    case 'ageIdentity':
      return /AGE-SECRET-KEY-1[0-9A-Z]+/.test(value)
        ? undefined
        : `${spec.key} must hold an AGE-SECRET-KEY-1… key`
    case 'storageS3AccessKeyId':
    case 'storageS3SecretAccessKey':
    case 'stagingStorageS3AccessKeyId':
    case 'stagingStorageS3SecretAccessKey':
      return /^[A-Za-z0-9+/=_-]{16,256}$/.test(value.trim())
        ? undefined
        : `${spec.key} must be the key as Supabase shows it under Storage → S3 access keys (letters and digits, no spaces)`
    default:
      return undefined
  }
}

/**
 * Secrets set without the plain setting that gives them a use (an access key without its
 * Storage URL): most likely the URL was forgotten, and the files would silently stay out.
 */
export function straySecrets(settings: LifeboatSettings, raw: RawConfig): string[] {
  const needed = new Set(neededSecrets(settings).map((spec) => spec.key))
  return SETTINGS.filter(
    (spec) =>
      spec.requires !== undefined &&
      !needed.has(spec.key) &&
      ![undefined, '', SECRET_PLACEHOLDER].includes(raw(spec.key)),
  ).map(
    (spec) =>
      `${spec.key} is set but ${spec.requires} is not: set ${spec.requires} too, or \`pulumi config rm ${spec.key}\``,
  )
}

function isSigningKey(value: string): boolean {
  try {
    parseSigningKey(value)
    return true
  } catch {
    return false
  }
}
