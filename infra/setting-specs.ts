// The stack's settings as data: every key a stack reads, its kind, when it is needed and
// which GitHub secret a secret fills; and the checks of a secret's value, which name the
// setting and never the value. Pulumi.example.yaml lists exactly these keys.
import type { GitHubSecretKey } from '../lib/core/stack-outputs.ts'
import { parseSigningKey } from '../lib/trust/signature.ts'
import type { LifeboatSettings } from './settings.ts'

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
  { key: 'lifeboat:databaseUrl', kind: 'secret', required: true, secret: 'databaseUrl' },
  { key: 'lifeboat:stagingDatabaseUrl', kind: 'secret', required: true, secret: 'stagingDatabaseUrl' },
  { key: 'lifeboat:signingKey', kind: 'secret', required: true, secret: 'signingKey' },
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
    case 'signingKey':
      return isSigningKey(value)
        ? undefined
        : `${spec.key} must be a minisign secret key file without a password (\`minisign -G -W\`)`
    case 'ageIdentity':
      return /AGE-SECRET-KEY-1[0-9A-Z]+/.test(value)
        ? undefined
        : `${spec.key} must hold an AGE-SECRET-KEY-1… key`
    default:
      return undefined
  }
}

function isSigningKey(value: string): boolean {
  try {
    parseSigningKey(value)
    return true
  } catch {
    return false
  }
}
