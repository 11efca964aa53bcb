// The restore drill (and, with other choices, the DR test): pick a backup, restore it
// with the restore engine into a scratch target that is never production, prove it
// (tables, foreign keys, sequences, smoke checks), measure every phase and write the
// report to drills/<id>.json. A failed drill still writes its report.
import { connect, describeConnection, quoteIdent } from '../adapters/postgres/connection.ts'
import {
  type CheckResult,
  checkForeignKeys,
  checkSequences,
  runSmokeChecks,
} from '../adapters/postgres/post-checks.ts'
import { readTargetInfo, readTargetState } from '../adapters/postgres/target.ts'
import { startThrowawayPostgres, type ThrowawayPostgres } from '../adapters/postgres/throwaway.ts'
import type { Store } from '../adapters/store/store.ts'
import { backupIdFor, DRILLS_PREFIX } from '../archive/layout.ts'
import { type Manifest, qualifiedName } from '../archive/manifest.ts'
import { LifeboatError, toLifeboatError } from '../core/errors.ts'
import { plural } from '../core/format.ts'
import { redact, Secret } from '../core/secret.ts'
import { type BackupRecord, parseSelector, selectBackup } from '../inventory/inventory.ts'
import { listInventory, readSidecar } from '../inventory/read-inventory.ts'
import { productionReasons } from '../restore/production-guard.ts'
import { type RestoreDeps, type RestoreResult, runRestore } from '../restore/restore.ts'
import { pickDrillBackup } from './pick.ts'
import {
  buildDrillReport,
  type DrillKind,
  type DrillPhases,
  type DrillReport,
  type DrillTable,
  failedTablesOf,
  type TargetKind,
} from './report.ts'
import type { SmokeCheck } from './smoke-checks.ts'

export interface DrillDeps extends RestoreDeps {
  store: Store
  /** The wall clock for startedAt / finishedAt. */
  clock: () => Date
  /** Starts the throwaway cluster used when no database is given (tests may share one). */
  startThrowaway?: () => Promise<ThrowawayPostgres>
}

/** Where the drill restores. */
export type DrillTarget =
  /** A scratch database used as it is: empty, or replaced with `truncate`. */
  | { kind: 'database'; url: Secret; setting: string; truncate: boolean }
  /** A server on which a new database is created for the run and dropped after it (unless `keep`). */
  | { kind: 'server'; url: Secret; setting: string; keep: boolean }
  | { kind: 'throwaway' }

export interface DrillOptions {
  kind: DrillKind
  /** A backup id, `latest` or a date; otherwise a random pick (drill) or the newest (DR test). */
  backup?: string | undefined
  /** Seed of the random pick; a fresh one is drawn (and reported) when absent. */
  seed?: string | undefined
  days: number
  /** The time the pick window and the RPO are measured from (LIFEBOAT_NOW); the clock by default. */
  now?: Date | undefined
  target: DrillTarget
  rtoTargetSeconds: number
  rpoTargetSeconds?: number | undefined
  /** DR test: parsed smoke checks; undefined when none were given. */
  smokeChecks?: readonly SmokeCheck[] | undefined
  /** DATABASE_URL / SUPABASE_DB_URL: never a drill target. */
  production: readonly { setting: string; url: Secret }[]
}

export interface DrillRun {
  report: DrillReport
  /** What made the run fail, with its code (the report holds its text). */
  error?: LifeboatError
  key: string
  location: string
  /** Why the report could not be written to the store, if it could not. */
  storeError?: string
}

interface PreparedTarget {
  url: Secret
  setting: string
  createSchema: boolean
  truncate: boolean
  describe: { kind: TargetKind; host: string; port: number; database: string }
  cleanup: () => Promise<void>
}

