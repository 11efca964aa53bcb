import { describe, expect, it } from 'vitest'
import { partCountFor, SPLIT_MIN_BYTES, splitKeyOf, splitKeyRange } from '../../lib/backup/export-plan.ts'

const big = (overrides: Partial<Parameters<typeof partCountFor>[0]> = {}) => ({
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: 'bigint' },
    { name: 'note', type: 'text' },
  ],
  estimatedBytes: 10 * SPLIT_MIN_BYTES,
  ...overrides,
})

describe('splitKeyOf', () => {
  it('accepts a single-column integer primary key', () => {
    expect(splitKeyOf(big())).toBe('id')
    expect(splitKeyOf(big({ columns: [{ name: 'id', type: 'integer' }] }))).toBe('id')
  })

  it('refuses composite, non-integer and missing keys', () => {
    expect(splitKeyOf(big({ primaryKey: ['id', 'note'] }))).toBeUndefined()
    expect(splitKeyOf(big({ columns: [{ name: 'id', type: 'uuid' }] }))).toBeUndefined()
    expect(splitKeyOf(big({ primaryKey: [] }))).toBeUndefined()
  })
})

describe('partCountFor', () => {
  it('keeps small tables and single-connection runs in one piece', () => {
    expect(partCountFor(big({ estimatedBytes: SPLIT_MIN_BYTES - 1 }), 4)).toBe(1)
    expect(partCountFor(big(), 1)).toBe(1)
    expect(partCountFor(big({ primaryKey: [] }), 4)).toBe(1)
  })

  it('uses up to two parts per connection, and no more than the size warrants', () => {
    expect(partCountFor(big(), 2)).toBe(4)
    expect(partCountFor(big({ estimatedBytes: 2 * SPLIT_MIN_BYTES }), 8)).toBe(2)
  })
})

describe('splitKeyRange', () => {
  it('covers the whole key space with ascending, adjacent, open-ended ranges', () => {
    expect(splitKeyRange('id', 1n, 100n, 4)).toEqual([
      { column: 'id', upper: 26n },
      { column: 'id', lower: 26n, upper: 51n },
      { column: 'id', lower: 51n, upper: 76n },
      { column: 'id', lower: 76n },
    ])
  })

  it('never makes more ranges than there are keys', () => {
    expect(splitKeyRange('id', 5n, 6n, 8)).toEqual([
      { column: 'id', upper: 6n },
      { column: 'id', lower: 6n },
    ])
    expect(splitKeyRange('id', 7n, 7n, 4)).toEqual([{ column: 'id' }])
  })

  it('handles keys beyond 2^53 and negative keys exactly', () => {
    const ranges = splitKeyRange('id', -(2n ** 62n), 2n ** 62n, 2)
    expect(ranges).toEqual([
      { column: 'id', upper: 0n },
      { column: 'id', lower: 0n },
    ])
  })
})
