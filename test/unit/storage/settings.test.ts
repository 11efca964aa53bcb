// Storage settings: enabled by the endpoint URL, every problem reported at once, secrets kept secret.
import { describe, expect, it } from 'vitest'
import { SettingsReader } from '../../../lib/core/config.ts'
import { readDrillConfig, readDrTestConfig } from '../../../lib/core/drill-config.ts'
import type { LifeboatError } from '../../../lib/core/errors.ts'
import { readRestoreConfig } from '../../../lib/core/restore-config.ts'
import { readStorageSettings } from '../../../lib/storage/settings.ts'

const source = {
  SUPABASE_STORAGE_S3_URL: 'https://abcd.supabase.co/storage/v1/s3/',
  SUPABASE_STORAGE_S3_ACCESS_KEY_ID: 'key-id',
  SUPABASE_STORAGE_S3_SECRET_ACCESS_KEY: 'very-secret-value',
  SUPABASE_STORAGE_S3_REGION: 'eu-central-1',
}

function read(
  env: Record<string, string>,
  flags: Record<string, unknown> = {},
  role: 'source' | 'target' = 'source',
) {
  const reader = new SettingsReader(env, flags)
  const choice = readStorageSettings(reader, role)
  reader.finish()
  return choice
}

function problems(env: Record<string, string>, flags: Record<string, unknown> = {}): string[] {
  try {
    read(env, flags)
  } catch (error) {
    return [...(error as LifeboatError).details]
  }
  return []
}

describe('readStorageSettings', () => {
  it('is off, without complaint, when no Storage setting is present', () => {
    expect(read({})).toEqual({ enabled: false, reason: 'not-configured' })
  })

  it('reads the endpoint, keeping the secret a Secret and trimming the trailing slash', () => {
    const choice = read(source)
    if (!choice.enabled) throw new Error('expected enabled')
    expect(choice.settings.endpoint.url).toBe('https://abcd.supabase.co/storage/v1/s3')
    expect(choice.settings.endpoint.region).toBe('eu-central-1')
    expect(choice.settings.endpoint.secretAccessKey.reveal()).toBe('very-secret-value')
    expect(JSON.stringify(choice)).not.toContain('very-secret-value')
    expect(choice.settings.jobs).toBe(4)
    expect(choice.settings.selection).toEqual({ buckets: [], excludeBuckets: [] })
  })

  it('reads the TARGET_ variables for a restore, and only those', () => {
    const target = Object.fromEntries(Object.entries(source).map(([k, v]) => [`TARGET_${k}`, v]))
    expect(read(source, {}, 'target')).toEqual({ enabled: false, reason: 'not-configured' })
    const choice = read(target, {}, 'target')
    expect(choice.enabled && choice.settings.endpoint.setting).toBe('TARGET_SUPABASE_STORAGE_S3')
  })

  it('reports every missing setting at once, naming the URL when only keys are set', () => {
    expect(problems({ SUPABASE_STORAGE_S3_ACCESS_KEY_ID: 'x' })).toEqual([
      'SUPABASE_STORAGE_S3_URL (the other SUPABASE_STORAGE_S3_* settings are set) is not set',
    ])
    expect(problems({ SUPABASE_STORAGE_S3_URL: 'https://a.supabase.co/storage/v1/s3' })).toEqual([
      'SUPABASE_STORAGE_S3_ACCESS_KEY_ID or --storage-s3-access-key-id is not set',
      'SUPABASE_STORAGE_S3_SECRET_ACCESS_KEY is not set',
      'SUPABASE_STORAGE_S3_REGION or --storage-s3-region is not set',
    ])
  })

  it('refuses a URL that is not http(s) or that carries credentials', () => {
    expect(problems({ ...source, SUPABASE_STORAGE_S3_URL: 'abcd.supabase.co' })[0]).toMatch(
      /must be an http\(s\) URL/,
    )
    expect(problems({ ...source, SUPABASE_STORAGE_S3_URL: 'https://u:p@abcd.supabase.co/s3' })[0]).toMatch(
      /must not hold credentials/,
    )
  })

  it('takes bucket patterns from flags (repeatable) or comma-separated env', () => {
    const fromFlags = read(source, {
      'storage-bucket': ['avatars', 'docs-*'],
      'exclude-storage-bucket': 'tmp',
    })
    expect(fromFlags.enabled && fromFlags.settings.selection).toEqual({
      buckets: ['avatars', 'docs-*'],
      excludeBuckets: ['tmp'],
    })
    const fromEnv = read({ ...source, STORAGE_BUCKETS: 'a, b', STORAGE_EXCLUDE_BUCKETS: 'c' })
    expect(fromEnv.enabled && fromEnv.settings.selection).toEqual({
      buckets: ['a', 'b'],
      excludeBuckets: ['c'],
    })
  })

  it('bounds --storage-jobs and the lock TTL', () => {
    expect(problems({ ...source, STORAGE_JOBS: '0' })[0]).toMatch(/STORAGE_JOBS .*from 1 to 64/)
    expect(problems(source, { 'storage-jobs': 65 })[0]).toMatch(/--storage-jobs .*from 1 to 64/)
    expect(problems({ ...source, STORAGE_LOCK_TTL_MINUTES: '0.5' })[0]).toMatch(
      /STORAGE_LOCK_TTL_MINUTES .*≥ 1/,
    )
  })

  it('is disabled by --no-storage (the parser gives storage: false)', () => {
    expect(read(source, { storage: false })).toEqual({ enabled: false, reason: 'disabled' })
    expect(read(source, { storage: true }).enabled).toBe(true)
  })
})

