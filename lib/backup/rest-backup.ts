import type { Transform } from 'node:stream'
import { exportAuthUsers } from '../adapters/rest/auth-users.ts'
import type { RestClient } from '../adapters/rest/client.ts'
import { exportRestTable } from '../adapters/rest/export-table.ts'
import type { HttpStats } from '../adapters/rest/http.ts'
import { manifestType, type RestTable } from '../adapters/rest/openapi.ts'
import type { Store } from '../adapters/store/store.ts'
import { dataFileName } from '../archive/layout.ts'
import {
  type ColumnInfo,
  FORMAT_VERSION,
  type ForeignKeyInfo,
  type Manifest,
  qualifiedName,
  type TableEntry,
} from '../archive/manifest.ts'
import { planRestoreOrder } from '../archive/restore-order.ts'
import { sealArchive, startArchiveUpload, totalsOf } from '../archive/upload.ts'
import type { ArchiveWriter } from '../archive/writer.ts'
import { LifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import { plural } from '../core/format.ts'
import { supabaseProjectRef } from '../core/rest-config.ts'
import { isTableSelected, type Selection } from '../core/selection.ts'
import { TOOL_VERSION } from '../core/version.ts'

export interface RestBackupDeps {
  client: RestClient
  store: Store
  emit: EmitEvent
  now: () => Date
  tempDir: string
  encrypt?: () => Transform
  /** The retrying fetch's counters, reported in the result. */
  stats?: HttpStats
}

export interface RestBackupOptions {
  selection: Selection
  schemas: readonly string[]
  batchSize: number
  /** Export auth users through the admin API (as `auth.users`). */
  authUsers: boolean
  gzipLevel: number
}

export interface TimeWindow {
  from: string
  to: string
}

/** A table entry of a REST backup: when its first and last page were read. */
export type RestTableEntry = TableEntry & { readWindow: TimeWindow; pages: number }

/** What a REST backup's manifest adds: where it came from and the window it spans. */
export type RestManifest = Manifest & {
  source: Manifest['source'] & { api: string; window: TimeWindow }
}

export interface RestBackupResult {
  id: string
  key: string
  location: string
  manifest: RestManifest
  archiveBytes: number
  seconds: number
  warnings: string[]
  requests: number
  retries: number
}

const AUTH_USERS = 'auth.users'

export async function runRestBackup(
  deps: RestBackupDeps,
  options: RestBackupOptions,
): Promise<RestBackupResult> {
  const started = deps.now()
  const warnings: string[] = []
  const warn = (message: string) => {
    warnings.push(message)
    deps.emit({ type: 'warning', message })
  }
  // Inherent to the mode: said once as a note, not as a warning on every nightly run.
  deps.emit({
    type: 'step',
    message:
      'API-only backup: tables are read one page at a time, not from one snapshot (the manifest says consistent: false)',
  })

  deps.emit({ type: 'step', message: `reading the API description of ${options.schemas.join(', ')}` })
  const tables = await discoverTables(deps.client, options, warn)
  if (tables.length === 0 && !options.authUsers)
    warn('no exposed table matched the selection: the backup holds no data')

  const names = new Map(tables.map((t) => [qualifiedName(t), t]))
  const foreignKeys = new Map(
    tables.map((t) => [qualifiedName(t), resolveForeignKeys(t, tables, options.authUsers, warn)]),
  )
  const plan = planRestoreOrder([
    ...(options.authUsers ? [{ name: AUTH_USERS, references: [] }] : []),
    ...tables.map((t) => ({
      name: qualifiedName(t),
      references: foreignKeys.get(qualifiedName(t))!.map((f) => `${f.referencedSchema}.${f.referencedTable}`),
    })),
  ])

  const { id, key, encrypted, writer, upload } = await startArchiveUpload({
    store: deps.store,
    started,
    tempDir: deps.tempDir,
    gzipLevel: options.gzipLevel,
    encrypt: deps.encrypt,
  })
  try {
    deps.emit({
      type: 'step',
      message: `backing up ${plural(plan.order.length, 'table')} through the API to ${deps.store.locate(key)}`,
    })

    const entries: RestTableEntry[] = []
    for (const [index, name] of plan.order.entries()) {
      const began = Date.now()
      deps.emit({ type: 'table-start', table: name, index, total: plan.order.length })
      const entry =
        name === AUTH_USERS
          ? await backUpAuthUsers(deps, writer, options)
          : await backUpTable(deps, writer, names.get(name)!, foreignKeys.get(name)!, options, warn)
      writer.add(entry.file)
      entries.push(entry)
      deps.emit({
        type: 'table-done',
        table: name,
        rows: entry.rows,
        bytes: entry.bytes,
        seconds: (Date.now() - began) / 1000,
      })
    }
    if (entries.length > 0) {
      deps.emit({
        type: 'step',
        message:
          'sequence values are not visible through the API: after a restore, advance them (docs/api-mode.md)',
      })
    }

    const finished = deps.now()
    const apiUrl = new URL(deps.client.url)
    const manifest: RestManifest = {
      format: FORMAT_VERSION,
      id,
      tool: { name: 'lifeboat', version: TOOL_VERSION },
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      source: {
        kind: 'rest',
        // The API does not tell the server's version or the database's name.
        serverVersion: 'unknown',
        database: supabaseProjectRef(apiUrl.hostname) ?? apiUrl.hostname,
        host: apiUrl.host,
        snapshot: null,
        consistent: false,
        api: apiUrl.origin,
        window: { from: started.toISOString(), to: finished.toISOString() },
      },
      compression: { method: 'gzip', level: options.gzipLevel },
      encrypted,
      schemaSql: null,
      tables: entries,
      sequences: [],
      restoreOrder: plan.order,
      totals: totalsOf(entries),
    }
    const { sidecar, archive } = await sealArchive({ writer, upload, store: deps.store, key, manifest })
    return {
      id,
      key,
      location: deps.store.locate(key),
      manifest: sidecar,
      archiveBytes: archive.bytes,
      seconds: (deps.now().getTime() - started.getTime()) / 1000,
      warnings,
      requests: deps.stats?.requests ?? 0,
      retries: deps.stats?.retries ?? 0,
    }
  } catch (error) {
    writer.abort(error as Error)
    throw error
  } finally {
    await writer.dispose()
  }
}

/** The exposed, insertable tables of the selected schemas that the selection keeps. */
export async function discoverTables(
  client: RestClient,
  options: Pick<RestBackupOptions, 'schemas' | 'selection'>,
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

async function backUpTable(
  deps: RestBackupDeps,
  writer: ArchiveWriter,
  table: RestTable,
  foreignKeys: ForeignKeyInfo[],
  options: RestBackupOptions,
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

async function backUpAuthUsers(
  deps: RestBackupDeps,
  writer: ArchiveWriter,
  options: RestBackupOptions,
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