export async function runDrill(deps: DrillDeps, options: DrillOptions): Promise<DrillRun> {
  const startedAt = deps.clock()
  const began = performance.now()
  const asOf = options.now ?? startedAt
  const seconds = () => (performance.now() - began) / 1000
  let record: BackupRecord | undefined
  let manifest: Manifest | undefined
  let pick: DrillReport['pick'] = { method: 'forced', seed: null, windowDays: null, candidates: 0 }
  let production: { backupId: string; bytes: number } | undefined
  let prepared: PreparedTarget | undefined
  let restore: RestoreResult | undefined
  let checks: CheckResult[] = []
  let prepare: number | null = null
  let postChecks: number | null = null
  let total: number | undefined
  let failure: LifeboatError | undefined
  const warnings: string[] = []

  try {
    deps.emit({ type: 'step', message: `listing the backups in ${deps.store.location}` })
    const inventory = await listInventory(deps.store)
    ;({ record, pick } = chooseBackup(inventory, options, asOf))
    deps.emit({ type: 'step', message: `${options.kind}: backup ${record.id} (${describeChoice(pick)})` })
    manifest = await readSidecar(deps.store, record.id)
    production = await productionSize(deps.store, inventory, record.id, manifest)

    prepared = await prepareTarget(deps, options, manifest)
    prepare = seconds()
    restore = await runRestore(deps, {
      what: record.id,
      target: prepared.url,
      targetSetting: prepared.setting,
      createSchema: prepared.createSchema,
      truncate: prepared.truncate,
      // A drill never confirms a protected target: production is refused, always.
      confirm: undefined,
      verify: true,
      production: options.production,
    })
    warnings.push(...restore.warnings)

    deps.emit({ type: 'step', message: 'post-checks: foreign keys, sequences, smoke checks' })
    const checksBegan = performance.now()
    checks = await runPostChecks(prepared.url, manifest, restore, options.smokeChecks)
    postChecks = (performance.now() - checksBegan) / 1000
    total = seconds()
    const failing = checks.filter((c) => !c.ok)
    if (failing.length > 0) {
      throw new LifeboatError(
        'DRILL_FAILED',
        `${failing.length} check${failing.length === 1 ? '' : 's'} failed after the restore: ${failing.map((c) => `${c.name}: ${c.detail}`).join('; ')}`,
        { details: failing.flatMap((c) => (c.tables ?? []).map((t) => `${t}: ${c.name} failed`)) },
      )
    }
  } catch (error) {
    failure = toLifeboatError(error)
  } finally {
    if (prepared) {
      await prepared.cleanup().catch((error) => {
        warnings.push(`could not remove the drill's scratch database: ${redact((error as Error).message)}`)
      })
    }
  }
  if (options.kind === 'dr-test' && options.smokeChecks === undefined) {
    warnings.push('no smoke checks were run: give a SQL file of checks with --checks or DR_TEST_CHECKS')
  }

  const finishedAt = deps.clock()
  const id = await freeReportId(deps.store, options.kind, startedAt)
  const report = buildDrillReport({
    kind: options.kind,
    id,
    backup: record ? { id: record.id, time: record.time } : null,
    pick,
    startedAt,
    finishedAt,
    rpoAsOf: asOf,
    target: prepared?.describe ?? null,
    phases: phasesOf(prepare, restore, postChecks, total ?? seconds()),
    rtoTargetSeconds: options.rtoTargetSeconds,
    ...(options.rpoTargetSeconds !== undefined ? { rpoTargetSeconds: options.rpoTargetSeconds } : {}),
    ...(restore && !failure ? { restoredBytes: restore.tables.reduce((sum, t) => sum + t.bytes, 0) } : {}),
    ...(production ? { production } : {}),
    sizes: manifest
      ? {
          tables: manifest.totals.tables,
          rows: manifest.totals.rows,
          dataBytes: manifest.totals.bytes,
          archiveBytes: manifest.archive?.bytes ?? record?.archive?.size ?? 0,
        }
      : null,
    tables: tablesOf(manifest, restore),
    checks: [...restoreChecks(restore), ...checks].map(({ name, ok, detail }) => ({ name, ok, detail })),
    restoreWarnings: warnings,
    ...(failure ? { error: { code: failure.code, message: redact(failure.message) } } : {}),
    failedTables: failure && manifest ? failedTablesOf(failure, manifest.tables) : [],
  })

  const key = `${DRILLS_PREFIX}${id}.json`
  const location = deps.store.locate(key)
  let storeError: string | undefined
  try {
    await deps.store.put(key, `${JSON.stringify(report, null, 2)}\n`, { contentType: 'application/json' })
  } catch (error) {
    storeError = redact((error as Error).message)
  }
  return {
    report,
    key,
    location,
    ...(failure ? { error: failure } : {}),
    ...(storeError ? { storeError } : {}),
  }
}

function chooseBackup(
  inventory: readonly BackupRecord[],
  options: DrillOptions,
  asOf: Date,
): { record: BackupRecord; pick: DrillReport['pick'] } {
  const complete = inventory.filter((r) => r.complete).length
  if (options.backup !== undefined) {
    const record = selectBackup(inventory, parseSelector(options.backup))
    return { record, pick: { method: 'forced', seed: null, windowDays: null, candidates: complete } }
  }
  if (options.kind === 'dr-test') {
    const record = selectBackup(inventory, { kind: 'latest' })
    return { record, pick: { method: 'newest', seed: null, windowDays: null, candidates: complete } }
  }
  const seed = options.seed ?? newSeed()
  const picked = pickDrillBackup(inventory, { now: asOf, days: options.days, seed })
  return {
    record: picked.record,
    pick: { method: 'random', seed, windowDays: options.days, candidates: picked.candidates.length },
  }
}

