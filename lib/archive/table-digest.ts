// The order-independent digest of a table's rows (manifest `tables[].digest`,
// docs/archive-format.md): the server computes it in the backup's snapshot and again
// over the restored rows, so equal digests prove the target holds the source's rows.

/** Names the exact computation; a reader refuses to compare digests of a method it does not know. */
export const DIGEST_METHOD = 'sha256-row-sum/1'

/**
 * Per row: the first 8 bytes of sha256 over the UTF-8 of `ROW(col, …)::text` (the
 * exported columns in manifest column order, generated ones left out, the session
 * pinned as for export), read as a signed big-endian 64-bit integer; `sum` is the
 * exact sum over every row, in decimal. With the row count it changes when a row is
 * missing, added or changed, whatever the order (odds of a miss: 2^-64 per check).
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
