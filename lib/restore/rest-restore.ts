// Restore through the API: the same archive verification as the direct restore, then
// checks of the target as the API shows it (tables, columns, emptiness), inserts in
// batches in foreign-key order, and a re-read through the API compared with the
// manifest. No transaction spans HTTP requests: on any failure Lifeboat deletes what
// it inserted (the tables were empty before) and says so; docs/api-mode.md explains.
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { StringDecoder } from 'node:string_decoder'
import { listAllUsers, userAttributes } from '../adapters/rest/auth-users.ts'
import { type RestClient, sqlStateOf } from '../adapters/rest/client.ts'
import { exportRestTable } from '../adapters/rest/export-table.ts'
import type { HttpStats } from '../adapters/rest/http.ts'
import { type RestColumn, type RestTable, usesSequence } from '../adapters/rest/openapi.ts'
import { insertBody, jsonbText, type TextRow } from '../adapters/rest/rows.ts'
import {
  type ArchiveSourceDeps,
  fetchArchive,
  type LocalArchive,
  openArchive,
  verifyFetchedArchive,
} from '../archive/fetch.ts'
import { type Manifest, qualifiedName, type TableEntry } from '../archive/manifest.ts'
import { readArchive } from '../archive/reader.ts'
import { planRestoreOrder } from '../archive/restore-order.ts'
import { LifeboatError, toLifeboatError } from '../core/errors.ts'
import { apiProductionReasons, supabaseProjectRef } from '../core/rest-config.ts'
import type { Selection } from '../core/selection.ts'
import { assertTargetAllowed } from './production-guard.ts'
import { selectArchiveTables } from './subset.ts'
import { bareTypeName } from './target-checks.ts'

export interface RestRestoreDeps extends ArchiveSourceDeps {
  client: RestClient
  decrypt: (name: string) => Transform
  stats?: HttpStats
  now?: () => Date
}

export interface RestRestoreOptions {
  what: string
  truncate: boolean
  /** The target's project ref (or host) when the target looks like production. */
  confirm?: string | undefined
  selection?: Selection | undefined
  verify: boolean
  batchSize: number
  production: readonly { setting: string; host: string; ref: string | undefined }[]
}

export interface RestTableOutcome {
  table: string
  rowsExpected: number
  rowsLoaded: number
  batches: number
  loadSeconds: number
  rowsRestored?: number
  sha256Match?: boolean
  /** GENERATED ALWAYS columns the API cannot write: left to the target, then checked. */
  generatedByTarget?: string[]
}

export interface RestRestoreResult {
  id: string
  source: string
  target: { api: string; project: string }
  tables: RestTableOutcome[]
  rows: number
  verified: boolean
  truncated: boolean
  /** SQL to run on the target afterwards (sequences): the API cannot. */
  followUpSql: string[]
  warnings: string[]
  requests: number
  retries: number
  seconds: { download: number; verifyArchive: number; load: number; verifyTables: number; total: number }
}

const AUTH_USERS = 'auth.users'

