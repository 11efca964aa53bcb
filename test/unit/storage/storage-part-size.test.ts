// The part size of an upload into a Storage project's S3 endpoint
// (lib/storage/s3-client.ts `storagePartSize`): 8 MiB, and large enough that an object of
// any size Storage accepts fits in S3's 10,000 parts.
import { describe, expect, test } from 'vitest'
import { storagePartSize } from '../../../lib/storage/s3-client.ts'

const MiB = 1024 * 1024
const GiB = 1024 * MiB

describe('storagePartSize', () => {
  test('is 8 MiB for an object up to 78 GiB', () => {
    for (const size of [0, 1, 8 * MiB, 10 * GiB, 78 * GiB]) expect(storagePartSize(size)).toBe(8 * MiB)
  })

  test('grows in whole MiB so a larger object fits in 10,000 parts', () => {
    for (const size of [79 * GiB, 100 * GiB, 500 * 1000 ** 3 + 1]) {
      const part = storagePartSize(size)
      expect(part % MiB).toBe(0)
      expect(part * 10_000).toBeGreaterThanOrEqual(size)
      expect((part - MiB) * 10_000).toBeLessThan(size)
    }
  })
})