describe('the drill and the restore', () => {
  const staging = {
    STAGING_SUPABASE_STORAGE_S3_URL: 'https://stagingref.supabase.co/storage/v1/s3',
    STAGING_SUPABASE_STORAGE_S3_ACCESS_KEY_ID: 'staging-id',
    STAGING_SUPABASE_STORAGE_S3_SECRET_ACCESS_KEY: 'staging-secret',
    STAGING_SUPABASE_STORAGE_S3_REGION: 'eu-west-1',
  }

  it('read the drill Storage from STAGING_*, production from SUPABASE_STORAGE_S3_URL, never the TARGET_ settings', () => {
    const config = readDrillConfig(
      {
        BACKUP_STORE: 'file:///tmp/x',
        ...source,
        ...staging,
        TARGET_SUPABASE_STORAGE_S3_URL: 'https://other.supabase.co/storage/v1/s3',
      },
      {},
    )
    expect(config.storage).toMatchObject({
      enabled: true,
      settings: {
        endpoint: { url: staging.STAGING_SUPABASE_STORAGE_S3_URL, setting: 'STAGING_SUPABASE_STORAGE_S3' },
      },
    })
    expect(config.productionStorage).toEqual([
      { setting: 'SUPABASE_STORAGE_S3_URL', url: source.SUPABASE_STORAGE_S3_URL },
    ])
    expect(readDrillConfig({ BACKUP_STORE: 'file:///tmp/x' }, {}).storage).toEqual({
      enabled: false,
      reason: 'not-configured',
    })
    expect(
      readDrillConfig({ BACKUP_STORE: 'file:///tmp/x', ...staging }, { storage: false }).storage,
    ).toEqual({ enabled: false, reason: 'disabled' })
  })

  it('name a missing staging secret at once', () => {
    const { STAGING_SUPABASE_STORAGE_S3_SECRET_ACCESS_KEY: _, ...partial } = staging
    expect(() => readDrTestConfig({ BACKUP_STORE: 'file:///tmp/x', ...partial }, {})).toThrow(
      /STAGING_SUPABASE_STORAGE_S3_SECRET_ACCESS_KEY/,
    )
  })

  it('give a restore the production Storage and --confirm-storage', () => {
    const config = readRestoreConfig(
      { TARGET_DATABASE_URL: 'postgresql://u@h/db', ...source },
      { 'confirm-storage': 'abcd' },
      ['latest'],
    )
    expect(config.productionStorage).toEqual([
      { setting: 'SUPABASE_STORAGE_S3_URL', url: source.SUPABASE_STORAGE_S3_URL },
    ])
    expect(config.confirmStorage).toBe('abcd')
  })
})