export async function runRestRestore(
  deps: RestRestoreDeps,
  options: RestRestoreOptions,
): Promise<RestRestoreResult> {
  const began = performance.now()
  const targetUrl = new URL(deps.client.url)
  const targetRef = supabaseProjectRef(targetUrl.hostname)
  const project = targetRef ?? targetUrl.host
  // Refuse a protected target before the download.
  assertTargetAllowed(
    apiProductionReasons({
      target: { host: targetUrl.host, ref: targetRef },
      backupSource: undefined,
      environment: options.production,
    }),
    project,
    options.confirm,
  )

  const archive = await fetchArchive(deps, options.what)
  const work = await mkdtemp(join(deps.tempDir, 'lifeboat-rest-restore-'))
  try {
    const transforms = () => (archive.encrypted ? [deps.decrypt(archive.where)] : [])
    const verifyBegan = performance.now()
    const manifest = await verifyFetchedArchive(archive, deps.decrypt, deps.emit)
    const verifySeconds = (performance.now() - verifyBegan) / 1000

    assertTargetAllowed(
      apiProductionReasons({
        target: { host: targetUrl.host, ref: targetRef },
        backupSource: { host: manifest.source.host, kind: manifest.source.kind },
        environment: options.production,
      }),
      project,
      options.confirm,
    )

    const tables = selectArchiveTables(manifest, options.selection)
    const warnings: string[] = []
    const warn = (message: string) => {
      warnings.push(message)
      deps.emit({ type: 'warning', message })
    }
    warn(
      'restoring through the API: no transaction spans the requests; on failure Lifeboat deletes what it inserted',
    )
    if (!manifest.source.consistent) warn('this backup was not taken from one snapshot (API-only backup)')

    deps.emit({ type: 'step', message: `checking the target ${deps.client.url}` })
    const target = await readTarget(deps.client, tables)
    checkTarget(tables, target, options.truncate)
    const users = tables.find((t) => qualifiedName(t) === AUTH_USERS)
    if (users) {
      warn(
        'auth users are recreated through the admin API: new created_at/updated_at, sessions and identities are not restored',
      )
      if (!users.columns.some((c) => c.name === 'encrypted_password')) {
        warn(
          'the backup holds no password hashes (the admin API never returns them): restored users must reset their password',
        )
      }
    }

    const loadBegan = performance.now()
    const inserted: { table: RestTable; column: string }[] = []
    const createdUsers: string[] = []
    const archivedUsers: TextRow[] = []
    const outcomes = new Map<string, RestTableOutcome>()
    let verifyTablesSeconds = 0
    try {
      if (options.truncate) await emptyTables(deps, tables, target)
      await loadArchive(
        deps,
        { archive, transforms, manifest, tables, target, options, work },
        {
          outcomes,
          inserted,
          createdUsers,
          archivedUsers,
        },
      )
      if (options.verify) {
        const verifyBegan2 = performance.now()
        await verifyRestored(deps, work, tables, target, outcomes, archivedUsers)
        verifyTablesSeconds = (performance.now() - verifyBegan2) / 1000
      }
    } catch (error) {
      throw await cleanUp(deps, error, inserted, createdUsers, options.truncate)
    }
    const loadSeconds = (performance.now() - loadBegan) / 1000 - verifyTablesSeconds
    const followUpSql = sequenceSql(manifest, tables, target)
    if (followUpSql.length > 0) {
      warn(
        `sequences cannot be set through the API: run the ${followUpSql.length} setval statements shown (SQL editor) before the application inserts rows`,
      )
    }
    return {
      id: manifest.id,
      source: archive.where,
      target: { api: targetUrl.origin, project },
      tables: tables.map((t) => outcomes.get(qualifiedName(t))!),
      rows: [...outcomes.values()].reduce((n, t) => n + t.rowsLoaded, 0),
      verified: options.verify,
      truncated: options.truncate,
      followUpSql,
      warnings,
      requests: deps.stats?.requests ?? 0,
      retries: deps.stats?.retries ?? 0,
      seconds: {
        download: archive.downloadSeconds,
        verifyArchive: verifySeconds,
        load: loadSeconds,
        verifyTables: verifyTablesSeconds,
        total: (performance.now() - began) / 1000,
      },
    }
  } finally {
    await rm(work, { recursive: true, force: true })
    await archive.dispose()
  }
}

interface TargetInfo {
  tables: Map<string, RestTable>
  /** Rows already in each table (and users for auth.users). */
  rows: Map<string, number>
}

