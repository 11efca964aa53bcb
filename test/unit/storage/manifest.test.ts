// The storage manifest's validation and manifest.json's `storage` reference.
import { describe, expect, it } from 'vitest'
import { LifeboatError } from '../../../lib/core/errors.ts'
import {
  checkIndexEntry,
  checkManifestHeader,
  checkObjectEntry,
  fingerprintOf,
  sampleOf,
  storageReferenceOf,
} from '../../../lib/storage/manifest.ts'

const SHA = 'a'.repeat(64)
const reference = {
  format: 1,
  manifest: { key: 'storage-manifests/backup-2026-11-25T020000Z.storage.ndjson', sha256: SHA, bytes: 10 },
  index: { key: 'storage-manifests/backup-2026-11-25T020000Z.index.ndjson', sha256: SHA, bytes: 10 },
  encrypted: false,
  keyset: null,
  buckets: 1,
  objects: 2,
  bytes: 3,
  blobs: 2,
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run()
  } catch (error) {
    return (error as LifeboatError).code
  }
  return undefined
}

describe('storageReferenceOf', () => {
  it('is undefined for a backup without Storage files (format v1 as before)', () => {
    expect(storageReferenceOf({ id: 'x' }, 'x')).toBeUndefined()
  })

  it('returns a well-formed reference', () => {
    expect(storageReferenceOf({ storage: reference }, 'x')).toEqual(reference)
  })

  it('refuses a newer storage format and a malformed reference with distinct codes', () => {
    expect(codeOf(() => storageReferenceOf({ storage: { ...reference, format: 2 } }, 'x'))).toBe(
      'ARCHIVE_FORMAT',
    )
    expect(codeOf(() => storageReferenceOf({ storage: { ...reference, index: { key: 'k' } } }, 'x'))).toBe(
      'ARCHIVE_CORRUPT',
    )
  })
})

describe('entries', () => {
  const object = {
    bucket: 'avatars',
    name: 'users/1/a.png',
    size: 5,
    sha256: SHA,
    etag: '"x"',
    contentType: 'image/png',
    cacheControl: null,
    userMetadata: { nested: { ok: true } },
    ownerId: null,
  }

  it('accepts an object entry and names the line of a bad one', () => {
    expect(checkObjectEntry(object, 'm', 2)).toEqual(object)
    expect(() => checkObjectEntry({ ...object, size: -1 }, 'm', 7)).toThrow(/line 7/)
    expect(() => checkObjectEntry({ ...object, sha256: 'zz' }, 'm', 2)).toThrow(LifeboatError)
    expect(() => checkObjectEntry({ ...object, userMetadata: [] }, 'm', 2)).toThrow(LifeboatError)
  })

  it('accepts index entries with or without a fingerprint', () => {
    const entry = { fingerprint: null, sha256: SHA, size: 1, storedBytes: 1, readAt: '2026-01-01T00:00:00Z' }
    expect(checkIndexEntry(entry, 'i', 2)).toEqual(entry)
    expect(() => checkIndexEntry({ ...entry, readAt: 'yesterday' }, 'i', 2)).toThrow(/line 2/)
  })

  it('refuses a header of the wrong kind', () => {
    expect(codeOf(() => checkManifestHeader({ format: 1, kind: 'lifeboat-storage-index' }, 'm'))).toBe(
      'ARCHIVE_CORRUPT',
    )
  })
})

describe('fingerprintOf', () => {
  it('changes with any of bucket, name, size and ETag, and needs an ETag', () => {
    const base = fingerprintOf('b', 'n', 1, '"e"')
    expect(base).toMatch(/^[0-9a-f]{64}$/)
    expect(fingerprintOf('b', 'n', 1, null)).toBeNull()
    for (const other of [
      fingerprintOf('b2', 'n', 1, '"e"'),
      fingerprintOf('b', 'n2', 1, '"e"'),
      fingerprintOf('b', 'n', 2, '"e"'),
      fingerprintOf('b', 'n', 1, '"f"'),
      // No separator games: ("b/n", "x") is not ("b", "n/x").
      fingerprintOf('b/n', 'x', 1, '"e"'),
    ]) {
      expect(other).not.toBe(base)
    }
    expect(fingerprintOf('b', 'n/x', 1, '"e"')).not.toBe(fingerprintOf('b/n', 'x', 1, '"e"'))
  })
})

describe('sampleOf', () => {
  it('keeps the count and at most a thousand names', () => {
    const names = Array.from({ length: 1500 }, (_, i) => `b/${i}`)
    const sample = sampleOf(names)
    expect(sample.count).toBe(1500)
    expect(sample.names).toHaveLength(1000)
  })
})
