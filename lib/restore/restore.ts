// The restore: verify the whole archive first (pass 1, nothing written), check the
// target (production, schema, emptiness, subset parents), then load everything in
// ONE transaction (pass 2) and prove it by re-export before COMMIT. Any failure
// rolls back: the target is exactly as it was.
import { createHash } from 'node:crypto'
import { type Transform, Writable } from 'node:stream'
import type pg from 'pg'
import {
  assertNotTransactionPooler,
  connect,
  describeConnection,
  PINNED_SESSION_SETTINGS,
  queryError,
  quoteQualified,
} from '../adapters/postgres/connection.ts'
import { exportTable } from '../adapters/postgres/export-table.ts'
import { loadTable } from '../adapters/postgres/load-table.ts'
import {
  findForeignKeyViolations,
  foreignKeyOids,
  readTargetInfo,
  readTargetState,
  readUserTriggers,
  triggerStatements,
} from '../adapters/postgres/target.ts'
import {
  type ArchiveSourceDeps,
  fetchArchive,
  type LocalArchive,
  openArchive,
  verifyFetchedArchive,
} from '../archive/fetch.ts'
import { type Manifest, qualifiedName, type SequenceEntry, type TableEntry } from '../archive/manifest.ts'
import { readArchive } from '../archive/reader.ts'
import { splitSchemaSql } from '../archive/schema-sql.ts'
import { isLifeboatError, LifeboatError, toLifeboatError } from '../core/errors.ts'
import type { Secret } from '../core/secret.ts'
import type { Selection } from '../core/selection.ts'
import { assertTargetAllowed, type Endpoint, productionReasons } from './production-guard.ts'
import { selectArchiveTables, sequencesToRestore } from './subset.ts'
import {
  assertCreatable,
  assertParentsPresent,
  assertSchemaCompatible,
  assertTargetEmpty,
  checkSchema,
  missingParents,
  type TargetState,
} from './target-checks.ts'

export interface RestoreDeps extends ArchiveSourceDeps {
  /** age decryption of the archive stream; throws DECRYPT_FAILED when no identity is configured. */
  decrypt: (name: string) => Transform
}

export interface RestoreOptions {
  /** A local path, `s3://` URL or key, `latest`, `YYYY-MM-DD` or a backup id. */
  what: string
  target: Secret
  /** Where the target came from, for messages (`TARGET_DATABASE_URL`). */
  targetSetting: string
  createSchema: boolean
  truncate: boolean
  /** The target's database name, required when the target looks like production. */
  confirm?: string | undefined
  /** -n/-t subset; undefined restores every table of the archive. */
  selection?: Selection | undefined
  /** Re-export every restored table and compare with the manifest before COMMIT (default on). */
  verify: boolean
  /** The source databases the environment names (DATABASE_URL, SUPABASE_DB_URL). */
  production: readonly { setting: string; url: Secret }[]
}

export interface TableOutcome {
  table: string
  rowsExpected: number
  rowsLoaded: number
  bytes: number
  loadSeconds: number
  /** The after-load re-export; absent with --no-verify. */
  rowsRestored?: number
  sha256Match?: boolean
}

/** How user triggers were kept from rewriting restored rows (see docs/restore.md). */
export type TriggerMode = 'replica' | 'per-trigger'

export interface RestoreResult {
  id: string
  source: string
  target: { host: string; port: number; database: string }
  tables: TableOutcome[]
  sequences: number
  triggerMode: TriggerMode
  schemaCreated: boolean
  truncated: boolean
  verified: boolean
  rows: number
  archiveBytes: number
  /** Temporary disk the restore used: the downloaded archive (0 for a local file). */
  tempBytes: number
  seconds: { download: number; verifyArchive: number; load: number; verifyTables: number; total: number }
  warnings: string[]
}

