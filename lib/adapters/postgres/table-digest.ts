// Computes a table's order-independent row digest on the server (DIGEST_METHOD in
// lib/archive/table-digest.ts): the backup runs it in its snapshot, the restore over
// the rows as they now are in the target, and a person can run it with psql.
import type pg from 'pg'
import type { MeasuredDigest } from '../../archive/table-digest.ts'
import { queryError, quoteIdent, quoteQualified } from './connection.ts'

export interface DigestableTable {
  schema: string
  name: string
  /** `p`: a partitioned root, read with its partitions; `r`: the table alone (ONLY). */
  kind: 'r' | 'p'
  columns: readonly { name: string; generated: boolean }[]
}

/**
 * The one statement, on both sides: each row's text output (`ROW(…)::text`, the
 * record's output function over each column's own) in manifest column order. No
 * `::text` casts (they cost 30-60 % more and the types are the same on both sides),
 * no ORDER BY (a sum does not care): one scan, no rows sent. The session must be
 * pinned as for export (DateStyle, TimeZone, extra_float_digits…).
 */
export function digestStatement(table: DigestableTable): string {
  const values = table.columns
    .filter((c) => !c.generated)
    .map((c) => `t.${quoteIdent(c.name)}`)
    .join(', ')
  const only = table.kind === 'p' ? '' : 'ONLY '
  const rowHash = `sha256(convert_to(ROW(${values})::text, 'UTF8'))`
  const first64 = `('x' || encode(substring(${rowHash} FROM 1 FOR 8), 'hex'))::bit(64)::bigint`
  return `SELECT count(*)::text AS rows, coalesce(sum(${first64}), 0)::text AS sum FROM ${only}${quoteQualified(table.schema, table.name)} t`
}

/** Runs the digest on the caller's connection (its snapshot or transaction). */
export async function tableDigest(client: pg.ClientBase, table: DigestableTable): Promise<MeasuredDigest> {
  try {
    const result = await client.query<{ rows: string; sum: string }>(digestStatement(table))
    const row = result.rows[0]!
    return { rows: Number(row.rows), sum: row.sum }
  } catch (error) {
    throw queryError(error, `computing the row digest of ${table.schema}.${table.name}`)
  }
}
