// An independent proof that two databases hold the same rows: per table, a digest of
// every row's text in a fixed order, computed by each server and compared.
import type pg from 'pg'
import { quoteQualified } from '../adapters/postgres/connection.ts'

export interface TableComparison {
  table: string
  rows: number
  identical: boolean
}

async function digest(
  client: pg.ClientBase,
  schema: string,
  table: string,
): Promise<{ rows: number; md5: string }> {
  const result = await client.query<{ rows: string; md5: string | null }>(
    `SELECT count(*)::text AS rows, md5(string_agg(t::text, E'\\n' ORDER BY t::text COLLATE "C")) AS md5
       FROM ${quoteQualified(schema, table)} t`,
  )
  return { rows: Number(result.rows[0]!.rows), md5: result.rows[0]!.md5 ?? '' }
}

export async function compareTables(
  source: pg.ClientBase,
  target: pg.ClientBase,
  tables: readonly { schema: string; name: string }[],
): Promise<TableComparison[]> {
  const results: TableComparison[] = []
  for (const { schema, name } of tables) {
    const [a, b] = await Promise.all([digest(source, schema, name), digest(target, schema, name)])
    results.push({
      table: `${schema}.${name}`,
      rows: a.rows,
      identical: a.rows === b.rows && a.md5 === b.md5,
    })
  }
  return results
}