export async function runRestore(deps: RestoreDeps, options: RestoreOptions): Promise<RestoreResult> {
  const began = performance.now()
  assertNotTransactionPooler(options.target, options.targetSetting)
  const address = describeConnection(options.target)
  const environment = options.production.flatMap(({ setting, url }) => {
    try {
      const { host, port, database, user } = describeConnection(url)
      return [{ setting, endpoint: { host, port, database, user } }]
    } catch {
      return []
    }
  })
  const client = await connect(options.target, {
    applicationName: 'lifeboat restore',
    settings: PINNED_SESSION_SETTINGS,
  })
  let archive: LocalArchive | undefined
  try {
    const info = await readTargetInfo(client)
    const target: Endpoint = {
      host: address.host,
      port: address.port,
      database: info.database,
      user: address.user,
    }
    // Refuse a protected target before spending time on the download.
    assertTargetAllowed(
      productionReasons({ target, marker: info.marker, environment }),
      info.database,
      options.confirm,
    )

    archive = await fetchArchive(deps, options.what)
    const sourceOf = (m: Manifest) => ({ host: m.source.host, database: m.source.database })
    if (archive.expected) {
      // A stored backup's sidecar names its source: refuse before verifying the whole archive.
      const backupSource = sourceOf(archive.expected)
      assertTargetAllowed(
        productionReasons({ target, marker: info.marker, environment, backupSource }),
        info.database,
        options.confirm,
      )
    }
    const transforms = () => (archive!.encrypted ? [deps.decrypt(archive!.where)] : [])

    const verifyBegan = performance.now()
    const manifest = await verifyFetchedArchive(archive, deps.decrypt, deps.emit)
    const verifySeconds = (performance.now() - verifyBegan) / 1000

    const backupSource = sourceOf(manifest)
    assertTargetAllowed(
      productionReasons({ target, marker: info.marker, environment, backupSource }),
      info.database,
      options.confirm,
    )

    const tables = selectArchiveTables(manifest, options.selection)
    const sequences = sequencesToRestore(manifest, tables)
    const parents = tables.flatMap((t) =>
      t.foreignKeys.map((f) => `${f.referencedSchema}.${f.referencedTable}`),
    )
    const state = await readTargetState(
      client,
      [...new Set([...manifest.tables.map(qualifiedName), ...parents])],
      sequences.map(qualifiedName),
    )
    if (options.createSchema) assertCreatable(manifest, state)
    else {
      assertSchemaCompatible(
        checkSchema(tables, sequences, state, { typeModifiersUnknown: manifest.source.kind === 'rest' }),
      )
      assertTargetEmpty(tables, state, options.truncate)
    }
    assertParentsPresent(missingParents(tables, state))

    const warnings: string[] = []
    if (!manifest.source.consistent) warnings.push('this backup was not taken from one snapshot (REST mode)')
    for (const warning of warnings) deps.emit({ type: 'warning', message: warning })

    const loadBegan = performance.now()
    const loaded = await loadInTransaction(client, deps, {
      archive,
      transforms,
      manifest,
      tables,
      sequences,
      state,
      createSchema: options.createSchema,
      truncate: options.truncate && !options.createSchema,
      verify: options.verify,
    })
    const loadSeconds = (performance.now() - loadBegan) / 1000 - loaded.verifySeconds
    return {
      id: manifest.id,
      source: archive.where,
      target: { host: address.host, port: address.port, database: info.database },
      tables: loaded.outcomes,
      sequences: sequences.length,
      triggerMode: loaded.mode,
      schemaCreated: options.createSchema,
      truncated: options.truncate && !options.createSchema,
      verified: options.verify,
      rows: loaded.outcomes.reduce((n, t) => n + t.rowsLoaded, 0),
      archiveBytes: archive.bytes,
      tempBytes: archive.tempBytes,
      seconds: {
        download: archive.downloadSeconds,
        verifyArchive: verifySeconds,
        load: loadSeconds,
        verifyTables: loaded.verifySeconds,
        total: (performance.now() - began) / 1000,
      },
      warnings,
    }
  } finally {
    await archive?.dispose()
    await client.end().catch(() => undefined)
  }
}

interface LoadPlan {
  archive: LocalArchive
  transforms: () => Transform[]
  manifest: Manifest
  tables: TableEntry[]
  sequences: SequenceEntry[]
  state: TargetState
  createSchema: boolean
  truncate: boolean
  verify: boolean
}

