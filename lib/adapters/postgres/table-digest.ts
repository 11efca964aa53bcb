// Asks the server for a table's row digest (DIGEST_METHOD, lib/archive/table-digest.ts)
// over the rows as they are now: what a restore compares with the digest the backup
// computed from the COPY text it exported; a person gets the same number from psql.
import type pg from 'pg'
import type { MeasuredDigest } from '../../archive/table-digest.ts'
import { queryError, quoteQualified } from './connection.ts'
import { exportedSelectList, TEXT_CAST_DIFFERS } from './export-table.ts'

export interface DigestableTable {
  schema: string
  name: string
  /** `p`: a partitioned root, read with its partitions; `r`: the table alone (ONLY). */
  kind: 'r' | 'p'
  columns: readonly { name: string; generated: boolean }[]
  /** Columns exported as `col::text` (TEXT_CAST_DIFFERS), read from the target's catalog. */
  textCast: ReadonlySet<string>
}

/**
 * One scan, no sort, no rows sent: the record text of the values the export sends
 * (`ROW(t.a, t.flag::text, …)::text`, manifest column order, generated columns left
 * out), hashed with `hashtextextended(…, 0)` and summed exactly. The session must be
 * pinned as for export (DateStyle, TimeZone, extra_float_digits…).
 */
export function digestStatement(table: DigestableTable): string {
  const only = table.kind === 'p' ? '' : 'ONLY '
  const rowHash = `hashtextextended(ROW(${exportedSelectList(table)})::text, 0)`
  return `SELECT count(*)::text AS rows, coalesce(sum(${rowHash}), 0)::text AS sum FROM ${only}${quoteQualified(table.schema, table.name)} t`
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

/** Which columns of each table the export casts to text, as this server decides it. */
export async function readTextCast(
  client: pg.ClientBase,
  tables: readonly { schema: string; name: string }[],
): Promise<Map<string, Set<string>>> {
  const found = new Map(tables.map((t) => [`${t.schema}.${t.name}`, new Set<string>()]))
  const result = await client
    .query<{ schema: string; name: string; column: string }>(
      `SELECT n.nspname AS schema, c.relname AS name, a.attname AS column
         FROM unnest($1::text[], $2::text[]) AS want(schema, name)
         JOIN pg_namespace n ON n.nspname = want.schema
         JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = want.name
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE ${TEXT_CAST_DIFFERS}`,
      [tables.map((t) => t.schema), tables.map((t) => t.name)],
    )
    .catch((error) => {
      throw queryError(error, 'reading column types for the row digests')
    })
  for (const row of result.rows) found.get(`${row.schema}.${row.name}`)?.add(row.column)
  return found
}

/**
 * The digest of each table as the server sees it now, by `schema.table`: what a
 * restore compares with the manifest (digestMismatch) before COMMIT.
 */
export async function digestTables(
  client: pg.ClientBase,
  tables: readonly Omit<DigestableTable, 'textCast'>[],
): Promise<Map<string, MeasuredDigest>> {
  const textCast = await readTextCast(client, tables)
  const digests = new Map<string, MeasuredDigest>()
  for (const table of tables) {
    const name = `${table.schema}.${table.name}`
    digests.set(name, await tableDigest(client, { ...table, textCast: textCast.get(name)! }))
  }
  return digests
}
