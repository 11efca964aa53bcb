import { describe, expect, it } from 'vitest'
import { formatCount, plural } from '../../lib/core/format.ts'
import { byText } from '../../lib/core/order.ts'

describe('formatCount', () => {
  const integers = [
    0,
    1,
    9,
    10,
    99,
    100,
    999,
    1000,
    1001,
    12_345,
    999_999,
    1_000_000,
    2_011_775,
    2 ** 31,
    2 ** 53,
  ]

  it.each(integers)('writes %d as toLocaleString("en") does', (n) => {
    expect(formatCount(n)).toBe(n.toLocaleString('en'))
    expect(formatCount(-n || 0)).toBe((-n || 0).toLocaleString('en'))
  })

  it('rounds to whole numbers unless asked for decimals', () => {
    expect(formatCount(1234.5)).toBe('1,235')
    expect(formatCount(1234.4)).toBe('1,234')
  })

  it.each([
    [1234.56, 1, '1,234.6'],
    [1234.04, 1, '1,234'],
    [0.25, 2, '0.25'],
    [1_000_000.5, 1, '1,000,000.5'],
    [-9876.54, 1, '-9,876.5'],
    [99.96, 1, '100'],
  ])('writes %d with at most %d decimals as %s, like toLocaleString', (n, digits, text) => {
    expect(formatCount(n, digits)).toBe(text)
    expect(n.toLocaleString('en', { maximumFractionDigits: digits })).toBe(text)
  })

  it('writes a negative number that rounds to zero as 0, without a sign', () => {
    expect(formatCount(-0.04, 1)).toBe('0')
    expect(formatCount(-0)).toBe('0')
  })

  it('writes what is not a finite number as JavaScript does', () => {
    expect([NaN, Infinity, -Infinity].map((n) => formatCount(n))).toEqual(['NaN', 'Infinity', '-Infinity'])
  })
})

describe('plural', () => {
  it('groups the count and picks the noun by it', () => {
    expect([plural(1, 'table'), plural(0, 'table'), plural(1234, 'row')]).toEqual([
      '1 table',
      '0 tables',
      '1,234 rows',
    ])
    expect(plural(2, 'entry', 'entries')).toBe('2 entries')
  })
})

describe('byText', () => {
  it('orders by code unit, equal strings as equal', () => {
    const keys = [
      'backup-2026-12-06T020000Z',
      'Backup',
      'backup-2026-12-05T020000Z',
      'b',
      'backup-2026-12-05T020000Z',
    ]
    expect([...keys].sort(byText)).toEqual([...keys].sort())
    expect(byText('a', 'a')).toBe(0)
    expect(byText('Z', 'a')).toBeLessThan(0)
  })
})
