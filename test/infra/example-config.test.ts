// Pulumi.example.yaml lists exactly the settings the program reads, every secret as a
// placeholder with its `pulumi config set --secret` command; and the settings parser reports
// every problem at once, naming settings, never secret values.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  BACKSTOP_MARGIN_DAYS,
  checkSecretValue,
  neededSecrets,
  parseSettings,
  retentionReachDays,
  SECRET_PLACEHOLDER,
  SETTINGS,
} from '../../infra/settings.ts'
import { isLifeboatError } from '../../lib/core/errors.ts'
import { GitHubSecret } from '../../lib/core/stack-outputs.ts'
import { buildStack, EXAMPLE_PATH, readExample, toEngineConfig } from './harness.ts'

const raw = readFileSync(EXAMPLE_PATH, 'utf8')
const example = readExample()
const engine = toEngineConfig(example)
const parseWith = (changes: Record<string, string | undefined>) =>
  parseSettings((key) => (key in changes ? changes[key] : engine[key]))
const problemsOf = (changes: Record<string, string | undefined>): string[] => {
  try {
    parseWith(changes)
  } catch (error) {
    if (isLifeboatError(error)) return [...error.details]
    throw error
  }
  return []
}

describe('Pulumi.example.yaml', () => {
  it('holds exactly the settings the program reads, in the same order', () => {
    expect(Object.keys(example)).toEqual(SETTINGS.map((s) => s.key))
  })

  it('holds every secret as a placeholder, right under the command that sets it', () => {
    const lines = raw.split('\n')
    for (const spec of SETTINGS.filter((s) => s.kind === 'secret')) {
      expect(example[spec.key], spec.key).toBe(SECRET_PLACEHOLDER)
      const at = lines.findIndex((l) => l.trim().startsWith(`${spec.key}:`))
      expect(lines[at - 1]!.trim(), spec.key).toMatch(
        new RegExp(`^# pulumi config set --secret ${spec.key}( |$)`),
      )
    }
  })

  it('gives every GitHub secret the program sets a setting', () => {
    const filled = SETTINGS.filter((s) => s.kind === 'secret').map((s) => s.secret)
    expect(filled.sort()).toEqual(Object.keys(GitHubSecret).sort())
  })

  it('holds no placeholder outside the secrets, and parses as a complete configuration', () => {
    for (const spec of SETTINGS.filter((s) => s.kind !== 'secret'))
      expect(example[spec.key], spec.key).not.toBe(SECRET_PLACEHOLDER)
    const settings = parseWith({})
    expect(settings).toMatchObject({
      region: 'eu-central-1',
      bucketName: 'acme-lifeboat-backups',
      prefix: 'production',
      retention: { days: 30, minKeep: 7, daily: 0, weekly: 8, monthly: 6 },
      objectLock: { mode: 'governance', days: 35 },
      github: { owner: 'acme', repository: 'lifeboat', workflowBranch: 'main' },
      ageEncryption: true,
    })
    expect(settings.kmsKeyArn).toBeUndefined()
    expect(settings.existingOidcProviderArn).toBeUndefined()
    // The example enables every channel and sets the optional secrets, so every secret is needed and documented.
    expect(neededSecrets(settings, (key) => engine[key]).map((s) => s.key)).toEqual(
      SETTINGS.filter((s) => s.kind === 'secret').map((s) => s.key),
    )
  })

  it('cannot be deployed as is: the program refuses the placeholders', async () => {
    for (const spec of SETTINGS.filter((s) => s.kind === 'secret')) {
      expect(checkSecretValue(spec, SECRET_PLACEHOLDER), spec.key).toContain(
        `pulumi config set --secret ${spec.key}`,
      )
    }
  })

  it('is what a stack without a needed secret is told to run', async () => {
    const error = await buildStack({
      part: 'secrets',
      remove: ['lifeboat:databaseUrl', 'lifeboat:smtpUrl'],
    }).catch((e: unknown) => e)
    expect(isLifeboatError(error) && error.code).toBe('CONFIG_MISSING')
    expect(String((error as Error).message)).toContain('pulumi config set --secret lifeboat:databaseUrl')
    expect(String((error as Error).message)).toContain('pulumi config set --secret lifeboat:smtpUrl')
  })
})

describe('secrets typed into the stack file', () => {
  it('are refused until `pulumi config set --secret` encrypts them', async () => {
    const error = await buildStack({ part: 'secrets', plaintext: ['lifeboat:slackWebhookUrl'] }).catch(
      (e: unknown) => e,
    )
    expect(isLifeboatError(error) && error.code).toBe('CONFIG_MISSING')
    expect(String((error as Error).message)).toBe(
      "Stack configuration: lifeboat:slackWebhookUrl is not stored as a secret: run `pulumi config set --secret lifeboat:slackWebhookUrl '…'`",
    )
  })
})