async function readTarget(client: RestClient, tables: readonly TableEntry[]): Promise<TargetInfo> {
  const schemas = [...new Set(tables.filter((t) => qualifiedName(t) !== AUTH_USERS).map((t) => t.schema))]
  const found = new Map<string, RestTable>()
  for (const schema of schemas) {
    try {
      for (const table of await client.describe(schema)) found.set(qualifiedName(table), table)
    } catch (error) {
      const e = toLifeboatError(error)
      if (e.code === 'API_REQUEST' && /PGRST106/.test(e.message)) continue // not exposed: reported per table
      throw e
    }
  }
  const rows = new Map<string, number>()
  for (const table of tables) {
    const name = qualifiedName(table)
    if (name === AUTH_USERS) rows.set(name, (await client.listUsers(1, 1)).length)
    else if (found.has(name)) rows.set(name, await client.count(table))
  }
  return { tables: found, rows }
}

/** Types that load each other's text output unchanged, compared without modifiers or schema. */
function typesAgree(archiveType: string, targetFormat: string): boolean {
  const a = bareTypeName(archiveType)
  const b = bareTypeName(targetFormat)
  if (a === b) return true
  const family = (t: string) =>
    ['text', 'character varying', 'character', 'citext'].includes(t)
      ? 'text'
      : ['smallint', 'integer', 'bigint'].includes(t)
        ? 'integer'
        : t
  return family(a) === family(b)
}

function checkTarget(tables: readonly TableEntry[], target: TargetInfo, truncate: boolean): void {
  const problems: string[] = []
  const notEmpty: string[] = []
  for (const table of tables) {
    const name = qualifiedName(table)
    if (name === AUTH_USERS) {
      if ((target.rows.get(name) ?? 0) > 0)
        notEmpty.push(
          `${name} (users exist; --truncate never deletes users: leave them out with -T auth.users)`,
        )
      continue
    }
    const found = target.tables.get(name)
    if (!found) {
      problems.push(
        `${name}: not exposed through the API (missing, or its schema is not in the exposed schemas)`,
      )
      continue
    }
    if (!found.insertable) problems.push(`${name}: the API offers no INSERT on it (a view, or no rights)`)
    const columns = new Map(found.columns.map((c) => [c.name, c]))
    for (const column of table.columns.filter((c) => !c.generated)) {
      const other = columns.get(column.name)
      if (!other) problems.push(`${name}.${column.name}: column missing from the target`)
      else if (!typesAgree(column.type, other.format)) {
        problems.push(
          `${name}.${column.name}: type ${column.type} in the archive, ${other.format} in the target`,
        )
      }
    }
    const archived = new Set(table.columns.map((c) => c.name))
    for (const column of found.columns) {
      if (!archived.has(column.name) && !column.nullable && column.default === undefined) {
        problems.push(
          `${name}.${column.name}: NOT NULL without a default in the target, absent from the archive`,
        )
      }
    }
    if ((target.rows.get(name) ?? 0) > 0 && !truncate)
      notEmpty.push(`${name} (${target.rows.get(name)} rows)`)
  }
  if (problems.length > 0) {
    throw new LifeboatError(
      'SCHEMA_MISMATCH',
      `the target cannot take the archive's rows: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`,
      {
        details: problems,
      },
    )
  }
  if (notEmpty.length > 0) {
    throw new LifeboatError(
      'TARGET_NOT_EMPTY',
      `the target already holds rows: ${notEmpty.join(', ')}; pass --truncate to replace table rows, nothing was written`,
      {
        details: notEmpty,
      },
    )
  }
}

