// The backup: one snapshot of the selected tables, streamed into an archive (format
// v1) and uploaded; the sidecar manifest is written last, so only a complete archive
// ever looks complete.
import { createHash } from 'node:crypto'
import type { Transform } from 'node:stream'
import type pg from 'pg'
import { type CatalogTable, readCatalog } from '../adapters/postgres/catalog.ts'
import {
  assertNotTransactionPooler,
  connect,
  describeConnection,
  PINNED_SESSION_SETTINGS,
  queryError,
  quoteQualified,
} from '../adapters/postgres/connection.ts'
import type { Store } from '../adapters/store/store.ts'
import { FORMAT_VERSION, type Manifest, qualifiedName } from '../archive/manifest.ts'
import { planRestoreOrder } from '../archive/restore-order.ts'
import { sealArchive, startArchiveUpload, totalsOf } from '../archive/upload.ts'
import type { ArchiveWriter } from '../archive/writer.ts'
import type { EmitEvent } from '../core/events.ts'
import type { Secret } from '../core/secret.ts'
import type { Selection } from '../core/selection.ts'
import { TOOL_VERSION } from '../core/version.ts'
import { exportTables } from './export-tables.ts'

export interface SchemaSqlResult {
  sql: string
  source: string
  warnings: string[]
}

export type GenerateSchemaSql = (
  client: pg.ClientBase,
  options: {
    schemas: string[]
    /** Only when tables were selected by name: the DDL then covers just them. */
    tables?: string[]
    snapshot: string
    connection: { url: Secret; serverVersionNum: number }
  },
) => Promise<SchemaSqlResult>

export interface BackupDeps {
  store: Store
  emit: EmitEvent
  now: () => Date
  /** Where entries are spooled while the archive is written (default: the OS temp folder). */
  tempDir: string
  /** Encryption applied to the archive stream; present when recipients are configured. */
  encrypt?: () => Transform
  generateSchemaSql?: GenerateSchemaSql
}

export interface BackupOptions {
  source: Secret
  /** The setting the source came from, for messages (`DATABASE_URL`). */
  sourceSetting: string
  selection: Selection
  jobs: number
  gzipLevel: number
  /** Tables estimated larger than this are split across the jobs (default 64 MB). */
  splitMinBytes?: number
  /**
   * `key` (default): rows in key order, so a restore can prove its load by re-export.
   * `none`: rows as the server reads them (no sort on the server); only for restores
   * that prove their load by the manifest's row digests (docs/archive-format.md).
   */
  rowOrder?: 'key' | 'none'
}

export interface BackupResult {
  id: string
  key: string
  location: string
  manifest: Manifest
  archiveBytes: number
  seconds: number
  warnings: string[]
}