function newSeed(): string {
  return Math.floor(Math.random() * 36 ** 8)
    .toString(36)
    .padStart(8, '0')
}

function describeChoice(pick: DrillReport['pick']): string {
  if (pick.method === 'random') return `random among ${pick.candidates}, seed ${pick.seed}`
  return pick.method === 'forced' ? 'chosen with --backup' : 'the newest'
}

/** Today's production size: the newest complete backup's data bytes. */
async function productionSize(
  store: Store,
  inventory: readonly BackupRecord[],
  pickedId: string,
  picked: Manifest,
): Promise<{ backupId: string; bytes: number } | undefined> {
  const newest = inventory.find((r) => r.complete)
  if (!newest || newest.id === pickedId) return { backupId: pickedId, bytes: picked.totals.bytes }
  try {
    return { backupId: newest.id, bytes: (await readSidecar(store, newest.id)).totals.bytes }
  } catch {
    // Without the newest sidecar there is no projection; the drill itself still counts.
    return undefined
  }
}

/** Report ids carry the start time; a second run in the same second gets a suffix. */
async function freeReportId(store: Store, kind: DrillKind, startedAt: Date): Promise<string> {
  const base = `${kind}-${backupIdFor(startedAt).slice('backup-'.length)}`
  for (let n = 1; ; n++) {
    const id = n === 1 ? base : `${base}-${n}`
    const taken = await store.head(`${DRILLS_PREFIX}${id}.json`).catch(() => undefined)
    if (!taken) return id
  }
}

// ---------------------------------------------------------------------------
// Targets

