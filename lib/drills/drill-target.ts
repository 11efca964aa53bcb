// Where a drill restores: a scratch database given by URL, a new database created on
// a staging server for the run, or a throwaway cluster. Never production: the target
// is refused before anything is downloaded, with no way to confirm it.
import { connect, describeConnection, quoteIdent } from '../adapters/postgres/connection.ts'
import { readTargetInfo, readTargetState } from '../adapters/postgres/target.ts'
import { startThrowawayPostgres, type ThrowawayPostgres } from '../adapters/postgres/throwaway.ts'
import { type Manifest, qualifiedName } from '../archive/manifest.ts'
import { LifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import { redact, Secret } from '../core/secret.ts'
import { productionReasons } from '../restore/production-guard.ts'
import { environmentEndpoints } from '../restore/target-identity.ts'
import type { DrillKind, DrillReport } from './report.ts'

/** Where the drill restores. */
export type DrillTarget =
  /** A scratch database used as it is: empty, or replaced with `truncate`. */
  | { kind: 'database'; url: Secret; setting: string; truncate: boolean }
  /** A server on which a new database is created for the run and dropped after it (unless `keep`). */
  | { kind: 'server'; url: Secret; setting: string; keep: boolean }
  | { kind: 'throwaway' }

export interface PreparedTarget {
  url: Secret
  setting: string
  createSchema: boolean
  truncate: boolean
  describe: NonNullable<DrillReport['target']>
  /** Whether `cleanup` removes the database (a throwaway, or one created for the run and not kept). */
  removesDatabase: boolean
  cleanup: () => Promise<void>
}

export interface TargetRequest {
  kind: DrillKind
  target: DrillTarget
  /** DATABASE_URL / SUPABASE_DB_URL: never a drill target. */
  production: readonly { setting: string; url: Secret }[]
}

export interface TargetDeps {
  emit: EmitEvent
  /** Starts the throwaway cluster used when no database is given (tests may share one). */
  startThrowaway?: () => Promise<ThrowawayPostgres>
}

export async function prepareTarget(
  deps: TargetDeps,
  request: TargetRequest,
  manifest: Manifest,
): Promise<PreparedTarget> {
  const { target } = request
  if (target.kind === 'database') return prepareScratchDatabase(target, request, manifest)
  if (target.kind === 'server') return prepareNewDatabase(deps, target, request, manifest)
  return prepareThrowaway(deps, request.kind)
}

async function prepareScratchDatabase(
  target: Extract<DrillTarget, { kind: 'database' }>,
  request: TargetRequest,
  manifest: Manifest,
): Promise<PreparedTarget> {
  const found = await inspectTarget(target.url, target.setting, manifest, request.production)
  // The DR test always proves schema.sql too; a drill uses an existing schema when there is one.
  const createSchema = request.kind === 'dr-test' || found.existing === 0
  return {
    url: target.url,
    setting: target.setting,
    createSchema,
    truncate: !createSchema && target.truncate,
    describe: { kind: 'staging', ...found.endpoint },
    removesDatabase: false,
    cleanup: async () => {},
  }
}

async function prepareNewDatabase(
  deps: TargetDeps,
  target: Extract<DrillTarget, { kind: 'server' }>,
  request: TargetRequest,
  manifest: Manifest,
): Promise<PreparedTarget> {
  const found = await inspectTarget(target.url, target.setting, manifest, request.production)
  const { host, port } = found.endpoint
  const database = `lifeboat_${request.kind.replace('-', '_')}_${Date.now().toString(36)}`
  const admin = await connect(target.url, { applicationName: `lifeboat ${request.kind}` })
  try {
    deps.emit({ type: 'step', message: `creating database ${database} on ${host}:${port}` })
    await admin.query(`CREATE DATABASE ${quoteIdent(database)}`)
  } catch (error) {
    throw new LifeboatError(
      'DB_PERMISSION',
      `cannot create a database for the ${request.kind} on ${host}:${port} (${redact((error as Error).message)}); grant CREATEDB, or give an empty database with --target / DR_TEST_DATABASE_URL`,
      { cause: error },
    )
  } finally {
    await admin.end().catch(() => undefined)
  }
  return {
    url: new Secret(withDatabase(target.url, database)),
    setting: target.setting,
    createSchema: true,
    truncate: false,
    describe: { kind: 'new-database', host, port, database },
    removesDatabase: !target.keep,
    cleanup: async () => {
      if (target.keep) return
      const client = await connect(target.url, { applicationName: `lifeboat ${request.kind}` })
      try {
        await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`)
      } finally {
        await client.end().catch(() => undefined)
      }
    },
  }
}

async function prepareThrowaway(deps: TargetDeps, kind: DrillKind): Promise<PreparedTarget> {
  deps.emit({ type: 'step', message: 'starting a throwaway PostgreSQL for the restore' })
  const cluster = await (deps.startThrowaway ?? startThrowawayPostgres)()
  try {
    const database = `lifeboat_${kind.replace('-', '_')}`
    const admin = await connect(new Secret(cluster.url), { applicationName: `lifeboat ${kind}` })
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
      removesDatabase: true,
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
  production: TargetRequest['production'],
): Promise<{ endpoint: { host: string; port: number; database: string }; existing: number }> {
  const address = describeConnection(url)
  const client = await connect(url, { applicationName: 'lifeboat drill' })
  try {
    const info = await readTargetInfo(client)
    const environment = environmentEndpoints(production)
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
