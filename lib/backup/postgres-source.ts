// A PostgreSQL database as the backup source: one snapshot (REPEATABLE READ, READ
// ONLY) that every table is read from, the tables locked as pg_dump locks them, and
// schema.sql from the same moment.
import { createHash } from 'node:crypto'
import type pg from 'pg'
import { type Catalog, readCatalog } from '../adapters/postgres/catalog.ts'
import {
  assertNotTransactionPooler,
  connect,
  describeConnection,
  PINNED_SESSION_SETTINGS,
  queryError,
  quoteQualified,
} from '../adapters/postgres/connection.ts'
import { type Manifest, qualifiedName } from '../archive/manifest.ts'
import { planRestoreOrder } from '../archive/restore-order.ts'
import type { ArchiveWriter } from '../archive/writer.ts'
import type { PhaseScope } from '../core/pipeline.ts'
import type { Secret } from '../core/secret.ts'
import type { Selection } from '../core/selection.ts'
import { readServerIdentity, type ServerIdentity } from '../trust/server-identity.ts'
import {
  type BackupDeps,
  type BackupSource,
  type BackupSummary,
  backupFrom,
  type SourcePlan,
} from './backup.ts'
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

export interface PostgresSourceOptions {
  source: Secret
  /** The setting the source came from, for messages (`DATABASE_URL`). */
  sourceSetting: string
  selection: Selection
  jobs: number
  /** Tables estimated larger than this are split across the jobs (default 64 MB). */
  splitMinBytes?: number
  /**
   * `key` (default): rows in key order, so a re-export of the restored table gives the
   * same bytes. `none`: rows as the server reads them (no sort on the server), proven
   * after a restore by the manifest's row digests (docs/archive-format.md).
   */
  rowOrder?: 'key' | 'none'
  generateSchemaSql?: GenerateSchemaSql | undefined
}

export class PostgresSource implements BackupSource {
  readonly kind = 'postgres'
  readonly #options: PostgresSourceOptions
  #leader: pg.Client | undefined
  readonly #workers: pg.Client[] = []
  #snapshot = ''
  #catalog: Catalog | undefined
  #identity: ServerIdentity | undefined
  /** The catalog's tables in restore order. */
  #ordered: Catalog['tables'] = []

  constructor(options: PostgresSourceOptions) {
    assertNotTransactionPooler(options.source, options.sourceSetting)
    this.#options = options
  }

  async open(scope: PhaseScope, warn: (message: string) => void): Promise<SourcePlan> {
    // An interrupt drops the connections: every query and COPY in flight ends at once.
    scope.signal.addEventListener('abort', () => this.#dropConnections(), { once: true })
    const leader = await connect(this.#options.source, {
      applicationName: 'lifeboat backup',
      settings: PINNED_SESSION_SETTINGS,
    })
    this.#leader = leader
    // The leader's transaction holds the snapshot every table is read from.
    await leader.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY')
    this.#snapshot = (await leader.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]!.id
    this.#identity = await readServerIdentity(leader)
    const catalog = await readCatalog(leader, this.#options.selection).catch((e) => {
      throw queryError(e, 'reading the catalog')
    })
    this.#catalog = catalog
    if (catalog.tables.length === 0) warn('no tables matched the selection: the backup holds no data')
    await this.#lockTables()
    const plan = planRestoreOrder(
      catalog.tables.map((t) => ({
        name: qualifiedName(t),
        references: t.foreignKeys.map((f) => `${f.referencedSchema}.${f.referencedTable}`),
      })),
    )
    const byName = new Map(catalog.tables.map((t) => [qualifiedName(t), t]))
    this.#ordered = plan.order.map((name) => byName.get(name)!)
    return { restoreOrder: plan.order, sequences: catalog.sequences }
  }

  /** As pg_dump does: keep tables from being dropped or altered while they are read. */
  async #lockTables(): Promise<void> {
    const tables = this.#catalog!.tables
    if (tables.length === 0) return
    try {
      await this.#leader!.query(`SET LOCAL lock_timeout = '60s'`)
      await this.#leader!.query(
        `LOCK TABLE ${tables.map((t) => quoteQualified(t.schema, t.name)).join(', ')} IN ACCESS SHARE MODE`,
      )
    } catch (error) {
      throw queryError(error, 'locking the selected tables')
    }
  }

  async writeSchema(writer: ArchiveWriter, warn: (message: string) => void): Promise<Manifest['schemaSql']> {
    const generate = this.#options.generateSchemaSql
    if (!generate) {
      warn('schema.sql was not produced (no schema generator configured)')
      return null
    }
    const { selection, source } = this.#options
    const catalog = this.#catalog!
    try {
      const result = await generate(this.#leader!, {
        schemas: catalog.schemas,
        ...(selection.tables.length > 0 || selection.excludeTables.length > 0
          ? { tables: catalog.tables.map(qualifiedName) }
          : {}),
        snapshot: this.#snapshot,
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

  async exportTables(writer: ArchiveWriter, scope: PhaseScope): Promise<Manifest['tables']> {
    const { splitMinBytes } = this.#options
    return exportTables(
      {
        emit: scope.emit,
        leader: this.#leader!,
        workers: this.#workers,
        writer,
        snapshot: this.#snapshot,
        source: this.#options.source,
        jobs: this.#options.jobs,
        ordered: (this.#options.rowOrder ?? 'key') === 'key',
        ...(splitMinBytes !== undefined ? { splitMinBytes } : {}),
      },
      this.#ordered,
    )
  }

  describe(): Manifest['source'] {
    const { host, database } = describeConnection(this.#options.source)
    const catalog = this.#catalog!
    return {
      kind: 'postgres',
      serverVersion: catalog.serverVersion,
      database: catalog.database || database,
      host,
      snapshot: this.#snapshot,
      consistent: true,
      ...(this.#identity ? { identity: recordedIdentity(this.#identity) } : {}),
    }
  }

  async finish(): Promise<void> {
    await this.#leader!.query('COMMIT')
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.#workers, ...(this.#leader ? [this.#leader] : [])].map((c) => c.end().catch(() => undefined)),
    )
  }

  #dropConnections(): void {
    for (const client of [...this.#workers, ...(this.#leader ? [this.#leader] : [])]) {
      ;(client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy()
    }
  }
}

export type BackupResult = BackupSummary

export interface PostgresBackupOptions extends Omit<PostgresSourceOptions, 'generateSchemaSql'> {
  gzipLevel: number
}

/** A backup of a PostgreSQL database (direct connection) from one snapshot. */
export async function runBackup(
  deps: BackupDeps & { generateSchemaSql?: GenerateSchemaSql },
  options: PostgresBackupOptions,
): Promise<BackupResult> {
  const source = new PostgresSource({ ...options, generateSchemaSql: deps.generateSchemaSql })
  return backupFrom(deps, source, { gzipLevel: options.gzipLevel })
}

function recordedIdentity(identity: ServerIdentity): NonNullable<Manifest['source']['identity']> {
  const { systemIdentifier, startedAt, database, databaseOid } = identity
  return { systemIdentifier, startedAt, database, databaseOid }
}
