// Opening PostgreSQL connections as libpq would (sslmode, Unix sockets): error mapping
// to the catalogue, the session settings pg_dump pins, timeouts on both ends, and
// refusal of the transaction pooler.
import { readFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import type { ConnectionOptions } from 'node:tls'
import pg from 'pg'
import { LifeboatError } from '../../core/errors.ts'
import { redact, type Secret } from '../../core/secret.ts'
import { type ConnectionParams, NO_HOST, resolveConnection } from './libpq.ts'

/** Settings that make every value's text output the same on every server (as pg_dump). */
export const PINNED_SESSION_SETTINGS: Readonly<Record<string, string>> = {
  DateStyle: 'ISO',
  IntervalStyle: 'postgres',
  extra_float_digits: '3',
  bytea_output: 'hex',
  client_encoding: 'UTF8',
  TimeZone: 'UTC',
  row_security: 'off',
  statement_timeout: '0',
  idle_in_transaction_session_timeout: '0',
  search_path: '',
}

/** Connecting may take this long unless the URL's `connect_timeout` (seconds, as libpq) says otherwise. */
export const CONNECT_TIMEOUT_DEFAULT_MS = 15_000

/**
 * Server-side limits for the sessions of a job that has a deadline: no statement (a COPY
 * of a big table included) and no idle transaction (the snapshot holder while the store
 * is written) outlives the job, even if the client vanished without closing its socket;
 * TCP keepalives and the connection check let the server notice such a client within
 * minutes and release its snapshot and locks. Without a deadline, statements are not limited.
 */
export function sessionTimeouts(deadlineMs: number | undefined): Record<string, string> {
  const limit = deadlineMs && deadlineMs > 0 ? String(Math.ceil(deadlineMs)) : '0'
  return {
    statement_timeout: limit,
    idle_in_transaction_session_timeout: limit,
    tcp_keepalives_idle: '60',
    tcp_keepalives_interval: '10',
    tcp_keepalives_count: '6',
  }
}

/** PostgreSQL 14+: a running statement whose client has gone is cancelled (checked this often). */
const CONNECTION_CHECK = { name: 'client_connection_check_interval', value: '10s', since: 140000 }

export interface ConnectOptions {
  applicationName?: string
  /** Setting name -> value, applied right after connecting. */
  settings?: Readonly<Record<string, string>>
  connectTimeoutMs?: number
}

/** What a connection URL says about where it points, safe to print. */
export function describeConnection(url: Secret): {
  host: string
  port: number
  database: string
  user: string
} {
  const params = connectionParams(url)
  return { host: params.host, port: params.port, database: params.dbname, user: params.user }
}

/** A connection string read by libpq's rules, without the PG* variables (the edge applied them). */
export function connectionParams(url: Secret): ConnectionParams {
  try {
    return resolveConnection(url.reveal(), 'the database URL', {}, { ...NO_HOST, osUser: osUser() })
  } catch (error) {
    throw new LifeboatError('CONFIG_INVALID', redact((error as Error).message))
  }
}

function osUser(): string | undefined {
  try {
    return userInfo().username
  } catch {
    return undefined
  }
}

/**
 * Supabase's transaction pooler (Supavisor on port 6543) hands each transaction to
 * any backend, so a snapshot cannot be held across statements.
 */
export function assertNotTransactionPooler(url: Secret, setting: string): void {
  const { host, port } = describeConnection(url)
  if (port === 6543) {
    throw new LifeboatError(
      'DB_POOLER_TRANSACTION',
      `${setting} points at a transaction pooler (${host}:6543), which cannot hold a snapshot; use the session pooler (port 5432) or the direct connection`,
    )
  }
}

export async function connect(url: Secret, options: ConnectOptions = {}): Promise<pg.Client> {
  const params = connectionParams(url)
  const where = `${params.host}:${params.port}/${params.dbname}`
  const attempts = tlsAttempts(params)
  for (let i = 0; i < attempts.length; i++) {
    const client = new pg.Client({
      host: params.host,
      port: params.port,
      user: params.user,
      database: params.dbname,
      ...(params.password === undefined ? {} : { password: params.password }),
      ssl: attempts[i]!,
      ...(params.options ? { options: params.options } : {}),
      application_name: params.applicationName ?? options.applicationName ?? 'lifeboat',
      connectionTimeoutMillis:
        options.connectTimeoutMs ??
        (params.connectTimeout ? params.connectTimeout * 1000 : CONNECT_TIMEOUT_DEFAULT_MS),
      // The client notices a server that vanished (no FIN) within about a minute and a half.
      keepAlive: true,
      keepAliveInitialDelayMillis: 60_000,
    })
    // Without a listener a server that goes away crashes the process; errors surface
    // on the pending query instead.
    client.on('error', () => {})
    try {
      await client.connect()
    } catch (error) {
      await client.end().catch(() => undefined)
      if (i + 1 < attempts.length && retriesWithOtherTls(error)) continue
      throw connectionError(error, where)
    }
    await applySettings(client, options.settings ?? {})
    return client
  }
  throw new LifeboatError('INTERNAL', 'no connection attempt was made')
}

/**
 * libpq's sslmode, in the order it tries: `prefer` encrypts without checking the
 * certificate and falls back to plain when the server has no TLS; `allow` the reverse;
 * `require` (without a root certificate) encrypts without checking; `verify-ca` checks
 * the chain, `verify-full` the chain and the host name.
 */
export function tlsAttempts(params: ConnectionParams): (false | ConnectionOptions)[] {
  const ca = params.sslrootcert ? { ca: readFileSync(params.sslrootcert, 'utf8') } : {}
  const chainOnly = { ...ca, checkServerIdentity: () => undefined }
  switch (params.sslmode) {
    case 'disable':
      return [false]
    case 'allow':
      return [false, { rejectUnauthorized: false }]
    case 'prefer':
      return [{ rejectUnauthorized: false }, false]
    case 'require':
      return [params.sslrootcert ? chainOnly : { rejectUnauthorized: false }]
    case 'verify-ca':
      return [chainOnly]
    case 'verify-full':
      return [{ ...ca, servername: params.host }]
  }
}

/**
 * Makes a fresh connection read in another session's exported snapshot
 * (`pg_export_snapshot()`): a read-only repeatable-read transaction that sees exactly
 * what the exporting one sees, for as long as that one stays open.
 */
export async function joinSnapshot(client: pg.ClientBase, snapshot: string): Promise<void> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY')
  await client.query(`SET TRANSACTION SNAPSHOT '${snapshot.replaceAll("'", "''")}'`)
}

