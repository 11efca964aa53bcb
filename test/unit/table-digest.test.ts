import { describe, expect, it } from 'vitest'
import { digestStatement } from '../../lib/adapters/postgres/table-digest.ts'
import { DIGEST_METHOD, digestMismatch, hasCheckableDigest } from '../../lib/archive/table-digest.ts'

const entry = {
  schema: 'public',
  name: 'orders',
  rows: 3,
  digest: { method: DIGEST_METHOD, sum: '-12345' } as const,
}

describe('digestMismatch', () => {
  it('is silent when the rows and the sum agree', () => {
    expect(digestMismatch(entry, { rows: 3, sum: '-12345' })).toBeUndefined()
  })

  it('names a different row count first', () => {
    expect(digestMismatch(entry, { rows: 2, sum: '-12345' })).toBe(
      'public.orders: 2 rows restored (3 in the backup)',
    )
  })

  it('says a row changed when only the sum differs', () => {
    expect(digestMismatch(entry, { rows: 3, sum: '99' })).toBe(
      'public.orders: 3 rows as in the backup, but their digest differs (a row changed)',
    )
  })

  it('refuses to compare without a digest of a known method', () => {
    const { digest: _none, ...bare } = entry
    expect(digestMismatch(bare, { rows: 3, sum: '-12345' })).toMatch(/has no sha256-row-sum\/1 digest/)
    expect(hasCheckableDigest({ ...bare, digest: undefined })).toBe(false)
    expect(hasCheckableDigest({ digest: { method: 'sha256-row-sum/2' } })).toBe(false)
    expect(hasCheckableDigest(entry)).toBe(true)
  })
})

describe('digestStatement', () => {
  const table = {
    schema: 'app',
    name: 'we"ird',
    kind: 'r' as const,
    columns: [
      { name: 'id', generated: false },
      { name: 'total', generated: true },
      { name: 'Note', generated: false },
    ],
  }

  it('hashes the exported columns in manifest order, generated ones left out', () => {
    expect(digestStatement(table)).toContain(`ROW(t."id", t."Note")::text`)
  })

  it('reads a table alone (ONLY) and a partitioned root with its partitions', () => {
    expect(digestStatement(table)).toContain(`FROM ONLY "app"."we""ird" t`)
    expect(digestStatement({ ...table, kind: 'p' })).toContain(`FROM "app"."we""ird" t`)
  })

  it('sums the first 8 bytes of each row hash as a signed 64-bit integer, without ORDER BY', () => {
    const sql = digestStatement(table)
    expect(sql).toContain(`('x' || encode(substring(sha256(convert_to(`)
    expect(sql).toContain(`FROM 1 FOR 8), 'hex'))::bit(64)::bigint`)
    expect(sql).not.toMatch(/ORDER BY/i)
  })
})