/** A column PostgREST can filter every row by (`not.is.null`), for deletes. */
function deleteColumn(table: RestTable): string {
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
async function emptyTables(
  deps: RestRestoreDeps,
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

async function* lines(stream: Readable): AsyncGenerator<string> {
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

interface LoadPlan {
  archive: LocalArchive
  transforms: () => Transform[]
  manifest: Manifest
  tables: readonly TableEntry[]
  target: TargetInfo
  options: RestRestoreOptions
  work: string
}

/** What the load has done so far: what verification reads and cleanup undoes. */
interface LoadState {
  outcomes: Map<string, RestTableOutcome>
  inserted: { table: RestTable; column: string }[]
  createdUsers: string[]
  archivedUsers: TextRow[]
}

/**
 * Each table's parents: the manifest's foreign keys, or, for a table the manifest has
 * none for, the single-column keys the target's API describes (names resolved among
 * the restored tables, same schema first).
 */
export function insertReferences(
  tables: readonly TableEntry[],
  target: { tables: ReadonlyMap<string, RestTable> },
) {
  const names = tables.map(qualifiedName)
  const resolve = (table: string, schema: string) =>
    names.includes(`${schema}.${table}`) ? `${schema}.${table}` : names.find((n) => n.endsWith(`.${table}`))
  return tables.map((t) => {
    const name = qualifiedName(t)
    const fromManifest = t.foreignKeys.map((f) => `${f.referencedSchema}.${f.referencedTable}`)
    const fromTarget =
      fromManifest.length > 0
        ? []
        : (target.tables.get(name)?.columns ?? []).flatMap((c) => {
            const parent = c.references ? resolve(c.references.table, t.schema) : undefined
            return parent ? [parent] : []
          })
    return {
      name,
      references: [...fromManifest, ...fromTarget].filter((r) => r !== name && names.includes(r)),
    }
  })
}

/** Whether every table comes after its parents in this order. */
function respectsReferences(
  order: readonly string[],
  refs: readonly { name: string; references: string[] }[],
): boolean {
  const at = new Map(order.map((n, i) => [n, i]))
  return refs.every((r) => r.references.every((p) => at.get(p)! < at.get(r.name)!))
}

/**
 * Inserts in foreign-key order. The archive holds its tables in the manifest's restore
 * order and is streamed once when that order holds; when the target's keys ask for
 * another, the data files are unpacked to the temp folder first and loaded in that order.
 */
async function loadArchive(deps: RestRestoreDeps, plan: LoadPlan, state: LoadState): Promise<void> {
  const { tables } = plan
  const refs = insertReferences(tables, plan.target)
  const archiveOrder = tables.map(qualifiedName)
  const planned = planRestoreOrder(refs)
  const byName = new Map(tables.map((t) => [qualifiedName(t), t]))
  const byFile = new Map(tables.map((t) => [t.file, t]))
  let index = 0
  const load = (table: TableEntry, stream: Readable) => loadTable(deps, plan, state, table, stream, index++)

  if (respectsReferences(archiveOrder, refs) || planned.cycles.length > 0) {
    await readArchive(
      openArchive(plan.archive),
      async (entry) => {
        const table = byFile.get(entry.path)
        if (table) await load(table, entry.stream)
      },
      { where: plan.archive.where, transforms: plan.transforms() },
    )
  } else {
    deps.emit({
      type: 'step',
      message: "unpacking the data files: the target's foreign keys ask for another order",
    })
    const unpacked = new Map<string, string>()
    await readArchive(
      openArchive(plan.archive),
      async (entry) => {
        const table = byFile.get(entry.path)
        if (!table) return
        const path = join(plan.work, `unpacked-${unpacked.size}.ndjson`)
        await pipeline(entry.stream, createWriteStream(path))
        unpacked.set(qualifiedName(table), path)
      },
      { where: plan.archive.where, transforms: plan.transforms() },
    )
    for (const name of planned.order) {
      const path = unpacked.get(name)
      if (!path) continue
      await load(byName.get(name)!, createReadStream(path))
      await rm(path, { force: true })
    }
  }
  const missing = tables.filter((t) => !state.outcomes.has(qualifiedName(t)))
  if (missing.length > 0) {
    throw new LifeboatError(
      'RESTORE_FAILED',
      `no data file was read for ${missing.map(qualifiedName).join(', ')} (${plan.manifest.id})`,
    )
  }
}

async function loadTable(
  deps: RestRestoreDeps,
  plan: LoadPlan,
  state: LoadState,
  table: TableEntry,
  stream: Readable,
  index: number,
): Promise<void> {
  const name = qualifiedName(table)
  deps.emit({ type: 'table-start', table: name, index, total: plan.tables.length })
  const started = performance.now()
  const outcome: RestTableOutcome = {
    table: name,
    rowsExpected: table.rows,
    rowsLoaded: 0,
    batches: 0,
    loadSeconds: 0,
  }
  state.outcomes.set(name, outcome)
  if (name === AUTH_USERS) {
    for await (const line of lines(stream)) {
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
      state.createdUsers.push(row.id!)
      state.archivedUsers.push(row)
      outcome.rowsLoaded++
      outcome.batches++
    }
  } else {
    const restTable = plan.target.tables.get(name)!
    state.inserted.push({ table: restTable, column: deleteColumn(restTable) })
    await insertTable(deps, table, restTable, lines(stream), plan.options.batchSize, outcome)
  }
  outcome.loadSeconds = (performance.now() - started) / 1000
  deps.emit({
    type: 'table-done',
    table: name,
    rows: outcome.rowsLoaded,
    bytes: table.bytes,
    seconds: outcome.loadSeconds,
  })
}

/** `cannot insert a non-DEFAULT value into column "id"` (428C9): a GENERATED ALWAYS identity. */
function generatedAlwaysColumn(error: unknown): string | undefined {
  if (sqlStateOf(error) !== '428C9') return undefined
  return /column "((?:[^"]|"")+)"/.exec((error as Error).message)?.[1]?.replaceAll('""', '"')
}

