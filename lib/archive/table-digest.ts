// The order-independent digest of a table's rows (manifest `tables[].digest`,
// docs/archive-format.md): the backup computes it from the COPY text it exports
// (lib/archive/row-digest.ts), the restore asks the server for it over the restored
// rows (lib/adapters/postgres/table-digest.ts); equal digests prove the same rows.

/** Names the exact computation; a reader compares only digests of a method it knows. */
export const DIGEST_METHOD = 'hashtext-row-sum/1'

/**
 * Per row: PostgreSQL's `hashtextextended(ROW(v1, …, vn)::text, 0)`, where v are the
 * exported values (`col::text`, manifest column order, generated columns left out, the
 * session pinned as for export), a signed 64-bit number; `sum` is the exact sum over
 * every row, in decimal. With the row count it changes when a row is missing, added
 * or changed, whatever the order (odds of a miss: about 2^-64 per check).
 */
export interface TableDigest {
  method: typeof DIGEST_METHOD
  sum: string
}

/** What the server measured over a table's rows. */
export interface MeasuredDigest {
  rows: number
  sum: string
}

/** Whether an archive entry carries a digest this version can check. */
export function hasCheckableDigest(entry: { digest?: { method: string } | undefined }): boolean {
  return entry.digest?.method === DIGEST_METHOD
}

/**
 * Compares what the server measured with the manifest: undefined when they agree,
 * otherwise one line that says what differs (for the failure message).
 */
export function digestMismatch(
  entry: { schema: string; name: string; rows: number; digest?: TableDigest | undefined },
  measured: MeasuredDigest,
): string | undefined {
  const table = `${entry.schema}.${entry.name}`
  if (!entry.digest || entry.digest.method !== DIGEST_METHOD) {
    return `${table}: the manifest has no ${DIGEST_METHOD} digest to compare with`
  }
  if (measured.rows !== entry.rows) {
    return `${table}: ${measured.rows} rows restored (${entry.rows} in the backup)`
  }
  if (measured.sum !== entry.digest.sum) {
    return `${table}: ${measured.rows} rows as in the backup, but their digest differs (a row changed)`
  }
  return undefined
}
