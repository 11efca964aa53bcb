// Records each table's row digest (lib/archive/table-digest.ts) in the backup's
// snapshot, on a connection of its own, while the tables are exported: the server's
// work, beside the export (a seq scan that an unordered export's scan joins). With
// `rowOrder: none` the digest is the only proof a restore has: a backup without one
// fails, as it would without its data.
import type pg from 'pg'
import { connect, PINNED_SESSION_SETTINGS } from '../adapters/postgres/connection.ts'
import { type DigestableTable, tableDigest } from '../adapters/postgres/table-digest.ts'
import { qualifiedName, type TableEntry } from '../archive/manifest.ts'
import { DIGEST_METHOD, type MeasuredDigest } from '../archive/table-digest.ts'
import { LifeboatError } from '../core/errors.ts'
import type { Secret } from '../core/secret.ts'

export interface TableDigests {
  /** What the server measured, by `schema.table`; rejects when a digest query failed. */
  finish(): Promise<Map<string, MeasuredDigest>>
  /** Ends the connection (also when the backup failed before `finish`). */
  close(): Promise<void>
}

/**
 * Starts the digests on a new connection joined to `snapshot`. When no connection can
 * be opened (a server at its connection limit), `finish` runs them on `leader`, after
 * the export, in the same snapshot: slower, never skipped.
 */
export function startTableDigests(args: {
  source: Secret
  snapshot: string
  leader: pg.ClientBase
  tables: readonly DigestableTable[]
}): TableDigests {
  let own: pg.Client | undefined
  let closed = false
  const digestAll = async (client: pg.ClientBase) => {
    const measured = new Map<string, MeasuredDigest>()
    for (const table of args.tables) {
      if (closed) throw new LifeboatError('INTERNAL', 'the row digests were stopped')
      measured.set(qualifiedName(table), await tableDigest(client, table))
    }
    return measured
  }
  const opened =
    args.tables.length === 0
      ? Promise.resolve(undefined)
      : openJoined(args.source, args.snapshot).then(
          (client) => {
            own = client
            return client
          },
          () => undefined,
        )
  const beside = opened.then((client) => (client ? digestAll(client) : undefined))
  // Surfaced by finish(); a failure meanwhile must not go unhandled.
  beside.catch(() => undefined)
  return {
    finish: async () => (await beside) ?? digestAll(args.leader),
    close: async () => {
      closed = true
      await opened
      await own?.end().catch(() => undefined)
      await beside.catch(() => undefined)
    },
  }
}

async function openJoined(source: Secret, snapshot: string): Promise<pg.Client> {
  const client = await connect(source, {
    applicationName: 'lifeboat backup digests',
    settings: PINNED_SESSION_SETTINGS,
  })
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY')
    await client.query(`SET TRANSACTION SNAPSHOT '${snapshot.replaceAll("'", "''")}'`)
    return client
  } catch (error) {
    await client.end().catch(() => undefined)
    throw error
  }
}

/**
 * Puts each digest on its table's entry. Both come from one snapshot, so their row
 * counts agree; if they do not, something read a different set of rows, and the
 * archive cannot be proven: the backup fails.
 */
export function attachDigests(
  tables: readonly TableEntry[],
  measured: ReadonlyMap<string, MeasuredDigest>,
): TableEntry[] {
  return tables.map((table) => {
    const digest = measured.get(qualifiedName(table))
    if (!digest || digest.rows !== table.rows) {
      throw new LifeboatError(
        'INTERNAL',
        `${qualifiedName(table)}: the row digest saw ${digest?.rows ?? 'no'} rows, the export ${table.rows}, in the same snapshot`,
      )
    }
    return { ...table, digest: { method: DIGEST_METHOD, sum: digest.sum } }
  })
}
