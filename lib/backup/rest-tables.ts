// What an API-only backup reads through PostgREST and the auth admin API: the exposed
// tables, their keys as the API describes them, and each table's rows as archive
// format v1 data files.
import { exportAuthUsers } from '../adapters/rest/auth-users.ts'
import type { RestClient } from '../adapters/rest/client.ts'
import { exportRestTable } from '../adapters/rest/export-table.ts'
import { manifestType, type RestTable } from '../adapters/rest/openapi.ts'
import { dataFileName } from '../archive/layout.ts'
import { type ColumnInfo, type ForeignKeyInfo, qualifiedName, type TableEntry } from '../archive/manifest.ts'
import type { ArchiveWriter } from '../archive/writer.ts'
import { LifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import { isTableSelected, type Selection } from '../core/selection.ts'

export interface TimeWindow {
  from: string
  to: string
}

/** A table entry of a REST backup: when its first and last page were read. */
export type RestTableEntry = TableEntry & { readWindow: TimeWindow; pages: number }

export interface RestReadDeps {
  client: RestClient
  emit: EmitEvent
  now: () => Date
}

export interface RestReadOptions {
  selection: Selection
  schemas: readonly string[]
  batchSize: number
  /** Export auth users through the admin API (as `auth.users`). */
  authUsers: boolean
}

/** The exposed, insertable tables of the selected schemas that the selection keeps. */
export async function discoverTables(
  client: RestClient,
  options: Pick<RestReadOptions, 'schemas' | 'selection'>,
  warn: (message: string) => void,
): Promise<RestTable[]> {
  const found: RestTable[] = []
  for (const schema of options.schemas) {
    const tables = (await client.describe(schema)).filter((t) =>
      isTableSelected(options.selection, t.schema, t.name),
    )
    const readOnly = tables.filter((t) => !t.insertable)
    if (readOnly.length > 0) {
      // A GET-only definition is a view: its rows belong to the tables it reads.
      warn(`skipped read-only views (GET only): ${readOnly.map(qualifiedName).join(', ')}`)
    }
    found.push(...tables.filter((t) => t.insertable))
  }
  return found
}

/**
 * PostgREST marks single-column foreign keys with the referenced table's name only;
 * it is looked up in the same schema first, then in the other exported ones.
 */
export function resolveForeignKeys(
  table: RestTable,
  tables: readonly RestTable[],
  authUsers: boolean,
  warn: (message: string) => void,
): ForeignKeyInfo[] {
  const keys: ForeignKeyInfo[] = []
  for (const column of table.columns) {
    const ref = column.references
    if (!ref) continue
    const target =
      tables.find((t) => t.schema === table.schema && t.name === ref.table) ??
      tables.find((t) => t.name === ref.table)
    const referenced = target
      ? { schema: target.schema, name: target.name }
      : authUsers && ref.table === 'users'
        ? { schema: 'auth', name: 'users' }
        : undefined
    if (!referenced) {
      warn(
        `${qualifiedName(table)}.${column.name} references ${ref.table}.${ref.column}, which is not in this backup: a restore needs those rows already there`,
      )
      continue
    }
    keys.push({
      name: `${table.name}_${column.name}_fkey`,
      columns: [column.name],
      referencedSchema: referenced.schema,
      referencedTable: referenced.name,
      referencedColumns: [ref.column],
    })
  }
  return keys
}

export function columnInfo(table: RestTable): ColumnInfo[] {
  return table.columns.map((c) => ({
    name: c.name,
    type: manifestType(c),
    nullable: c.nullable,
    // The API does not say which columns are identity or generated columns.
    identity: null,
    generated: false,
  }))
}

export async function backUpTable(
  deps: RestReadDeps,
  writer: ArchiveWriter,
  table: RestTable,
  foreignKeys: ForeignKeyInfo[],
  options: RestReadOptions,
  warn: (message: string) => void,
): Promise<RestTableEntry> {
  const name = qualifiedName(table)
  const file = dataFileName(table.schema, table.name)
  if (table.primaryKey.length === 0) {
    warn(`${name} has no primary key: it is paged by offset, which rows written meanwhile can shift`)
  }
  const stats = await exportRestTable(deps.client, table, writer.spoolPath(file), {
    batchSize: options.batchSize,
    now: deps.now,
    onProgress: (rows, bytes) => deps.emit({ type: 'table-progress', table: name, rows, bytes }),
  })
  if (stats.countedAtStart !== undefined && stats.countedAtStart !== stats.rows) {
    warn(
      `${name} changed while it was read: ${stats.countedAtStart} rows counted at the start, ${stats.rows} read`,
    )
  }
  return {
    schema: table.schema,
    name: table.name,
    file,
    rows: stats.rows,
    bytes: stats.bytes,
    sha256: stats.sha256,
    columns: columnInfo(table),
    primaryKey: table.primaryKey,
    foreignKeys,
    kind: 'r',
    readWindow: stats.window,
    pages: stats.pages,
  }
}

export async function backUpAuthUsers(
  deps: RestReadDeps,
  writer: ArchiveWriter,
  options: RestReadOptions,
): Promise<RestTableEntry> {
  const file = dataFileName('auth', 'users')
  const from = deps.now().toISOString()
  let stats: Awaited<ReturnType<typeof exportAuthUsers>>
  try {
    stats = await exportAuthUsers(deps.client, writer.spoolPath(file), Math.min(options.batchSize, 1000))
  } catch (error) {
    if (error instanceof LifeboatError && error.code === 'API_AUTH') {
      throw new LifeboatError(
        'API_AUTH',
        `${error.message} (the admin API needs the service_role key; leave out --auth-users to skip users)`,
        { cause: error },
      )
    }
    throw error
  }
  return {
    schema: 'auth',
    name: 'users',
    file,
    rows: stats.rows,
    bytes: stats.bytes,
    sha256: stats.sha256,
    columns: stats.columns,
    primaryKey: ['id'],
    foreignKeys: [],
    kind: 'r',
    readWindow: { from, to: deps.now().toISOString() },
    pages: stats.pages,
  }
}