export async function runBackup(deps: BackupDeps, options: BackupOptions): Promise<BackupResult> {
  assertNotTransactionPooler(options.source, options.sourceSetting)
  const started = deps.now()
  const warnings: string[] = []
  const warn = (message: string) => {
    warnings.push(message)
    deps.emit({ type: 'warning', message })
  }

  const leader = await connect(options.source, {
    applicationName: 'lifeboat backup',
    settings: PINNED_SESSION_SETTINGS,
  })
  const workers: pg.Client[] = []
  try {
    // The leader's transaction holds the snapshot every table is read from.
    await leader.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY')
    const snapshot = (await leader.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]!.id
    const catalog = await readCatalog(leader, options.selection).catch((e) => {
      throw queryError(e, 'reading the catalog')
    })
    if (catalog.tables.length === 0) warn('no tables matched the selection: the backup holds no data')
    await lockTables(leader, catalog.tables)

    const plan = planRestoreOrder(
      catalog.tables.map((t) => ({
        name: qualifiedName(t),
        references: t.foreignKeys.map((f) => `${f.referencedSchema}.${f.referencedTable}`),
      })),
    )
    const byName = new Map(catalog.tables.map((t) => [qualifiedName(t), t]))
    const ordered = plan.order.map((name) => byName.get(name)!)

    const { id, key, encrypted, writer, upload } = await startArchiveUpload({
      store: deps.store,
      started,
      tempDir: deps.tempDir,
      gzipLevel: options.gzipLevel,
      encrypt: deps.encrypt,
    })
    try {
      deps.emit({ type: 'step', message: `backing up ${ordered.length} tables to ${deps.store.locate(key)}` })

      const schemaSql = await writeSchemaSql(deps, leader, writer, snapshot, catalog, options, warn)
      const tables = await exportTables(
        {
          emit: deps.emit,
          leader,
          workers,
          writer,
          snapshot,
          source: options.source,
          jobs: options.jobs,
          ordered: (options.rowOrder ?? 'key') === 'key',
          ...(options.splitMinBytes !== undefined ? { splitMinBytes: options.splitMinBytes } : {}),
        },
        ordered,
      )
      const finished = deps.now()
      const { host, database } = describeConnection(options.source)
      const manifest: Manifest = {
        format: FORMAT_VERSION,
        id,
        tool: { name: 'lifeboat', version: TOOL_VERSION },
        startedAt: started.toISOString(),
        finishedAt: finished.toISOString(),
        source: {
          kind: 'postgres',
          serverVersion: catalog.serverVersion,
          database: catalog.database || database,
          host,
          snapshot,
          consistent: true,
        },
        compression: { method: 'gzip', level: options.gzipLevel },
        encrypted,
        schemaSql,
        tables,
        sequences: catalog.sequences,
        restoreOrder: plan.order,
        totals: totalsOf(tables),
      }
      const { sidecar, archive } = await sealArchive({ writer, upload, store: deps.store, key, manifest })
      await leader.query('COMMIT')
      return {
        id,
        key,
        location: deps.store.locate(key),
        manifest: sidecar,
        archiveBytes: archive.bytes,
        seconds: (deps.now().getTime() - started.getTime()) / 1000,
        warnings,
      }
    } catch (error) {
      writer.abort(error as Error)
      throw error
    } finally {
      await writer.dispose()
    }
  } finally {
    await Promise.all([...workers, leader].map((c) => c.end().catch(() => undefined)))
  }
}

/** As pg_dump does: keep tables from being dropped or altered while they are read. */
async function lockTables(client: pg.Client, tables: readonly CatalogTable[]): Promise<void> {
  if (tables.length === 0) return
  try {
    await client.query(`SET LOCAL lock_timeout = '60s'`)
    await client.query(
      `LOCK TABLE ${tables.map((t) => quoteQualified(t.schema, t.name)).join(', ')} IN ACCESS SHARE MODE`,
    )
  } catch (error) {
    throw queryError(error, 'locking the selected tables')
  }
}

async function writeSchemaSql(
  deps: BackupDeps,
  leader: pg.Client,
  writer: ArchiveWriter,
  snapshot: string,
  catalog: Awaited<ReturnType<typeof readCatalog>>,
  { source, selection }: BackupOptions,
  warn: (message: string) => void,
): Promise<Manifest['schemaSql']> {
  if (!deps.generateSchemaSql) {
    warn('schema.sql was not produced (no schema generator configured)')
    return null
  }
  try {
    const result = await deps.generateSchemaSql(leader, {
      schemas: catalog.schemas,
      ...(selection.tables.length > 0 || selection.excludeTables.length > 0
        ? { tables: catalog.tables.map(qualifiedName) }
        : {}),
      snapshot,
      connection: { url: source, serverVersionNum: catalog.serverVersionNum },
    })
    for (const w of result.warnings) warn(`schema.sql: ${w}`)
    await writer.addText('schema.sql', result.sql)
    return {
      file: 'schema.sql',
      source: result.source,
      sha256: createHash('sha256').update(result.sql).digest('hex'),
      bytes: Buffer.byteLength(result.sql),
    }
  } catch (error) {
    // The data is still worth keeping: restore into an existing schema needs no DDL.
    warn(`schema.sql was not produced: ${(error as Error).message}`)
    return null
  }
}
