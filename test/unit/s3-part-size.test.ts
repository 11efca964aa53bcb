// The part size of an upload to S3 (lib/adapters/store/s3-upload.ts `partSizeFor`):
// as small as S3 allows, so a backup's memory stays low, and never so small that the
// archive could need more than S3's 10,000 parts.
import { describe, expect, it } from 'vitest'
import { partSizeFor } from '../../lib/adapters/store/s3-upload.ts'

const MiB = 1024 * 1024
const GiB = 1024 * MiB

describe('partSizeFor', () => {
  it('uses S3’s least part size, 5 MiB, for an archive of tables up to 16 GiB', () => {
    expect(partSizeFor({ expectedBytes: 0 })).toBe(5 * MiB)
    expect(partSizeFor({ expectedBytes: 400 * MiB })).toBe(5 * MiB)
    expect(partSizeFor({ expectedBytes: 16 * GiB })).toBe(5 * MiB)
  })

  it('grows the parts, in whole MiB, so three times the expected size fits in 10,000 of them', () => {
    for (const expected of [17 * GiB, 100 * GiB, 1024 * GiB, 3 * 1024 * GiB + 7]) {
      const part = partSizeFor({ expectedBytes: expected })
      expect(part % MiB).toBe(0)
      expect(part * 10_000).toBeGreaterThanOrEqual(3 * expected)
      expect((part - MiB) * 10_000).toBeLessThan(3 * expected)
    }
  })

  it('sizes parts for the largest objects when nothing says how large this one is', () => {
    expect(partSizeFor({})).toBe(16 * MiB)
  })
})