/**
 * Session settings, in one round trip (one statement each cost a round trip apiece to a
 * remote database, on every connection); with keepalives asked for, PostgreSQL 14+ also
 * checks for a vanished client.
 */
async function applySettings(client: pg.Client, settings: Readonly<Record<string, string>>): Promise<void> {
  const entries = Object.entries(settings)
  if (entries.length > 0) {
    await client.query(
      `SELECT pg_catalog.set_config(s.name, s.value, false) FROM unnest($1::text[], $2::text[]) AS s(name, value)`,
      [entries.map(([name]) => name), entries.map(([, value]) => value)],
    )
  }
  if (settings.tcp_keepalives_idle === undefined) return
  await client.query(
    `SELECT pg_catalog.set_config($1, $2, false) WHERE pg_catalog.current_setting('server_version_num')::int >= $3`,
    [CONNECTION_CHECK.name, CONNECTION_CHECK.value, CONNECTION_CHECK.since],
  )
}

function retriesWithOtherTls(error: unknown): boolean {
  const e = error as Error & { code?: string }
  return /does not support SSL/i.test(e.message ?? '') || e.code === '28000'
}

/** libpq's `connect_timeout` URL parameter (seconds), which node-postgres itself ignores. */
export function connectTimeoutOf(url: Secret): number | undefined {
  try {
    const raw = new URL(url.reveal()).searchParams.get('connect_timeout')
    const seconds = raw === null ? Number.NaN : Number(raw)
    return Number.isInteger(seconds) && seconds > 0 ? seconds * 1000 : undefined
  } catch {
    return undefined
  }
}

export function connectionError(error: unknown, where: string): LifeboatError {
  if (error instanceof LifeboatError) return error
  const e = error as Error & { code?: string }
  const message = redact(e.message ?? String(error))
  switch (e.code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ECONNRESET':
    case 'ENOENT':
      return new LifeboatError('DB_UNREACHABLE', `cannot reach the database at ${where} (${e.code})`, {
        cause: error,
      })
    case '28P01':
    case '28000':
      return new LifeboatError('DB_AUTH', `the database at ${where} refused the login: ${message}`, {
        cause: error,
      })
    case '3D000':
      return new LifeboatError('DB_NOT_FOUND', `the database at ${where} does not exist`, { cause: error })
    case '42501':
      return new LifeboatError('DB_PERMISSION', `permission denied at ${where}: ${message}`, { cause: error })
  }
  if (/timeout/i.test(message)) {
    return new LifeboatError('DB_UNREACHABLE', `cannot reach the database at ${where} (timeout)`, {
      cause: error,
    })
  }
  return new LifeboatError('DB_QUERY', `database error at ${where}: ${message}`, { cause: error })
}

/** Maps an error raised by a statement (not the connect) to the catalogue. */
export function queryError(error: unknown, what: string): LifeboatError {
  if (error instanceof LifeboatError) return error
  const e = error as Error & { code?: string }
  const message = redact(e.message ?? String(error))
  if (e.code === '42501' || /row-level security/i.test(message)) {
    return new LifeboatError('DB_PERMISSION', `${what}: ${message}`, { cause: error })
  }
  if (e.code === '57P01' || e.code === 'ECONNRESET' || /Connection terminated/i.test(message)) {
    return new LifeboatError('DB_UNREACHABLE', `${what}: the connection was lost (${message})`, {
      cause: error,
    })
  }
  return new LifeboatError('DB_QUERY', `${what}: ${message}`, { cause: error })
}

/** Double-quotes an identifier the way PostgreSQL's quote_ident would, always. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

export function quoteQualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`
}