/** Pass 2: the whole load in one transaction; COMMIT only after every check passed. */
async function loadInTransaction(
  client: pg.Client,
  deps: RestoreDeps,
  plan: LoadPlan,
): Promise<{ outcomes: TableOutcome[]; mode: TriggerMode; verifySeconds: number }> {
  const names = plan.tables.map(qualifiedName)
  const byFile = new Map(plan.tables.map((t) => [t.file, t]))
  const outcomes = new Map<string, TableOutcome>()
  let step = 'starting the transaction'
  let prepared: { mode: TriggerMode; restoreTriggers: string[] } | undefined
  let postData = ''
  let committing = false
  let verifySeconds = 0
  const undo: SequenceEntry[] = []

  const run = async (sql: string, what: string) => {
    try {
      await client.query(sql)
    } catch (error) {
      // The server's detail names the object at fault (`Table "devices" references "buildings".`).
      const e = error as Error & { detail?: string }
      if (e.detail) e.message = `${e.message} (${e.detail})`
      throw queryError(e, what)
    }
  }

  /** Switch user triggers off, replace rows if asked: once the tables exist. */
  const prepare = async () => {
    if (plan.createSchema) {
      // Sanity: the tables schema.sql just built must take the archive's rows.
      const built = await readTargetState(client, names, plan.sequences.map(qualifiedName))
      assertSchemaCompatible(checkSchema(plan.tables, plan.sequences, built))
    }
    step = 'switching off triggers'
    const mode = await switchOffTriggerChecks(client)
    const triggers = (await readUserTriggers(client, names)).filter(
      (t) => mode === 'per-trigger' || t.enabled !== 'O',
    )
    const statements = triggerStatements(triggers)
    for (const [i, sql] of statements.disable.entries()) {
      const t = triggers[i]!
      try {
        await client.query(sql)
      } catch (error) {
        throw new LifeboatError(
          'DB_PERMISSION',
          `cannot switch off trigger ${t.name} on ${t.schema}.${t.table}: ${(error as Error).message}; restore as the table owner, or as a role allowed to SET session_replication_role (a superuser, Supabase's postgres)`,
          { cause: error },
        )
      }
    }
    if (plan.truncate) {
      step = 'emptying the restored tables (--truncate)'
      const list = plan.tables.map(
        (t) => `${t.kind === 'p' ? '' : 'ONLY '}${quoteQualified(t.schema, t.name)}`,
      )
      await run(`TRUNCATE ${list.join(', ')}`, 'TRUNCATE of the restored tables')
    }
    prepared = { mode, restoreTriggers: statements.restore }
  }

  await run('BEGIN', 'starting the restore transaction')
  try {
    if (!plan.createSchema) await prepare()
    let index = 0
    await readArchive(
      openArchive(plan.archive),
      async (entry) => {
        // roles.sql precedes schema.sql in the archive: the roles schema.sql names exist first.
        if (entry.path === 'roles.sql' && plan.createSchema && plan.manifest.roles?.file) {
          step = 'applying roles.sql'
          deps.emit({ type: 'step', message: 'creating the roles the schema names (roles.sql)' })
          await run(
            await readVerifiedText(entry.stream, plan.manifest.roles.file.sha256, 'roles.sql'),
            'applying roles.sql',
          )
          return
        }
        if (entry.path === 'schema.sql' && plan.createSchema) {
          step = 'applying schema.sql'
          const parts = splitSchemaSql(await readSchemaSql(entry.stream, plan.manifest))
          deps.emit({ type: 'step', message: 'creating the schema (schema.sql)' })
          const xid = await currentXid(client)
          await run(parts.preData, 'applying schema.sql')
          if ((await currentXid(client)) !== xid) {
            throw new LifeboatError('RESTORE_FAILED', 'schema.sql ended the restore transaction')
          }
          postData = parts.postData
          await prepare()
          return
        }
        const table = byFile.get(entry.path)
        if (!table) return
        if (!prepared) {
          throw new LifeboatError('ARCHIVE_FORMAT', `${entry.path} comes before schema.sql in the archive`)
        }
        const name = qualifiedName(table)
        step = `loading ${name}`
        deps.emit({ type: 'table-start', table: name, index: index++, total: plan.tables.length })
        const started = performance.now()
        const stats = await loadTable(client, table, entry.stream, (rows, bytes) =>
          deps.emit({ type: 'table-progress', table: name, rows, bytes }),
        )
        const seconds = (performance.now() - started) / 1000
        deps.emit({ type: 'table-done', table: name, rows: stats.rows, bytes: stats.bytes, seconds })
        outcomes.set(name, {
          table: name,
          rowsExpected: table.rows,
          rowsLoaded: stats.rows,
          bytes: stats.bytes,
          loadSeconds: seconds,
        })
      },
      { where: plan.archive.where, transforms: plan.transforms() },
    )
    step = 'finishing the load'
    if (!prepared) await prepare()
    const missing = names.filter((n) => !outcomes.has(n))
    if (missing.length > 0)
      throw new LifeboatError('RESTORE_FAILED', `no data file was read for ${missing.join(', ')}`)

    // Keys that post-data adds are checked row by row by ADD CONSTRAINT itself.
    let validated = new Set<number>()
    if (postData.trim() !== '') {
      step = 'applying schema.sql (indexes, constraints, triggers)'
      deps.emit({ type: 'step', message: 'building indexes and constraints (schema.sql, post-data)' })
      const before = await foreignKeyOids(client, names)
      await run(postData, 'applying the post-data part of schema.sql')
      validated = new Set([...(await foreignKeyOids(client, names))].filter((oid) => !before.has(oid)))
    }

    step = 'checking foreign keys'
    deps.emit({ type: 'step', message: 'checking foreign keys' })
    const violations = await findForeignKeyViolations(client, names, validated)
    if (violations.length > 0) {
      const lines = violations.map(
        (v) =>
          `${v.table}: ${v.rows} row${v.rows === 1 ? '' : 's'} violate ${v.constraint} (references ${v.references})`,
      )
      throw new LifeboatError('RESTORE_FAILED', `foreign keys do not hold: ${lines.join('; ')}`, {
        details: lines,
      })
    }

    if (prepared!.mode === 'per-trigger') {
      // Deferred foreign-key checks run now (naming any violation), and a table with
      // pending trigger events could not be ALTERed to switch its triggers back on.
      step = 'checking deferred constraints'
      await run('SET CONSTRAINTS ALL IMMEDIATE', 'checking deferred constraints')
    }
    step = 'switching triggers back on'
    for (const sql of prepared!.restoreTriggers) await run(sql, 'switching triggers back on')

    if (plan.verify) {
      step = 'verifying the restored tables'
      const verifyBegan = performance.now()
      await verifyRestoredTables(client, deps, plan, outcomes)
      verifySeconds = (performance.now() - verifyBegan) / 1000
    }

    // Last before COMMIT: a sequence the role cannot ALTER is set non-transactionally.
    step = 'setting sequences'
    await setSequences(client, plan.sequences, undo)

    step = 'committing'
    committing = true
    await run('COMMIT', 'committing the restore')
    return { outcomes: names.map((n) => outcomes.get(n)!), mode: prepared!.mode, verifySeconds }
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    for (const s of undo) {
      await client
        .query('SELECT pg_catalog.setval($1::regclass, $2::bigint, $3)', [
          quoteQualified(s.schema, s.name),
          s.lastValue,
          s.isCalled,
        ])
        .catch(() => undefined)
    }
    if (
      prepared?.mode === 'per-trigger' &&
      (error as { cause?: { code?: string } }).cause?.code === '23503'
    ) {
      throw rolledBack(error, step, committing, PER_TRIGGER_FK_HINT)
    }
    throw rolledBack(error, step, committing)
  }
}

