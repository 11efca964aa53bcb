// A PostgreSQL database as the restore target: everything in ONE transaction, so any
// failure (or an interrupt) rolls back and the target is exactly as it was.
import type { Readable } from 'node:stream'
import type pg from 'pg'
import {
  assertNotTransactionPooler,
  connect,
  describeConnection,
  PINNED_SESSION_SETTINGS,
  quoteQualified,
} from '../adapters/postgres/connection.ts'
import { loadTable } from '../adapters/postgres/load-table.ts'
import {
  findForeignKeyViolations,
  foreignKeyOids,
  readTargetInfo,
  readTargetState,
  type TargetInfo,
} from '../adapters/postgres/target.ts'
import { type Manifest, qualifiedName, type SequenceEntry } from '../archive/manifest.ts'
import { LifeboatError, toLifeboatError } from '../core/errors.ts'
import type { PhaseScope } from '../core/pipeline.ts'
import type { Secret } from '../core/secret.ts'
import {
  type SchemaInspection,
  type SchemaStatement,
  TRUSTED_EXTENSIONS,
} from '../trust/schema-statements.ts'
import { openSqlParser, type SqlParser } from '../trust/sql-parser-thread.ts'
import { proveRestoredTables } from './postgres-proof.ts'
import {
  applyOptionalStatements,
  applyStatements,
  rolledBack,
  runStatement,
  setSequences,
  switchOffTriggers,
  type TriggerMode,
  type TriggersOff,
} from './postgres-steps.ts'
import {
  applyAccess,
  createOptionalExtensions,
  createRoles,
  noteNotReproduced,
  omittedByBackup,
  refreshMaterializedViews,
  type StructureReport,
  withoutExistingPublications,
} from './postgres-structure.ts'
import { assertTargetAllowed, type Endpoint, productionReasons } from './production-guard.ts'
import { readSchemaForTarget } from './schema-for-target.ts'
import { requiredStatement, truncatedTables } from './schema-selection.ts'
import type { RestorePlan, RestoreTarget, TableOutcome } from './target.ts'
import { assertEvery, assertSchemaCompatible, type Check, checkSchema } from './target-checks.ts'
import { environmentEndpoints, type IdentityGuard, identityGuard } from './target-identity.ts'
import { targetStateChecks } from './target-state-checks.ts'

export interface PostgresTargetOptions {
  url: Secret
  /** Where the target came from, for messages (`TARGET_DATABASE_URL`, `--target`). */
  setting: string
  /** The target's database name, required when the target looks like production. */
  confirm?: string | undefined
  /** The source databases the environment names (DATABASE_URL, SUPABASE_DB_URL). */
  production: readonly { setting: string; url: Secret }[]
  /**
   * The restore will parse schema.sql (--create-schema): the parser's thread starts with
   * the first guard, so its WASM loads while the target is checked and the archive fetched.
   */
  parsesSchema?: boolean
}

/** What a PostgreSQL restore adds to the summary. */
export interface PostgresReport {
  target: { host: string; port: number; database: string }
  sequences: number
  triggerMode: TriggerMode
  schemaCreated: boolean
  /** Statements of schema.sql the plan left out (a platform's own objects). */
  schemaStatementsSkipped: number
  /** --create-schema: roles created, privileges set, views refreshed, what was not reproduced. */
  structure?: StructureReport
}

/** The advisory lock key every Lifeboat restore takes in its target database ("LIFEBOAT"). */
const RESTORE_LOCK = '5497002083461579092'

export class PostgresTarget implements RestoreTarget {
  readonly kind = 'postgres'
  readonly atomic = true
  readonly description: string
  readonly #options: PostgresTargetOptions
  readonly #address: ReturnType<typeof describeConnection>
  #client: pg.Client | undefined
  #info: TargetInfo | undefined
  #identity: IdentityGuard | undefined
  /** What the transaction has done, for the error message if it has to roll back. */
  #step = 'starting the transaction'
  #began = false
  #committing = false
  #triggers: TriggersOff | undefined
  #validatedKeys = new Set<number>()
  #sequencesSet = 0
  #schemaCreated = false
  #schemaSkipped = 0
  readonly #undoSequences: SequenceEntry[] = []
  /** schema.sql parsed and checked in `check`, before anything is written. */
  #schema: SchemaInspection | undefined
  #extensions: readonly string[] = TRUSTED_EXTENSIONS
  #structure: StructureReport | undefined
  /** Started by the first guard when the restore parses schema.sql; closed after the parse. */
  #parser: SqlParser | undefined

