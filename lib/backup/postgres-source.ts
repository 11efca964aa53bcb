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
  joinSnapshot,
  PINNED_SESSION_SETTINGS,
  queryError,
  quoteQualified,
  sessionTimeouts,
} from '../adapters/postgres/connection.ts'
import type { StructureCapture } from '../archive/access.ts'
import { type Manifest, qualifiedName } from '../archive/manifest.ts'
import { planRestoreOrder } from '../archive/restore-order.ts'
import type { ArchiveWriter, TextEntries } from '../archive/writer.ts'
import type { PhaseScope } from '../core/pipeline.ts'
import type { Secret } from '../core/secret.ts'
import type { Selection } from '../core/selection.ts'
import { readServerIdentity, type ServerIdentity } from '../trust/server-identity.ts'
import {
  type BackupDeps,
  type BackupSource,
  type BackupSummary,
  backupFrom,
  type SchemaPart,
  type SourcePlan,
} from './backup.ts'
import { exportTables } from './export-tables.ts'
import { readMigrationLedgers } from './migration-ledgers.ts'
import { nothingSelected } from './selection-check.ts'

export interface SchemaSqlResult {
  sql: string
  source: string
  warnings: string[]
  /** Access data, roles.sql and the manifest's schema notes (absent from generators that have none). */
  capture?: StructureCapture
}

