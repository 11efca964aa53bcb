// A database identified by what it is, not by how its URL is spelled: the endpoint
// node-postgres will really connect to (normalised: 127.1, 2130706433, 0x7f.1 and
// [::ffff:127.0.0.1] are one address), and the identity the server reports about itself.
import pg from 'pg'
import { LifeboatError } from '../core/errors.ts'
import type { Secret } from '../core/secret.ts'
import { type Endpoint, normaliseHost } from './endpoint.ts'

export { type Endpoint, endpointsMayMatch, normaliseHost, parseInetAton } from './endpoint.ts'

/**
 * Where node-postgres will connect for this URL: its own parsing (`?host=` and `?port=`
 * override the authority, PG* variables fill what is missing), then the host normalised.
 */
export function resolveEndpoint(url: Secret | string): Endpoint {
  let client: pg.Client
  try {
    client = new pg.Client({ connectionString: typeof url === 'string' ? url : url.reveal() })
  } catch {
    throw new LifeboatError('CONFIG_INVALID', 'the database URL cannot be parsed')
  }
  return {
    ...normaliseHost(String(client.host ?? 'localhost')),
    port: Number(client.port ?? 5432),
    database: String(client.database ?? ''),
    user: String(client.user ?? ''),
  }
}

/** What a server says about itself over a connection. */
export interface ServerIdentity {
  /** inet_server_addr(): null over a Unix socket. */
  address: string | null
  port: number | null
  /** pg_postmaster_start_time() as epoch seconds with microseconds: unique per server start. */
  startedAt: string
  /** pg_control_system().system_identifier: PUBLIC may call it on 15 by default; null where a server revoked it. */
  systemIdentifier: string | null
  database: string
  databaseOid: number
  serverVersionNum: number
}

/**
 * Reads the identity without failing: a hardened server may revoke pg_control_system(),
 * so the privilege is checked first (an error would abort a surrounding transaction).
 */
export async function readServerIdentity(client: pg.ClientBase): Promise<ServerIdentity> {
  const { rows } = await client.query<{
    address: string | null
    port: number | null
    started: string
    database: string
    oid: string
    version: string
    control: boolean
  }>(
    `SELECT host(pg_catalog.inet_server_addr()) AS address, pg_catalog.inet_server_port() AS port,
            extract(epoch FROM pg_catalog.pg_postmaster_start_time())::text AS started,
            pg_catalog.current_database() AS database,
            (SELECT oid::text FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()) AS oid,
            pg_catalog.current_setting('server_version_num') AS version,
            pg_catalog.has_function_privilege('pg_catalog.pg_control_system()', 'EXECUTE') AS control`,
  )
  const row = rows[0]!
  let systemIdentifier: string | null = null
  if (row.control) {
    const control = await client.query<{ id: string }>(
      'SELECT system_identifier::text AS id FROM pg_catalog.pg_control_system()',
    )
    systemIdentifier = control.rows[0]?.id ?? null
  }
  return {
    address: row.address === null ? null : normaliseHost(row.address).host,
    port: row.port,
    startedAt: row.started,
    systemIdentifier,
    database: row.database,
    databaseOid: Number(row.oid),
    serverVersionNum: Number(row.version),
  }
}

/**
 * The same running server: the postmaster's start time (to the microsecond) agrees, and
 * so do the system identifiers where both were readable. Addresses are not compared: one
 * server is reached through different addresses (a pooler, a public and a private
 * network). A clone or replica shares the system identifier, not the start time.
 */
export function sameServer(a: ServerIdentity, b: ServerIdentity): boolean {
  if (a.startedAt !== b.startedAt) return false
  return (
    a.systemIdentifier === null || b.systemIdentifier === null || a.systemIdentifier === b.systemIdentifier
  )
}

/** The same database of the same server: the target IS the source, however its URL was spelled. */
export function sameDatabase(a: ServerIdentity, b: ServerIdentity): boolean {
  return sameServer(a, b) && a.databaseOid === b.databaseOid && a.database === b.database
}

/** What a backup can record of its source (the manifest), to recognise it later. */
export type RecordedIdentity = Pick<
  ServerIdentity,
  'systemIdentifier' | 'startedAt' | 'database' | 'databaseOid'
>

/**
 * Whether a live server's database is the one a backup recorded: by system identifier
 * and database OID when both sides know the identifier (a restart keeps both), by
 * start time otherwise. Undefined when nothing decides (restarted, identifier unreadable):
 * the caller falls back to endpointsMayMatch and treats "maybe" as protected.
 */
export function isRecordedDatabase(live: ServerIdentity, recorded: RecordedIdentity): boolean | undefined {
  // A database keeps its OID across restarts; another OID or name is another database.
  if (live.database !== recorded.database || live.databaseOid !== recorded.databaseOid) return false
  if (live.systemIdentifier !== null && recorded.systemIdentifier !== null)
    return live.systemIdentifier === recorded.systemIdentifier
  return live.startedAt === recorded.startedAt ? true : undefined
}