  constructor(options: PostgresTargetOptions) {
    assertNotTransactionPooler(options.url, options.setting)
    this.#options = options
    this.#address = describeConnection(options.url)
    this.description = `${this.#address.host}:${this.#address.port}/${this.#address.database}`
  }

  get #db(): pg.Client {
    if (!this.#client) throw new LifeboatError('INTERNAL', 'the target is not connected')
    return this.#client
  }

  /** The restore's session (after `guard`), for a decorator that reads the target too. */
  get connection(): pg.ClientBase {
    return this.#db
  }

  async guard(backupSource?: Manifest['source']): Promise<void> {
    if (!this.#client) {
      if (this.#options.parsesSchema) this.#parser = openSqlParser()
      this.#client = await connect(this.#options.url, {
        applicationName: 'lifeboat restore',
        settings: PINNED_SESSION_SETTINGS,
      })
      this.#info = await readTargetInfo(this.#client)
      this.#identity = await identityGuard(this.#client, this.#options.url, this.#options.production)
    }
    const info = this.#info!
    const target: Endpoint = { ...this.#address, database: info.database }
    const environment = environmentEndpoints(this.#options.production)
    const source = backupSource ? { host: backupSource.host, database: backupSource.database } : undefined
    // What the servers say, and what the addresses say: either is reason enough.
    const reasons = [
      ...(await this.#identity!.reasons(backupSource)),
      ...productionReasons({ target, marker: info.marker, environment, backupSource: source }),
    ]
    assertTargetAllowed([...new Set(reasons)], info.database, this.#options.confirm)
  }

  async check(plan: RestorePlan): Promise<void> {
    // The parser's thread is given back before the load, whether or not it was needed.
    await this.#check(plan).finally(() => this.#closeParser())
  }

  async #check(plan: RestorePlan): Promise<void> {
    const checks: Check[] = []
    if (plan.createSchema && plan.schemaSql !== undefined) {
      const read = await readSchemaForTarget(this.#db, { ...plan, schemaSql: plan.schemaSql }, this.#parser)
      this.#schema = read.schema
      this.#schemaSkipped = read.skipped
      this.#extensions = read.extensions
      checks.push(...read.checks)
    }
    // Every reason at once, so a --dry-run (and a refused restore) names them all.
    await assertEvery([...checks, ...(await targetStateChecks(this.#db, plan))])
  }

  /** Which of the archive's tables exist and hold rows; run again once the target is locked. */
  async #checkState(plan: RestorePlan): Promise<void> {
    await assertEvery(await targetStateChecks(this.#db, plan))
  }

  async begin(plan: RestorePlan, scope: PhaseScope): Promise<void> {
    // An interrupt drops the connection: the server rolls the whole transaction back,
    // whatever statement was running (an index build, the proof's export).
    scope.signal.addEventListener('abort', () => this.#drop(), { once: true })
    await this.#run('BEGIN', 'starting the restore transaction')
    this.#began = true
    await this.#lockTarget(plan)
    const names = plan.tables.map(qualifiedName)
    if (plan.createSchema) {
      this.#step = 'creating the roles the schema names'
      this.#structure = await createRoles(this.#db, plan.manifest.roles, scope.emit)
      // What the backup's schema step could not capture is said here too, never silently lost.
      noteNotReproduced(this.#structure, omittedByBackup(plan.manifest), scope.emit)
      this.#step = 'applying schema.sql'
      scope.emit({ type: 'step', message: 'creating the schema (schema.sql)' })
      const preData = await withoutExistingPublications(this.#db, this.#schema?.preData ?? [])
      await applyStatements(this.#db, preData.filter(requiredStatement(plan)), 'schema.sql')
      this.#schemaCreated = true
      this.#step = 'creating the source’s other extensions'
      const capture = plan.manifest.schemaSql ?? undefined
      const notCreated = await createOptionalExtensions(this.#db, capture, this.#extensions)
      noteNotReproduced(this.#structure, notCreated, scope.emit)
      // Sanity: the tables schema.sql just built must take the archive's rows.
      this.#step = 'checking the tables schema.sql built'
      const built = await readTargetState(this.#db, names, plan.sequences.map(qualifiedName))
      assertSchemaCompatible(checkSchema(plan.tables, plan.sequences, built))
    }
    this.#step = 'switching off triggers'
    this.#triggers = await switchOffTriggers(this.#db, names)
    const emptied = truncatedTables(plan)
    if (emptied.length > 0) {
      this.#step = 'emptying the restored tables (--truncate)'
      const list = emptied.map((t) => `${t.kind === 'p' ? '' : 'ONLY '}${quoteQualified(t.schema, t.name)}`)
      await this.#run(`TRUNCATE ${list.join(', ')}`, 'TRUNCATE of the restored tables')
    }
  }

  readonly load = {
    table: async (entry: RestorePlan['tables'][number], data: Readable, scope: PhaseScope) => {
      const name = qualifiedName(entry)
      this.#step = `loading ${name}`
      const started = performance.now()
      const stats = await loadTable(
        this.#db,
        entry,
        data,
        (rows, bytes) => scope.emit({ type: 'table-progress', phase: 'load', table: name, rows, bytes }),
        true,
      )
      const outcome: TableOutcome = {
        table: name,
        rowsExpected: entry.rows,
        rowsLoaded: stats.rows,
        bytes: stats.bytes,
        loadSeconds: (performance.now() - started) / 1000,
      }
      // What fails before the next table starts (a download cut off) is the archive's read.
      this.#step = 'reading the archive'
      return outcome
    },
    finish: async () => {
      this.#step = 'finishing the load'
      return []
    },
  }

  async postData(plan: RestorePlan, scope: PhaseScope): Promise<void> {
    await this.#applyPostData(plan, scope)
    const structure = this.#structure!
    if (plan.manifest.access) {
      this.#step = 'making privileges the source’s'
      scope.emit({ type: 'step', message: 'setting privileges exactly as the source had them' })
      await applyAccess(this.#db, plan, this.#schema?.statements ?? [], structure, scope.emit)
    }
    this.#step = 'refreshing materialized views'
    structure.materializedViewsRefreshed = await refreshMaterializedViews(
      this.#db,
      plan.manifest.schemaSql ?? undefined,
    )
  }

  async #applyPostData(plan: RestorePlan, scope: PhaseScope): Promise<void> {
    const all = await withoutExistingPublications(this.#db, this.#schema?.postData ?? [])
    const optional = [...(this.#schema?.preData ?? []), ...all].filter(
      (s) => plan.optionalStatement?.(s) ?? false,
    )
    const postData = all.filter(requiredStatement(plan))
    if (postData.length > 0) await this.#applyRequiredPostData(plan, postData, scope)
    this.#step = 'applying what the target may refuse (policies on its own tables)'
    noteNotReproduced(this.#structure!, await applyOptionalStatements(this.#db, optional), scope.emit)
  }

  async #applyRequiredPostData(plan: RestorePlan, postData: SchemaStatement[], scope: PhaseScope) {
    this.#step = 'applying schema.sql (indexes, constraints, triggers)'
    scope.emit({ type: 'step', message: 'building indexes and constraints (schema.sql, post-data)' })
    scope.emit({ type: 'phase-start', phase: 'post-data' })
    const names = plan.tables.map(qualifiedName)
    const before = await foreignKeyOids(this.#db, names)
    await applyStatements(this.#db, postData, 'the post-data part of schema.sql')
    // Keys that post-data adds are checked row by row by ADD CONSTRAINT itself.
    this.#validatedKeys = new Set(
      [...(await foreignKeyOids(this.#db, names))].filter((oid) => !before.has(oid)),
    )
    scope.emit({ type: 'phase-done', phase: 'post-data' })
  }

  async checkConstraints(plan: RestorePlan, scope: PhaseScope): Promise<void> {
    this.#step = 'checking foreign keys'
    scope.emit({ type: 'step', message: 'checking foreign keys' })
    const violations = await findForeignKeyViolations(
      this.#db,
      plan.tables.map(qualifiedName),
      this.#validatedKeys,
    )
    if (violations.length > 0) {
      const lines = violations.map(
        (v) =>
          `${v.table}: ${v.rows} row${v.rows === 1 ? '' : 's'} violate ${v.constraint} (references ${v.references})`,
      )
      throw new LifeboatError('RESTORE_FAILED', `foreign keys do not hold: ${lines.join('; ')}`, {
        details: lines,
      })
    }
    if (this.#triggers!.mode === 'per-trigger') {
      // Deferred foreign-key checks run now (naming any violation), and a table with
      // pending trigger events could not be ALTERed to switch its triggers back on.
      this.#step = 'checking deferred constraints'
      await this.#run('SET CONSTRAINTS ALL IMMEDIATE', 'checking deferred constraints')
    }
    this.#step = 'switching triggers back on'
    for (const sql of this.#triggers!.restore) await this.#run(sql, 'switching triggers back on')
  }

  async prove(plan: RestorePlan, outcomes: Map<string, TableOutcome>, scope: PhaseScope): Promise<void> {
    this.#step = 'verifying the restored tables'
    await proveRestoredTables(this.#db, plan.tables, outcomes, scope.emit)
  }

  async setSequences(plan: RestorePlan): Promise<void> {
    this.#step = 'setting sequences'
    await setSequences(this.#db, plan.sequences, this.#undoSequences)
    this.#sequencesSet = plan.sequences.length
  }

  async commit(): Promise<void> {
    this.#step = 'committing'
    this.#committing = true
    await this.#run('COMMIT', 'committing the restore')
    this.#began = false
  }

  async rollback(error: unknown): Promise<Error> {
    if (!this.#began) return toLifeboatError(error)
    await this.#client?.query('ROLLBACK').catch(() => undefined)
    for (const s of this.#undoSequences) {
      await this.#client
        ?.query('SELECT pg_catalog.setval($1::regclass, $2::bigint, $3)', [
          quoteQualified(s.schema, s.name),
          s.lastValue,
          s.isCalled,
        ])
        .catch(() => undefined)
    }
    return rolledBack(error, this.#step, this.#committing, this.#triggers?.mode)
  }

  async close(): Promise<void> {
    await this.#closeParser()
    await this.#client?.end().catch(() => undefined)
  }

  async #closeParser(): Promise<void> {
    const parser = this.#parser
    this.#parser = undefined
    await parser?.close()
  }

  report(): PostgresReport {
    return {
      target: { host: this.#address.host, port: this.#address.port, database: this.#info?.database ?? '' },
      sequences: this.#sequencesSet,
      triggerMode: this.#triggers?.mode ?? 'replica',
      schemaCreated: this.#schemaCreated,
      schemaStatementsSkipped: this.#schemaSkipped,
      ...(this.#structure ? { structure: this.#structure } : {}),
    }
  }

  /**
   * One restore at a time per target: a transaction-scoped advisory lock, then the
   * emptiness checks again, so a restore that committed meanwhile is seen.
   */
  async #lockTarget(plan: RestorePlan): Promise<void> {
    this.#step = 'locking the target'
    const { rows } = await this.#db.query<{ locked: boolean }>(
      'SELECT pg_catalog.pg_try_advisory_xact_lock($1::bigint) AS locked',
      [RESTORE_LOCK],
    )
    if (!rows[0]!.locked) {
      throw new LifeboatError(
        'TARGET_BUSY',
        `another restore is running into ${this.#info!.database} at ${this.#address.host}:${this.#address.port}; nothing was written: wait for it to finish`,
      )
    }
    await this.#checkState(plan)
  }

  #drop(): void {
    if (this.#committing) return
    ;(
      this.#client as unknown as { connection?: { stream?: { destroy(): void } } }
    )?.connection?.stream?.destroy()
  }

  async #run(sql: string, what: string): Promise<void> {
    await runStatement(this.#db, sql, what)
  }
}

/** Kept here too: callers that knew it from this module. */
export { environmentEndpoints } from './target-identity.ts'
