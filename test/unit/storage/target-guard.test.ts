// The production guard of a files' restore: which endpoint spellings name the same Storage,
// why a target counts as production, and what a confirmation must name.
import { describe, expect, it } from 'vitest'
import { isLifeboatError } from '../../../lib/core/errors.ts'
import {
  assertStorageTargetAllowed,
  storageEndpointIdentity,
  storageProductionReasons,
} from '../../../lib/storage/target-guard.ts'

const PROJECT = 'https://abcdefghijklmnop.supabase.co/storage/v1/s3'

describe('storageEndpointIdentity', () => {
  it.each([
    'https://abcdefghijklmnop.supabase.co/storage/v1/s3/',
    'HTTPS://ABCDEFGHIJKLMNOP.SUPABASE.CO/storage/v1/s3',
    'https://abcdefghijklmnop.supabase.co:443/storage/v1/s3',
    'https://abcdefghijklmnop.storage.supabase.co/storage/v1/s3',
  ])('takes %s for the same project', (spelling) => {
    expect(storageEndpointIdentity(spelling)).toEqual(storageEndpointIdentity(PROJECT))
    expect(storageEndpointIdentity(spelling).name).toBe('abcdefghijklmnop')
  })

  it('drops only the default port of the scheme', () => {
    expect(storageEndpointIdentity('http://minio.internal:80/').key).toBe('http://minio.internal')
    expect(storageEndpointIdentity('https://minio.internal:443').key).toBe('https://minio.internal')
    expect(storageEndpointIdentity('http://minio.internal:443').key).toBe('http://minio.internal:443')
    expect(storageEndpointIdentity('http://127.0.0.1:9000//').name).toBe('127.0.0.1:9000')
  })

  it('tells different projects and paths apart', () => {
    expect(storageEndpointIdentity('https://otherprojectref.supabase.co/storage/v1/s3').key).not.toBe(
      storageEndpointIdentity(PROJECT).key,
    )
    expect(storageEndpointIdentity('http://minio:9000/a').key).not.toBe(
      storageEndpointIdentity('http://minio:9000/b').key,
    )
  })
})

describe('storageProductionReasons', () => {
  it('names the backup source and every production setting the target matches', () => {
    expect(
      storageProductionReasons({
        target: `${PROJECT}/`,
        backupSource: 'https://ABCDEFGHIJKLMNOP.supabase.co/storage/v1/s3',
        environment: [{ setting: 'SUPABASE_STORAGE_S3_URL', url: PROJECT }],
      }),
    ).toEqual([
      "it is the Storage this backup's files were taken from",
      'it is the Storage SUPABASE_STORAGE_S3_URL names',
    ])
  })

  it('finds none for another project', () => {
    expect(
      storageProductionReasons({
        target: 'https://stagingprojectref.supabase.co/storage/v1/s3',
        backupSource: PROJECT,
        environment: [{ setting: 'SUPABASE_STORAGE_S3_URL', url: PROJECT }],
      }),
    ).toEqual([])
  })
})

function refusal(input: Parameters<typeof assertStorageTargetAllowed>[0]): string | undefined {
  try {
    assertStorageTargetAllowed(input)
    return undefined
  } catch (error) {
    if (!isLifeboatError(error)) throw error
    return `${error.code}: ${error.message}`
  }
}

describe('assertStorageTargetAllowed', () => {
  const production = {
    reasons: ['it is the Storage SUPABASE_STORAGE_S3_URL names'],
    target: PROJECT,
    buckets: ['avatars'],
  }

  it('refuses production without a confirmation, saying how to confirm', () => {
    expect(refusal({ ...production, confirm: undefined })).toBe(
      `TARGET_PROTECTED: refusing to restore files into ${PROJECT} (buckets avatars): it is the Storage SUPABASE_STORAGE_S3_URL names; to write there anyway pass --confirm-storage abcdefghijklmnop`,
    )
  })

  it('lets production through when the confirmation names it, in any case', () => {
    expect(refusal({ ...production, confirm: 'ABCDEFGHIJKLMNOP' })).toBeUndefined()
  })

  it('refuses a confirmation that names another Storage, production or not', () => {
    expect(refusal({ ...production, confirm: 'otherref' })).toMatch(
      /^TARGET_PROTECTED: --confirm-storage "otherref" does not match the target Storage "abcdefghijklmnop"/,
    )
    expect(refusal({ ...production, reasons: [], confirm: 'otherref' })).toMatch(/does not match/)
  })

  it('gives a drill no way to confirm', () => {
    expect(refusal({ ...production, confirm: undefined, drill: true })).toMatch(
      /a drill never writes files into production: point STAGING_SUPABASE_STORAGE_S3_URL at a scratch project/,
    )
  })

  it('lets any other target through', () => {
    expect(refusal({ ...production, reasons: [], confirm: undefined })).toBeUndefined()
  })
})
