// The settings reader: values from flags, then variables, then the table's default;
// bounds and choices from the table; every problem named by where the value came from.
import { describe, expect, it } from 'vitest'
import { readStoreConfig, SettingsReader } from '../../lib/core/config.ts'
import type { LifeboatError } from '../../lib/core/errors.ts'
import { SETTINGS as S } from '../../lib/settings/settings.ts'

function problems(reader: SettingsReader): string[] {
  try {
    reader.finish()
    return []
  } catch (error) {
    return [...(error as LifeboatError).details]
  }
}

describe('SettingsReader with a definition', () => {
  it('takes the flag over the variable over the default', () => {
    expect(new SettingsReader({ BACKUP_JOBS: '3' }, { jobs: '4' }).integer(S.jobs)).toBe(4)
    expect(new SettingsReader({ BACKUP_JOBS: '3' }).integer(S.jobs)).toBe(3)
    expect(new SettingsReader({}).integer(S.jobs)).toBe(1)
    expect(new SettingsReader({}).optional(S.rtoTarget)).toBe('4h')
  })

  it('names the flag, the variable or the argument the bad value came from', () => {
    const fromFlag = new SettingsReader({}, { jobs: 'two' })
    fromFlag.integer(S.jobs)
    expect(problems(fromFlag)).toEqual(['--jobs must be a whole number ≥ 1, got "two"'])
    const fromArgument = new SettingsReader({}, { days: '0' })
    fromArgument.integer(S.retentionDays)
    expect(problems(fromArgument)).toEqual(['[days] must be a whole number ≥ 1, got "0"'])
  })

  it('takes no exponent or fraction for a whole number (1e1 is not 10 days)', () => {
    const reader = new SettingsReader({ RETENTION_DAYS: '1e1' })
    reader.integer(S.retentionDays)
    expect(problems(reader)).toEqual(['RETENTION_DAYS must be a whole number ≥ 1, got "1e1"'])
  })

  it('holds a value to its bounds', () => {
    const reader = new SettingsReader({ BACKUP_GZIP_LEVEL: '10' })
    expect(reader.integer(S.compress)).toBe(6)
    expect(problems(reader)).toEqual(['BACKUP_GZIP_LEVEL must be a whole number from 0 to 9, got "10"'])
  })

  it('accepts a choice in any case and refuses others', () => {
    expect(
      new SettingsReader({ AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required' }).optional(
        S.awsRequestChecksum,
      ),
    ).toBe('WHEN_REQUIRED')
    const reader = new SettingsReader({}, { source: 'mysql' })
    reader.optional(S.source)
    expect(problems(reader)).toEqual(['--source must be postgres or rest, got "mysql"'])
  })

  it('reads switches from variables as true/false and refuses anything else', () => {
    expect(new SettingsReader({ BACKUP_AUTH_USERS: 'yes' }).boolean(S.authUsers)).toBe(true)
    expect(new SettingsReader({ BACKUP_AUTH_USERS: 'off' }).boolean(S.authUsers)).toBe(false)
    const reader = new SettingsReader({ BACKUP_AUTH_USERS: 'sure' })
    reader.boolean(S.authUsers)
    expect(problems(reader)).toEqual(['BACKUP_AUTH_USERS must be true or false, got "sure"'])
  })

  it('defaults a negatable switch to on (--no-verify turns it off)', () => {
    expect(new SettingsReader({}).boolean(S.verify)).toBe(true)
    expect(new SettingsReader({}, { verify: false }).boolean(S.verify)).toBe(false)
  })

  it('hands secrets out as Secret', () => {
    const secret = new SettingsReader({ SLACK_WEBHOOK_URL: 'https://hooks.example/abc' }).secret(
      S.slackWebhookUrl,
    )
    expect(String(secret)).toBe('**redacted**')
    expect(secret?.reveal()).toBe('https://hooks.example/abc')
  })

  it('names both spellings of a missing setting', () => {
    const reader = new SettingsReader({})
    reader.required(S.target)
    expect(problems(reader)).toEqual(['TARGET_DATABASE_URL or --target is not set'])
  })
})

describe('readStoreConfig', () => {
  it('reads an S3 store with its AWS settings from the table', () => {
    const config = readStoreConfig(
      new SettingsReader({
        BACKUP_STORE: 's3://bucket/some/prefix/',
        AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000',
      }),
    )
    expect(config?.s3).toMatchObject({
      bucket: 'bucket',
      prefix: 'some/prefix',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_SUPPORTED',
    })
  })

  it('names --store when the flag held the bad value', () => {
    const reader = new SettingsReader({}, { store: 'ftp://x' })
    readStoreConfig(reader)
    expect(problems(reader)).toEqual([
      '--store must be s3://bucket/prefix, file://path or a path starting with / or ., got "ftp://x"',
    ])
  })
})
