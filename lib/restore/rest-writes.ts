// How an API restore writes and takes back: inserts in batches (auth users through
// the admin API), the read-back that proves them, and deleting what it inserted when
// anything fails (no transaction spans HTTP requests).
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'
import { listAllUsers, userAttributes } from '../adapters/rest/auth-users.ts'
import { type RestClient, sqlStateOf } from '../adapters/rest/client.ts'
import { exportRestTable } from '../adapters/rest/export-table.ts'
import type { RestColumn, RestTable } from '../adapters/rest/openapi.ts'
import { insertBody, jsonbText, type TextRow } from '../adapters/rest/rows.ts'
import { qualifiedName, type TableEntry } from '../archive/manifest.ts'
import { LifeboatError, toLifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import { AUTH_USERS, type TargetInfo } from './rest-checks.ts'
import type { TableOutcome } from './target.ts'

/** What the API writes need: the client, progress, and a clock for read-back windows. */
export interface RestWriteDeps {
  client: RestClient
  emit: EmitEvent
  now?: () => Date
}

export function deleteColumn(table: RestTable): string {
  const column = table.primaryKey[0] ?? table.columns.find((c) => !c.nullable)?.name
  if (!column) {
    throw new LifeboatError(
      'API_REQUEST',
      `${qualifiedName(table)} has neither a primary key nor a NOT NULL column: its rows cannot all be deleted through the API`,
    )
  }
  return column
}

/** --truncate: children first, so foreign keys never block a delete. */
export async function emptyTables(
  deps: RestWriteDeps,
  tables: readonly TableEntry[],
  target: TargetInfo,
): Promise<void> {
  for (const entry of [...tables].reverse()) {
    const name = qualifiedName(entry)
    if (name === AUTH_USERS || (target.rows.get(name) ?? 0) === 0) continue
    const table = target.tables.get(name)!
    deps.emit({ type: 'step', message: `deleting the ${target.rows.get(name)} rows of ${name} (--truncate)` })
    await deps.client.deleteAll(table, deleteColumn(table))
  }
}

export async function* lines(stream: Readable): AsyncGenerator<string> {
  // A character's bytes may be split between chunks: the decoder holds them back.
  const decoder = new StringDecoder('utf8')
  let rest = ''
  for await (const chunk of stream) {
    rest += decoder.write(chunk as Buffer)
    let at = rest.indexOf('\n')
    while (at !== -1) {
      yield rest.slice(0, at)
      rest = rest.slice(at + 1)
      at = rest.indexOf('\n')
    }
  }
  rest += decoder.end()
  if (rest !== '') yield rest
}

function generatedAlwaysColumn(error: unknown): string | undefined {
  if (sqlStateOf(error) !== '428C9') return undefined
  return /column "((?:[^"]|"")+)"/.exec((error as Error).message)?.[1]?.replaceAll('""', '"')
}

export async function insertTable(
  deps: RestWriteDeps,
  entry: TableEntry,
  table: RestTable,
  source: AsyncGenerator<string>,
  batchSize: number,
  outcome: TableOutcome,
): Promise<void> {
  const name = qualifiedName(entry)
  const columns: RestColumn[] = entry.columns
    .filter((c) => !c.generated)
    .map((c) => table.columns.find((t) => t.name === c.name)!)
  const omit = new Set<string>()
  const flush = async (batch: string[]) => {
    const first = outcome.rowsLoaded + 1
    const where = `${name}, batch ${(outcome.batches ?? 0) + 1} (rows ${first}-${first + batch.length - 1})`
    for (;;) {
      try {
        if (omit.size === 0) {
          await deps.client.insert(table, insertBody(batch, columns, omit))
        } else {
          // The target generates these values; they must come out as the archive has them.
          const returned = await deps.client.insert(table, insertBody(batch, columns, omit), [...omit])
          const expected = batch.map((line) => JSON.parse(line) as TextRow)
          returned!.forEach((row, i) => {
            for (const column of omit) {
              if (row[column] !== expected[i]![column]) {
                throw new LifeboatError(
                  'RESTORE_FAILED',
                  `${where}: ${column} is GENERATED ALWAYS, which the API cannot set, and the target generated ${String(row[column])} where the backup has ${expected[i]![column]}; restore this table through a database connection (TARGET_DATABASE_URL)`,
                )
              }
            }
          })
        }
        break
      } catch (error) {
        const column = generatedAlwaysColumn(error)
        if (column && !omit.has(column) && !outcome.batches) {
          omit.add(column)
          outcome.generatedByTarget = [...omit]
          deps.emit({
            type: 'warning',
            message: `${name}.${column} is GENERATED ALWAYS: the target generates it; each value is checked against the backup`,
          })
          continue
        }
        if (error instanceof LifeboatError && error.code === 'RESTORE_FAILED') throw error
        throw new LifeboatError('RESTORE_FAILED', `${where}: ${toLifeboatError(error).message}`, {
          cause: error,
        })
      }
    }
    outcome.rowsLoaded += batch.length
    outcome.batches = (outcome.batches ?? 0) + 1
    deps.emit({ type: 'table-progress', table: name, rows: outcome.rowsLoaded, bytes: 0 })
  }
  let batch: string[] = []
  for await (const line of source) {
    if (line === '') continue
    batch.push(line)
    if (batch.length >= batchSize) {
      await flush(batch)
      batch = []
    }
  }
  if (batch.length > 0) await flush(batch)
}

