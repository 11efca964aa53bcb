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
    expect(digestMismatch(bare, { rows: 3, sum: '-12345' })).toMatch(/has no hashtext-row-sum\/1 digest/)
    expect(hasCheckableDigest({ ...bare, digest: undefined })).toBe(false)
    expect(hasCheckableDigest({ digest: { method: 'hashtext-row-sum/2' } })).toBe(false)
    expect(hasCheckableDigest(entry)).toBe(true)
  })
})

describe('digestStatement', () => {
  const table = {
    schema: 'app',
    name: 'we"ird',
    kind: 'r' as const,
    textCast: new Set(['flag']),
    columns: [
      { name: 'id', generated: false },
      { name: 'total', generated: true },
      { name: 'Note', generated: false },
      { name: 'flag', generated: false },
    ],
  }

  it('hashes the exported values in manifest order, generated columns left out, casts as export', () => {
    expect(digestStatement(table)).toContain(`ROW(t."id", t."Note", t."flag"::text)::text`)
  })

  it('reads a table alone (ONLY) and a partitioned root with its partitions', () => {
    expect(digestStatement(table)).toContain(`FROM ONLY "app"."we""ird" t`)
    expect(digestStatement({ ...table, kind: 'p' })).toContain(`FROM "app"."we""ird" t`)
  })

  it('sums hashtextextended of each record text, with the row count, without ORDER BY', () => {
    const sql = digestStatement(table)
    expect(sql).toMatch(/^SELECT count\(\*\)::text AS rows, coalesce\(sum\(hashtextextended\(ROW\(/)
    expect(sql).not.toMatch(/ORDER BY/i)
  })
})
