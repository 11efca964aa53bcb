// The after-load proof of a PostgreSQL restore, inside its transaction: each restored
// table against the manifest, by the row digest the backup recorded (one scan on the
// server, no rows sent) or, for archives without one, by re-exporting it.
import { Writable } from 'node:stream'
import type pg from 'pg'
import { exportTable } from '../adapters/postgres/export-table.ts'
import { tableDigest } from '../adapters/postgres/table-digest.ts'
import { readTargetState } from '../adapters/postgres/target.ts'
import { qualifiedName, type TableEntry } from '../archive/manifest.ts'
import { digestMismatch, hasCheckableDigest } from '../archive/table-digest.ts'
import { LifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import { plural } from '../core/format.ts'
import type { TableOutcome } from './target.ts'
import type { TargetTable } from './target-checks.ts'

/** What one table's proof found: rows as the target holds them, and a one-line difference. */
interface TableProof {
  rows: number
  bytes: number
  failure: string | undefined
}

/**
 * Proves each restored table equal to the manifest: its row digest where the manifest
 * has one this version computes (docs/archive-format.md, Row digests), else a re-export
 * the way the backup exported it with its sha256. Any difference throws RESTORE_FAILED.
 */
export async function proveRestoredTables(
  client: pg.ClientBase,
  tables: readonly TableEntry[],
  outcomes: Map<string, TableOutcome>,
  emit: EmitEvent,
): Promise<void> {
  const byDigest = tables.filter(hasCheckableDigest).length
  const how =
    byDigest === tables.length
      ? 'row digests'
      : byDigest === 0
        ? 're-export and sha256'
        : 'row digests, re-export'
  emit({ type: 'step', message: `verifying ${plural(tables.length, 'restored table')} (${how})` })
  const now = await readTargetState(client, tables.map(qualifiedName), [])
  const failures: string[] = []
  const total = tables.reduce((n, t) => n + t.rows, 0)
  emit({ type: 'phase-start', phase: 'check', total: { rows: total, tables: tables.length } })
  for (const [index, table] of tables.entries()) {
    const name = qualifiedName(table)
    const began = performance.now()
    emit({
      type: 'table-start',
      phase: 'check',
      table: name,
      index,
      total: tables.length,
      estimatedRows: table.rows,
    })
    const columns = now.tables.get(name)?.columns ?? []
    const outcome = outcomes.get(name)!
    const proof = hasCheckableDigest(table)
      ? await proveByDigest(client, table, columns, outcome)
      : await proveByReexport(client, table, columns, outcome, emit)
    const seconds = (performance.now() - began) / 1000
    emit({ type: 'table-done', phase: 'check', table: name, rows: proof.rows, bytes: proof.bytes, seconds })
    if (proof.failure) failures.push(proof.failure)
  }
  emit({ type: 'phase-done', phase: 'check' })
  if (failures.length > 0) {
    throw new LifeboatError(
      'RESTORE_FAILED',
      `${plural(failures.length, 'restored table')} differ from the backup: ${failures.join('; ')}`,
      { details: failures },
    )
  }
}

const namesWhere = (
  columns: readonly TargetTable['columns'][number][],
  flag: 'collatable' | 'textCast' | 'padded',
) => new Set(columns.filter((c) => c[flag]).map((c) => c.name))

/** The server sums the hash of every row's text: count and sum against the manifest's. */
async function proveByDigest(
  client: pg.ClientBase,
  table: TableEntry,
  columns: readonly TargetTable['columns'][number][],
  outcome: TableOutcome,
): Promise<TableProof> {
  const measured = await tableDigest(client, { ...table, textCast: namesWhere(columns, 'textCast') })
  const failure = digestMismatch(table, measured)
  outcome.rowsRestored = measured.rows
  outcome.proof = 'digest'
  outcome.sha256Match = failure === undefined
  return { rows: measured.rows, bytes: 0, failure }
}

/** The table exported again exactly as the backup exported it; rows and sha256 against the manifest. */
async function proveByReexport(
  client: pg.ClientBase,
  table: TableEntry,
  columns: readonly TargetTable['columns'][number][],
  outcome: TableOutcome,
  emit: EmitEvent,
): Promise<TableProof> {
  const name = qualifiedName(table)
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() })
  const exportable = {
    ...table,
    collatable: namesWhere(columns, 'collatable'),
    textCast: namesWhere(columns, 'textCast'),
    padded: namesWhere(columns, 'padded'),
  }
  const stats = await exportTable(client, exportable, sink, (rows, bytes) =>
    emit({ type: 'table-progress', phase: 'check', table: name, rows, bytes }),
  )
  outcome.rowsRestored = stats.rows
  outcome.proof = 'sha256'
  outcome.sha256Match = stats.sha256 === table.sha256
  const failure =
    stats.rows !== table.rows || !outcome.sha256Match
      ? `${name}: ${stats.rows} rows restored (${table.rows} in the backup), sha256 ${outcome.sha256Match ? 'matches' : 'differs'}`
      : undefined
  return { rows: stats.rows, bytes: stats.bytes, failure }
}