/** Re-reads every restored table through the API, serialised as the backup was, and compares. */
export async function verifyRestored(
  deps: RestWriteDeps,
  work: string,
  tables: readonly TableEntry[],
  target: TargetInfo,
  outcomes: Map<string, TableOutcome>,
  archivedUsers: readonly TextRow[],
): Promise<void> {
  deps.emit({ type: 'step', message: 'verifying the restored tables through the API' })
  const problems: string[] = []
  for (const entry of tables) {
    const name = qualifiedName(entry)
    const outcome = outcomes.get(name)!
    if (name === AUTH_USERS) {
      const { users } = await listAllUsers(deps.client, 1000)
      const byId = new Map(users.map((u) => [u.id, u]))
      const differing = archivedUsers.filter((row) => {
        const user = byId.get(row.id!)
        if (!user) return true
        if ('email' in row && (row.email ?? '') !== String(user.email ?? '')) return true
        return 'raw_user_meta_data' in row && row.raw_user_meta_data !== jsonbText(user.user_metadata ?? {})
      })
      outcome.rowsRestored = archivedUsers.length - differing.filter((r) => !byId.has(r.id!)).length
      outcome.sha256Match = differing.length === 0
      if (differing.length > 0) {
        problems.push(
          `${name}: ${differing.length} users missing or different (id, email, metadata), e.g. ${differing[0]!.id}`,
        )
      }
      continue
    }
    const restTable = target.tables.get(name)!
    // The archive's columns in the archive's order; the key the backup ordered by.
    const view: RestTable = {
      ...restTable,
      columns: entry.columns
        .filter((c) => !c.generated)
        .map((c) => restTable.columns.find((t) => t.name === c.name)!),
      primaryKey: entry.primaryKey.length > 0 ? [...entry.primaryKey] : [],
    }
    const stats = await exportRestTable(
      deps.client,
      view,
      join(work, `${entry.schema}.${entry.name}.ndjson`),
      {
        batchSize: 1000,
        now: deps.now ?? (() => new Date()),
      },
    )
    outcome.rowsRestored = stats.rows
    outcome.sha256Match = stats.sha256 === entry.sha256 && stats.rows === entry.rows
    if (!outcome.sha256Match) {
      problems.push(
        `${name}: ${stats.rows} rows read back (backup: ${entry.rows}), sha256 ${stats.sha256 === entry.sha256 ? 'matches' : 'differs'}`,
      )
    }
    await rm(join(work, `${entry.schema}.${entry.name}.ndjson`), { force: true })
  }
  if (problems.length > 0) {
    throw new LifeboatError(
      'RESTORE_FAILED',
      `the restored data differs from the backup: ${problems.join('; ')}`,
      {
        details: problems,
      },
    )
  }
}

/** Undoes what this run inserted: the tables were empty before (or emptied by --truncate). */
export async function cleanUp(
  deps: RestWriteDeps,
  error: unknown,
  inserted: readonly { table: RestTable; column: string }[],
  createdUsers: readonly string[],
  truncated: boolean,
): Promise<LifeboatError> {
  const cause = toLifeboatError(error)
  const undone: string[] = []
  const left: string[] = []
  for (const { table, column } of [...inserted].reverse()) {
    try {
      await deps.client.deleteAll(table, column)
      undone.push(qualifiedName(table))
    } catch (failure) {
      left.push(`${qualifiedName(table)} (${toLifeboatError(failure).message})`)
    }
  }
  for (const id of [...createdUsers].reverse()) {
    try {
      await deps.client.deleteUser(id)
    } catch (failure) {
      left.push(`auth user ${id} (${toLifeboatError(failure).message})`)
    }
  }
  const what = [...undone, ...(createdUsers.length > 0 ? [`${createdUsers.length} auth users`] : [])]
  const note = truncated
    ? '; the rows --truncate deleted are gone: restore them from this or another backup'
    : ''
  const message =
    left.length === 0
      ? `${cause.message}. Nothing is left of this restore: ${what.length > 0 ? `emptied ${what.join(', ')} again` : 'nothing had been written'}${note}`
      : `${cause.message}. Cleaning up failed too, these still hold rows this restore inserted: ${left.join('; ')}; delete them by hand (docs/api-mode.md)${note}`
  return new LifeboatError('RESTORE_FAILED', message, { cause: error, details: [...cause.details, ...left] })
}

/** setval statements for the target: from the manifest's sequences, or for every serial/identity column. */

/** Auth users through the admin API, one request each (the API has no batch create). */
export async function insertAuthUsers(
  deps: RestWriteDeps,
  source: AsyncIterable<string>,
  outcome: TableOutcome,
  created: { ids: string[]; rows: TextRow[] },
): Promise<void> {
  for await (const line of source) {
    if (line === '') continue
    const row = JSON.parse(line) as TextRow
    await deps.client.createUser(userAttributes(row)).catch((error: unknown) => {
      throw new LifeboatError(
        'RESTORE_FAILED',
        `creating auth user ${row.id} failed: ${toLifeboatError(error).message}`,
        {
          cause: error,
        },
      )
    })
    created.ids.push(row.id!)
    created.rows.push(row)
    outcome.rowsLoaded++
    outcome.batches = (outcome.batches ?? 0) + 1
  }
}
