// Key layout of Storage backups: blobs by content, manifests by backup, locks by holder.
import { describe, expect, it } from 'vitest'
import { isBucketSelected, unmatchedPatterns } from '../../../lib/storage/bucket-selection.ts'
import {
  backupIdOfManifestKey,
  blobKey,
  keysetOf,
  lockKey,
  parseBlobKey,
  parseLockKey,
  storageIndexKey,
  storageManifestKey,
} from '../../../lib/storage/layout.ts'

const SHA = 'ab'.padEnd(64, '0')

describe('blob keys', () => {
  it('fans out by the first two hex digits and round-trips', () => {
    expect(blobKey(SHA, null)).toBe(`storage-objects/sha256/ab/${SHA}`)
    expect(parseBlobKey(blobKey(SHA, null))).toEqual({ sha256: SHA, keyset: null })
    const keyset = keysetOf(['age1zzz'])
    expect(parseBlobKey(blobKey(SHA, keyset))).toEqual({ sha256: SHA, keyset })
    expect(blobKey(SHA, keyset)).toMatch(/\.[0-9a-f]{12}\.age$/)
  })

  it('refuses keys that are not ours, or whose fan-out folder does not match', () => {
    expect(parseBlobKey(`storage-objects/sha256/cd/${SHA}`)).toBeUndefined()
    expect(parseBlobKey('storage-objects/sha256/ab/short')).toBeUndefined()
    expect(() => blobKey('nope', null)).toThrow()
  })

  it('names a recipient set independently of order, case and repetition', () => {
    expect(keysetOf(['age1b', 'age1a'])).toBe(keysetOf(['AGE1A', 'age1b', 'age1a']))
    expect(keysetOf(['age1a'])).not.toBe(keysetOf(['age1a', 'age1b']))
  })
})

describe('manifest and lock keys', () => {
  it('ties manifests and indexes to their backup id', () => {
    const id = 'backup-2026-11-25T020000Z'
    for (const key of [storageManifestKey(id, true), storageManifestKey(id, false), storageIndexKey(id)]) {
      expect(backupIdOfManifestKey(key)).toBe(id)
    }
    expect(backupIdOfManifestKey('storage-manifests/notes.txt')).toBeUndefined()
  })

  it('round-trips lock keys and refuses odd owners', () => {
    const key = lockKey('clean-20261125T020000Z-0a1b2c3d', 'exclusive', 12)
    expect(key).toBe('storage-locks/clean-20261125T020000Z-0a1b2c3d.exclusive.000012.json')
    expect(parseLockKey(key)).toEqual({
      owner: 'clean-20261125T020000Z-0a1b2c3d',
      kind: 'exclusive',
      seq: 12,
    })
    expect(parseLockKey('storage-locks/x.other.000001.json')).toBeUndefined()
    expect(() => lockKey('../escape', 'shared', 0)).toThrow()
  })
})

describe('bucket selection', () => {
  it('selects every bucket by default, exactly the named ones otherwise, exclusion winning', () => {
    expect(isBucketSelected({ buckets: [], excludeBuckets: [] }, 'avatars')).toBe(true)
    expect(isBucketSelected({ buckets: ['doc*'], excludeBuckets: [] }, 'avatars')).toBe(false)
    expect(isBucketSelected({ buckets: ['doc*'], excludeBuckets: [] }, 'documents')).toBe(true)
    expect(isBucketSelected({ buckets: ['doc*'], excludeBuckets: ['documents'] }, 'documents')).toBe(false)
    expect(isBucketSelected({ buckets: ['a.b'], excludeBuckets: [] }, 'axb')).toBe(false)
  })

  it('names patterns that match no bucket', () => {
    expect(unmatchedPatterns({ buckets: ['avatars', 'typo*'], excludeBuckets: [] }, ['avatars'])).toEqual([
      'typo*',
    ])
  })
})
