// Storage settings: enabled by the endpoint URL, every problem reported at once, secrets kept secret.
import { describe, expect, it } from 'vitest'
import { SettingsReader } from '../../../lib/core/config.ts'
import type { LifeboatError } from '../../../lib/core/errors.ts'
import { isStorageDisabled, readStorageSettings } from '../../../lib/storage/settings.ts'

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
  const choice = readStorageSettings(reader, role, flags)
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
    expect(problems({ ...source, STORAGE_JOBS: '0' })[0]).toMatch(/STORAGE_JOBS.*≥ 1/)
    expect(problems(source, { 'storage-jobs': 65 })[0]).toMatch(/at most 64/)
    expect(problems({ ...source, STORAGE_LOCK_TTL_MINUTES: '0.5' })[0]).toMatch(/at least 1/)
  })

  it('is disabled by --no-storage however minimist spells it', () => {
    expect(isStorageDisabled({ storage: false })).toBe(true)
    expect(isStorageDisabled({ 'no-storage': true })).toBe(true)
    expect(isStorageDisabled({})).toBe(false)
    expect(read(source, { storage: false })).toEqual({ enabled: false, reason: 'disabled' })
  })
})
