// Reads the migration ledgers of the platform's services (Supabase Auth, Storage) in the
// backup's snapshot, so the manifest says which releases the data comes from and a
// restore can compare them with the target's before anything is downloaded.
import type pg from 'pg'
import { quoteIdent, quoteQualified } from '../adapters/postgres/connection.ts'
import { type LedgerRecord, MIGRATION_LEDGERS } from '../core/supabase-platform.ts'

/**
 * The ledgers among the backed-up tables (`schema.name`), each read in a savepoint: a
 * ledger the role cannot read is left out with a warning (its data file would fail too).
 */
export async function readMigrationLedgers(
  client: pg.ClientBase,
  tables: readonly string[],
  warn: (message: string) => void,
): Promise<LedgerRecord[]> {
  const records: LedgerRecord[] = []
  for (const ledger of MIGRATION_LEDGERS) {
    const table = `${ledger.schema}.${ledger.name}`
    if (!tables.includes(table)) continue
    await client.query('SAVEPOINT lifeboat_ledger')
    try {
      const { rows } = await client.query<{ m: string }>(
        `SELECT ${quoteIdent(ledger.column)}::text AS m FROM ${quoteQualified(ledger.schema, ledger.name)}
          WHERE ${quoteIdent(ledger.column)} IS NOT NULL ORDER BY 1`,
      )
      await client.query('RELEASE SAVEPOINT lifeboat_ledger')
      records.push({ table, applied: rows.map((r) => r.m) })
    } catch (error) {
      await client.query('ROLLBACK TO SAVEPOINT lifeboat_ledger')
      warn(`${table} could not be read (${(error as Error).message}): a restore cannot compare its releases`)
    }
  }
  return records
}