describe('settings parser', () => {
  it('reports every problem at once', () => {
    const problems = problemsOf({
      'lifeboat:bucketName': 'Not_A_Bucket',
      'lifeboat:retention': JSON.stringify({ days: -3, weekly: 'many' }),
      'lifeboat:objectLock': JSON.stringify({ mode: 'forever', days: 3 }),
      'lifeboat:alerts': JSON.stringify({ channels: ['pigeon'] }),
    })
    expect(problems.join('\n')).toMatch(/bucketName/)
    expect(problems.join('\n')).toMatch(/retention\.days/)
    expect(problems.join('\n')).toMatch(/retention\.weekly/)
    expect(problems.join('\n')).toMatch(/objectLock\.mode/)
    expect(problems.join('\n')).toMatch(/pigeon/)
    expect(problems.join('\n')).toMatch(/at least one channel/)
  })

  it('names a missing required setting', () => {
    expect(problemsOf({ 'lifeboat:bucketName': undefined, 'aws:region': undefined })).toEqual([
      'aws:region is not set',
      'lifeboat:bucketName is not set',
    ])
  })

  it('refuses a backstop expiry that would undercut the clean job, tiers included', () => {
    // The example keeps monthly backups for 6 months: 186 days is the clean job's reach.
    const floor = 6 * 31 + BACKSTOP_MARGIN_DAYS
    expect(problemsOf({ 'lifeboat:backstopExpirationDays': String(floor - 1) })[0]).toMatch(
      new RegExp(`backstopExpirationDays \\(${floor - 1}\\) must be 0 \\(off\\) or at least ${floor}`),
    )
    expect(problemsOf({ 'lifeboat:backstopExpirationDays': String(floor) })).toEqual([])
    expect(problemsOf({ 'lifeboat:backstopExpirationDays': '0' })).toEqual([])
    const onlyDays = JSON.stringify({ days: 90 })
    expect(
      problemsOf({ 'lifeboat:retention': onlyDays, 'lifeboat:backstopExpirationDays': '100' })[0],
    ).toMatch(/at least 120/)
    expect(retentionReachDays({ days: 30, minKeep: 7, daily: 45, weekly: 4, monthly: 0 })).toBe(45)
  })

  it('wants days for an Object Lock mode and none when off', () => {
    expect(problemsOf({ 'lifeboat:objectLock': JSON.stringify({ mode: 'compliance' }) })[0]).toMatch(
      /objectLock\.days/,
    )
    expect(problemsOf({ 'lifeboat:objectLock': JSON.stringify({ mode: 'off', days: 5 }) })[0]).toMatch(
      /objectLock\.days/,
    )
    expect(parseWith({ 'lifeboat:objectLock': undefined }).objectLock).toEqual({ mode: 'off', days: 0 })
  })

  it('accepts a KMS key ARN but not an alias', () => {
    expect(
      problemsOf({ 'lifeboat:kmsKeyArn': 'arn:aws:kms:eu-central-1:123456789012:alias/backups' })[0],
    ).toMatch(/not an alias/)
  })

  it('refuses a KMS-encrypted primary whose replica names no key (S3 would refuse the replication rule)', () => {
    const kms = { 'lifeboat:kmsKeyArn': 'arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab' }
    expect(problemsOf(kms)).toEqual([
      'lifeboat:replica.kmsKeyArn must name a key in eu-west-1 when lifeboat:kmsKeyArn is set: S3 replicates SSE-KMS backups only into a replica key',
    ])
    const replica = {
      ...(example['lifeboat:replica'] as object),
      kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/5678abcd-34cd',
    }
    expect(problemsOf({ ...kms, 'lifeboat:replica': JSON.stringify(replica) })).toEqual([])
  })

  it('refuses a replica prefix other than the primary’s: replication keeps keys, so the replica’s grants and store would point at nothing', () => {
    const replica = (prefix: string) => JSON.stringify({ ...(example['lifeboat:replica'] as object), prefix })
    expect(problemsOf({ 'lifeboat:replica': replica('dr') })).toEqual([
      "lifeboat:replica.prefix must be left out (or equal lifeboat:prefix): replication keeps the primary's keys, so the replica has the same prefix",
    ])
    expect(problemsOf({ 'lifeboat:replica': replica('production') })).toEqual([])
  })

  it('refuses environments Lifeboat does not use and needs an address for e-mail alerts', () => {
    expect(
      problemsOf({ 'lifeboat:environments': JSON.stringify({ prod: { branches: ['main'] } }) })[0],
    ).toMatch(/environments\.prod/)
    expect(problemsOf({ 'lifeboat:alerts': JSON.stringify({ channels: ['email'] }) })[0]).toMatch(
      /oncallEmail/,
    )
  })

  it('defaults every optional setting', () => {
    const settings = parseWith({
      'lifeboat:prefix': undefined,
      'lifeboat:retention': undefined,
      'lifeboat:noncurrentVersionDays': undefined,
      'lifeboat:backstopExpirationDays': undefined,
      'lifeboat:environments': undefined,
      'lifeboat:ageEncryption': undefined,
    })
    expect(settings).toMatchObject({
      prefix: '',
      retention: { days: 30, minKeep: 7, daily: 0, weekly: 0, monthly: 0 },
      noncurrentVersionDays: 30,
      backstopExpirationDays: 0,
      ageEncryption: false,
    })
    expect(settings.environments.production.branches).toEqual(['main'])
  })
})

describe('secret checks', () => {
  const spec = (key: string) => SETTINGS.find((s) => s.key === key)!

  it('accept good values and name the setting, never the value, when one is wrong', () => {
    expect(checkSecretValue(spec('lifeboat:databaseUrl'), 'postgresql://u:p@h:5432/d')).toBeUndefined()
    const problem = checkSecretValue(spec('lifeboat:databaseUrl'), 'mysql://user:hunter22@h/d')
    expect(problem).toMatch(/lifeboat:databaseUrl must be a postgresql:\/\/ connection URL/)
    expect(problem).not.toContain('hunter22')
    expect(checkSecretValue(spec('lifeboat:slackWebhookUrl'), 'http://hooks.slack.com/x')).toMatch(/https/)
    expect(checkSecretValue(spec('lifeboat:smtpUrl'), 'smtps://u:p@smtp.example.com:465')).toBeUndefined()
    expect(checkSecretValue(spec('lifeboat:ageIdentity'), 'age1abc')).toMatch(/AGE-SECRET-KEY-1/)
    expect(checkSecretValue(spec('lifeboat:ageRecipients'), 'AGE-SECRET-KEY-1XYZ')).toMatch(/public keys/)
  })
})