const PER_TRIGGER_FK_HINT =
  'this role may not SET session_replication_role, so foreign keys are checked while loading: a cycle needs DEFERRABLE constraints; restore as a superuser or Supabase’s postgres role instead'

/**
 * setval() is not transactional: a ROLLBACK keeps its value. `ALTER SEQUENCE …
 * RESTART` first gives the sequence new storage inside the transaction, and a
 * setval() on that storage is rolled back with it. ALTER needs the sequence's
 * owner; otherwise the old value goes to `undo`, to be put back if COMMIT fails.
 */
async function setSequences(
  client: pg.Client,
  sequences: readonly SequenceEntry[],
  undo: SequenceEntry[],
): Promise<void> {
  for (const s of sequences) {
    const name = quoteQualified(s.schema, s.name)
    try {
      await client.query('SAVEPOINT lifeboat_sequence')
      try {
        await client.query(`ALTER SEQUENCE ${name} RESTART`)
        await client.query('RELEASE SAVEPOINT lifeboat_sequence')
      } catch (error) {
        if ((error as { code?: string }).code !== '42501') throw error
        await client.query('ROLLBACK TO SAVEPOINT lifeboat_sequence')
        const old = await client.query<{ last: string; called: boolean }>(
          `SELECT last_value::text AS last, is_called AS called FROM ${name}`,
        )
        undo.push({
          schema: s.schema,
          name: s.name,
          lastValue: old.rows[0]!.last,
          isCalled: old.rows[0]!.called,
        })
      }
      await client.query('SELECT pg_catalog.setval($1::regclass, $2::bigint, $3)', [
        name,
        s.lastValue,
        s.isCalled,
      ])
    } catch (error) {
      throw queryError(error, `setting sequence ${qualifiedName(s)}`)
    }
  }
}