export type GenerateSchemaSql = (
  client: pg.ClientBase,
  options: {
    schemas: string[]
    /** Only when tables were selected by name: the DDL then covers just them. */
    tables?: string[]
    /** -T patterns: those tables are left out of the DDL too. */
    excludeTables?: string[]
    snapshot: string
    connection: { url: Secret; serverVersionNum: number }
    /** Once the catalogs are read: the export may start beside pg_dump. */
    onCatalogsRead?: () => void
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
  /** The job's deadline: the server ends this backup's statements and idle snapshot by then too. */
  deadlineMs?: number | undefined
}

export class PostgresSource implements BackupSource {
  readonly kind = 'postgres'
  readonly #options: PostgresSourceOptions
  #leader: pg.Client | undefined
  readonly #workers: pg.Client[] = []
  /** The schema step's connection, while it reads (beside the export's). */
  #schemaReader: pg.Client | undefined
  #snapshot = ''
  #catalog: Catalog | undefined
  #identity: ServerIdentity | undefined
  #ledgers: NonNullable<Manifest['source']['migrations']> = []
  /** The catalog's tables in restore order. */
  #ordered: Catalog['tables'] = []
  readonly #settings: Readonly<Record<string, string>>

  constructor(options: PostgresSourceOptions) {
    assertNotTransactionPooler(options.source, options.sourceSetting)
    this.#options = options
    this.#settings = { ...PINNED_SESSION_SETTINGS, ...sessionTimeouts(options.deadlineMs) }
  }

  async open(scope: PhaseScope): Promise<SourcePlan> {
    // An interrupt drops the connections: every query and COPY in flight ends at once.
    scope.signal.addEventListener('abort', () => this.#dropConnections(), { once: true })
    const leader = await connect(this.#options.source, {
      applicationName: 'lifeboat backup',
      settings: this.#settings,
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
    // As pg_dump -t: no backup at all rather than an empty one that looks complete.
    if (catalog.tables.length === 0) {
      const where = describeConnection(this.#options.source)
      throw nothingSelected(this.#options.selection, `database ${catalog.database || where.database}`)
    }
    await this.#lockTables()
    this.#ledgers = await readMigrationLedgers(leader, catalog.tables.map(qualifiedName), (message) =>
      scope.emit({ type: 'warning', message }),
    )
    const plan = planRestoreOrder(
      catalog.tables.map((t) => ({
        name: qualifiedName(t),
        references: t.foreignKeys.map((f) => `${f.referencedSchema}.${f.referencedTable}`),
      })),
    )
    const byName = new Map(catalog.tables.map((t) => [qualifiedName(t), t]))
    this.#ordered = plan.order.map((name) => byName.get(name)!)
    return {
      restoreOrder: plan.order,
      sequences: catalog.sequences,
      estimatedBytes: catalog.tables.reduce((sum, t) => sum + t.estimatedBytes, 0),
    }
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

  /**
   * roles.sql first (the restore applies it before anything), then schema.sql. Runs while
   * the leader exports, so it reads the catalogs on a connection of its own in the same
   * snapshot (pg_dump, which it runs, joins the snapshot too).
   */
  async writeSchema(
    entries: TextEntries,
    warn: (message: string) => void,
    readsDone: () => void = () => undefined,
  ): Promise<SchemaPart> {
    const generate = this.#options.generateSchemaSql
    if (!generate) {
      warn('schema.sql was not produced (no schema generator configured)')
      return { schemaSql: null }
    }
    const { selection, source } = this.#options
    const catalog = this.#catalog!
    try {
      const reader = await this.#openSchemaReader()
      const result = await generate(reader, {
        schemas: catalog.schemas,
        // -t: the named tables and what they need; -T: everything but those tables.
        ...(selection.tables.length > 0 ? { tables: catalog.tables.map(qualifiedName) } : {}),
        ...(selection.tables.length === 0 && selection.excludeTables.length > 0
          ? { excludeTables: selection.excludeTables }
          : {}),
        snapshot: this.#snapshot,
        connection: { url: source, serverVersionNum: catalog.serverVersionNum },
        onCatalogsRead: readsDone,
      })
      for (const w of result.warnings) warn(`schema.sql: ${w}`)
      // Given back at once: a project's connection slots are few, and the export goes on.
      this.#schemaReader = undefined
      await reader.end().catch(() => undefined)
      return await writeStructure(entries, result)
    } catch (error) {
      // The data is still worth keeping: restore into an existing schema needs no DDL.
      warn(`schema.sql was not produced: ${(error as Error).message}`)
      return { schemaSql: null }
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
        settings: this.#settings,
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
      ...(this.#ledgers.length > 0 ? { migrations: this.#ledgers } : {}),
    }
  }

  /** A connection of its own in the leader's snapshot; ended with the others (close) if not before. */
  async #openSchemaReader(): Promise<pg.Client> {
    const client = await connect(this.#options.source, {
      applicationName: 'lifeboat backup schema',
      settings: this.#settings,
    })
    this.#schemaReader = client
    await joinSnapshot(client, this.#snapshot).catch((error) => {
      throw queryError(error, 'joining the snapshot to read the schema')
    })
    return client
  }

  snapshotClient(): pg.ClientBase | undefined {
    return this.#leader
  }

  async finish(): Promise<void> {
    await this.#leader!.query('COMMIT')
  }

  async close(): Promise<void> {
    await Promise.all(this.#connections().map((c) => c.end().catch(() => undefined)))
  }

  #connections(): pg.Client[] {
    return [this.#schemaReader, ...this.#workers, this.#leader].filter((c) => c !== undefined)
  }

  #dropConnections(): void {
    for (const client of this.#connections()) {
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
  const source = new PostgresSource({
    ...options,
    generateSchemaSql: deps.generateSchemaSql,
    deadlineMs: deps.deadlineMs,
  })
  return backupFrom(deps, source, { gzipLevel: options.gzipLevel })
}

function recordedIdentity(identity: ServerIdentity): NonNullable<Manifest['source']['identity']> {
  const { systemIdentifier, startedAt, database, databaseOid } = identity
  return { systemIdentifier, startedAt, database, databaseOid }
}

const sha256Of = (text: string) => createHash('sha256').update(text).digest('hex')

/** roles.sql (when the generator captured access) before schema.sql, and their manifest fields. */
async function writeStructure(entries: TextEntries, result: SchemaSqlResult): Promise<SchemaPart> {
  const capture = result.capture
  if (capture) await entries.addText('roles.sql', capture.rolesSql)
  await entries.addText('schema.sql', result.sql)
  const file = { sha256: sha256Of(result.sql), bytes: Buffer.byteLength(result.sql) }
  const schemaSql = { file: 'schema.sql' as const, source: result.source, ...file, ...capture?.schema }
  if (!capture) return { schemaSql }
  const rolesFile = {
    name: 'roles.sql' as const,
    sha256: sha256Of(capture.rolesSql),
    bytes: Buffer.byteLength(capture.rolesSql),
  }
  return { schemaSql, access: capture.access, roles: { ...capture.roles, file: rolesFile } }
}