async function insertTable(
  deps: RestRestoreDeps,
  entry: TableEntry,
  table: RestTable,
  source: AsyncGenerator<string>,
  batchSize: number,
  outcome: RestTableOutcome,
): Promise<void> {
  const name = qualifiedName(entry)
  const columns: RestColumn[] = entry.columns
    .filter((c) => !c.generated)
    .map((c) => table.columns.find((t) => t.name === c.name)!)
  const omit = new Set<string>()
  const flush = async (batch: string[]) => {
    const first = outcome.rowsLoaded + 1
    const where = `${name}, batch ${outcome.batches + 1} (rows ${first}-${first + batch.length - 1})`
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
        if (column && !omit.has(column) && outcome.batches === 0) {
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
    outcome.batches++
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
async function verifyRestored(
  deps: RestRestoreDeps,
  work: string,
  tables: readonly TableEntry[],
  target: TargetInfo,
  outcomes: Map<string, RestTableOutcome>,
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
async function cleanUp(
  deps: RestRestoreDeps,
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
function sequenceSql(manifest: Manifest, tables: readonly TableEntry[], target: TargetInfo): string[] {
  const restored = new Set(tables.map(qualifiedName))
  const literal = (text: string) => `'${text.replaceAll("'", "''")}'`
  const ident = (name: string) => `"${name.replaceAll('"', '""')}"`
  if (manifest.sequences.length > 0) {
    return manifest.sequences
      .filter((s) => !s.ownedBy || restored.has(`${s.ownedBy.schema}.${s.ownedBy.table}`))
      .map(
        (s) =>
          `SELECT pg_catalog.setval(${literal(`${ident(s.schema)}.${ident(s.name)}`)}, ${s.lastValue}, ${s.isCalled});`,
      )
  }
  const statements: string[] = []
  for (const entry of tables) {
    const table = target.tables.get(qualifiedName(entry))
    if (!table) continue
    for (const column of table.columns.filter(usesSequence)) {
      const relation = `${ident(entry.schema)}.${ident(entry.name)}`
      statements.push(
        `SELECT pg_catalog.setval(pg_get_serial_sequence(${literal(relation)}, ${literal(column.name)}), max(${ident(column.name)})) FROM ${relation} HAVING max(${ident(column.name)}) IS NOT NULL;`,
      )
    }
  }
  return statements
}