/**
 * `session_replication_role = replica` keeps ordinary user triggers and the
 * foreign-key triggers from firing, as pg_dump --disable-triggers does; it needs a
 * superuser (or Supabase's postgres role). Without it, each user trigger is switched
 * off by name (table owner) and deferrable constraints are deferred to COMMIT.
 */
async function switchOffTriggerChecks(client: pg.Client): Promise<TriggerMode> {
  await client.query('SAVEPOINT lifeboat_replica')
  try {
    await client.query('SET LOCAL session_replication_role = replica')
    await client.query('RELEASE SAVEPOINT lifeboat_replica')
    return 'replica'
  } catch (error) {
    if ((error as { code?: string }).code !== '42501') throw queryError(error, 'switching off triggers')
    await client.query('ROLLBACK TO SAVEPOINT lifeboat_replica')
    await client.query('SET CONSTRAINTS ALL DEFERRED')
    return 'per-trigger'
  }
}

async function currentXid(client: pg.Client): Promise<string> {
  return (await client.query<{ x: string }>('SELECT pg_catalog.txid_current()::text AS x')).rows[0]!.x
}

async function readSchemaSql(stream: NodeJS.ReadableStream, manifest: Manifest): Promise<string> {
  return readVerifiedText(stream, manifest.schemaSql?.sha256, 'schema.sql')
}

async function readVerifiedText(
  stream: NodeJS.ReadableStream,
  sha256: string | undefined,
  name: string,
): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk)
  const text = Buffer.concat(chunks)
  if (createHash('sha256').update(text).digest('hex') !== sha256) {
    throw new LifeboatError('RESTORE_FAILED', `${name} changed since it was verified`)
  }
  return text.toString('utf8')
}

/** Re-exports each restored table the way the backup exported it and compares with the manifest. */
async function verifyRestoredTables(
  client: pg.Client,
  deps: RestoreDeps,
  plan: LoadPlan,
  outcomes: Map<string, TableOutcome>,
): Promise<void> {
  deps.emit({
    type: 'step',
    message: `verifying ${plan.tables.length} restored tables (re-export and sha256)`,
  })
  const now = await readTargetState(client, plan.tables.map(qualifiedName), [])
  const failures: string[] = []
  for (const table of plan.tables) {
    const name = qualifiedName(table)
    const columns = now.tables.get(name)?.columns ?? []
    const collatable = new Set(columns.filter((c) => c.collatable).map((c) => c.name))
    const textCast = new Set(columns.filter((c) => c.textCast).map((c) => c.name))
    const padded = new Set(columns.filter((c) => c.padded).map((c) => c.name))
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() })
    const stats = await exportTable(client, { ...table, collatable, textCast, padded }, sink)
    const outcome = outcomes.get(name)!
    outcome.rowsRestored = stats.rows
    outcome.sha256Match = stats.sha256 === table.sha256
    if (stats.rows !== table.rows || !outcome.sha256Match) {
      failures.push(
        `${name}: ${stats.rows} rows restored (${table.rows} in the backup), sha256 ${outcome.sha256Match ? 'matches' : 'differs'}`,
      )
    }
  }
  if (failures.length > 0) {
    throw new LifeboatError(
      'RESTORE_FAILED',
      `${failures.length} restored table${failures.length === 1 ? '' : 's'} differ from the backup: ${failures.join('; ')}`,
      { details: failures },
    )
  }
}

/** Every failure inside the transaction becomes RESTORE_FAILED, saying what was rolled back. */
function rolledBack(error: unknown, step: string, committing: boolean, hint?: string): LifeboatError {
  const cause = toLifeboatError(error)
  const lost = cause.code === 'DB_UNREACHABLE'
  if (committing && lost) {
    return new LifeboatError(
      'RESTORE_FAILED',
      `the connection was lost while committing; the server either committed the whole restore or nothing: check the target before retrying (${cause.message})`,
      { cause: error, details: cause.details },
    )
  }
  const why = lost ? 'the server rolled the transaction back' : 'rolled back'
  const code =
    isLifeboatError(error) && error.code !== 'RESTORE_FAILED' && error.code !== 'INTERNAL'
      ? ` [${error.code}]`
      : ''
  return new LifeboatError(
    'RESTORE_FAILED',
    `${step} failed${code}, ${why}; the target is unchanged: ${cause.message}${hint ? ` (${hint})` : ''}`,
    { cause: error, details: cause.details },
  )
}