async function prepareTarget(
  deps: DrillDeps,
  options: DrillOptions,
  manifest: Manifest,
): Promise<PreparedTarget> {
  const target = options.target
  const createSchemaAlways = options.kind === 'dr-test'
  if (target.kind === 'database') {
    const found = await inspectTarget(target.url, target.setting, manifest, options.production)
    const createSchema = createSchemaAlways || found.existing === 0
    return {
      url: target.url,
      setting: target.setting,
      createSchema,
      truncate: !createSchema && target.truncate,
      describe: { kind: 'staging', ...found.endpoint },
      cleanup: async () => {},
    }
  }
  if (target.kind === 'server') {
    const found = await inspectTarget(target.url, target.setting, manifest, options.production)
    const database = `lifeboat_${options.kind.replace('-', '_')}_${Date.now().toString(36)}`
    const admin = await connect(target.url, { applicationName: `lifeboat ${options.kind}` })
    try {
      deps.emit({
        type: 'step',
        message: `creating database ${database} on ${found.endpoint.host}:${found.endpoint.port}`,
      })
      await admin.query(`CREATE DATABASE ${quoteIdent(database)}`)
    } catch (error) {
      throw new LifeboatError(
        'DB_PERMISSION',
        `cannot create a database for the ${options.kind} on ${found.endpoint.host}:${found.endpoint.port} (${redact((error as Error).message)}); grant CREATEDB, or give an empty database with --target / DR_TEST_DATABASE_URL`,
        { cause: error },
      )
    } finally {
      await admin.end().catch(() => undefined)
    }
    const url = new Secret(withDatabase(target.url, database))
    return {
      url,
      setting: target.setting,
      createSchema: true,
      truncate: false,
      describe: { kind: 'new-database', host: found.endpoint.host, port: found.endpoint.port, database },
      cleanup: async () => {
        if (target.keep) return
        const client = await connect(target.url, { applicationName: `lifeboat ${options.kind}` })
        try {
          await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`)
        } finally {
          await client.end().catch(() => undefined)
        }
      },
    }
  }
  deps.emit({ type: 'step', message: 'starting a throwaway PostgreSQL for the restore' })
  const cluster = await (deps.startThrowaway ?? startThrowawayPostgres)()
  try {
    const database = `lifeboat_${options.kind.replace('-', '_')}`
    const admin = await connect(new Secret(cluster.url), { applicationName: `lifeboat ${options.kind}` })
    try {
      await admin.query(`CREATE DATABASE ${quoteIdent(database)}`)
    } finally {
      await admin.end().catch(() => undefined)
    }
    const url = new Secret(cluster.urlFor(database))
    const { host, port } = describeConnection(url)
    return {
      url,
      setting: 'throwaway PostgreSQL',
      createSchema: true,
      truncate: false,
      describe: { kind: 'throwaway', host, port, database },
      cleanup: () => cluster.stop(),
    }
  } catch (error) {
    await cluster.stop()
    throw error
  }
}

function withDatabase(url: Secret, database: string): string {
  const parsed = new URL(url.reveal())
  parsed.pathname = `/${encodeURIComponent(database)}`
  return parsed.toString()
}

/**
 * Refuses production before anything is downloaded, with no way to confirm it: the
 * backup's source, DATABASE_URL / SUPABASE_DB_URL, or a database marked production.
 * Counts the archive's tables the target already has (none: the drill creates the schema).
 */
async function inspectTarget(
  url: Secret,
  setting: string,
  manifest: Manifest,
  production: DrillOptions['production'],
): Promise<{ endpoint: { host: string; port: number; database: string }; existing: number }> {
  const address = describeConnection(url)
  const client = await connect(url, { applicationName: 'lifeboat drill' })
  try {
    const info = await readTargetInfo(client)
    const environment = production.flatMap(({ setting: name, url: other }) => {
      try {
        const { host, port, database, user } = describeConnection(other)
        return [{ setting: name, endpoint: { host, port, database, user } }]
      } catch {
        return []
      }
    })
    const reasons = productionReasons({
      target: { host: address.host, port: address.port, database: info.database, user: address.user },
      marker: info.marker,
      backupSource: { host: manifest.source.host, database: manifest.source.database },
      environment,
    })
    if (reasons.length > 0) {
      throw new LifeboatError(
        'TARGET_PROTECTED',
        `a drill never restores into production, and ${setting} (${info.database} at ${address.host}:${address.port}) looks like it: ${reasons.join('; ')}; point ${setting} at a scratch database, or leave it unset for a throwaway PostgreSQL`,
        { details: reasons },
      )
    }
    const state = await readTargetState(client, manifest.tables.map(qualifiedName), [])
    return {
      endpoint: { host: address.host, port: address.port, database: info.database },
      existing: manifest.tables.filter((t) => state.tables.has(qualifiedName(t))).length,
    }
  } finally {
    await client.end().catch(() => undefined)
  }
}

// ---------------------------------------------------------------------------
// Checks and measurements

async function runPostChecks(
  url: Secret,
  manifest: Manifest,
  restore: RestoreResult,
  smokeChecks: readonly SmokeCheck[] | undefined,
): Promise<CheckResult[]> {
  // No pinned search_path here: smoke checks are written as a person would in psql.
  const client = await connect(url, { applicationName: 'lifeboat drill checks' })
  try {
    const names = restore.tables.map((t) => t.table)
    const restored = new Set(names)
    const sequences = manifest.sequences.filter(
      (s) => !s.ownedBy || restored.has(`${s.ownedBy.schema}.${s.ownedBy.table}`),
    )
    return [
      await checkForeignKeys(client, names),
      await checkSequences(client, sequences),
      ...(smokeChecks ? await runSmokeChecks(client, smokeChecks) : []),
    ]
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** What the restore itself proved, as checks in the report. */
function restoreChecks(restore: RestoreResult | undefined): CheckResult[] {
  if (!restore) return []
  const matching = restore.tables.filter((t) => t.sha256Match && t.rowsRestored === t.rowsExpected).length
  return [
    {
      name: 'archive',
      ok: true,
      detail:
        'every file matches its sha256 in the manifest and SHA256SUMS (verified before anything was written)',
    },
    {
      name: 'tables',
      ok: matching === restore.tables.length,
      detail: `${matching} of ${plural(restore.tables.length, 'table')} re-exported with the manifest's row count and sha256`,
    },
  ]
}

function phasesOf(
  prepare: number | null,
  restore: RestoreResult | undefined,
  postChecks: number | null,
  total: number,
): DrillPhases {
  return {
    prepare,
    download: restore?.seconds.download ?? null,
    verify: restore?.seconds.verifyArchive ?? null,
    load: restore?.seconds.load ?? null,
    verifyTables: restore?.seconds.verifyTables ?? null,
    postChecks,
    total,
  }
}

function tablesOf(manifest: Manifest | undefined, restore: RestoreResult | undefined): DrillTable[] {
  if (restore) {
    return restore.tables.map((t) => ({
      table: t.table,
      rowsExpected: t.rowsExpected,
      rowsRestored: t.rowsRestored ?? null,
      sha256Match: t.sha256Match ?? null,
    }))
  }
  return (manifest?.tables ?? []).map((t) => ({
    table: qualifiedName(t),
    rowsExpected: t.rows,
    rowsRestored: null,
    sha256Match: null,
  }))
}
