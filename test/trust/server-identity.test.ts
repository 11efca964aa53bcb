// The target identified by what it is: URL spellings resolved as node-postgres resolves
// them, and real connections to two clusters, where every spelling of the source's
// address is recognised as the source and another cluster or database is not.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../lib/adapters/postgres/throwaway.ts'
import {
  endpointsMayMatch,
  isRecordedDatabase,
  normaliseHost,
  parseInetAton,
  readServerIdentity,
  resolveEndpoint,
  type ServerIdentity,
  sameDatabase,
  sameServer,
} from '../../lib/trust/server-identity.ts'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'

describe('resolving a URL as node-postgres does', () => {
  it('reads the IPv4 spellings getaddrinfo accepts as one address', () => {
    for (const spelling of [
      '127.0.0.1',
      '127.1',
      '127.0.1',
      '2130706433',
      '0x7f.1',
      '0x7f000001',
      '0177.0.0.1',
      '017700000001',
    ]) {
      expect(normaliseHost(spelling), spelling).toEqual({ host: '127.0.0.1', hostKind: 'ipv4', local: true })
    }
    expect(parseInetAton('256.1')).toBeUndefined()
    expect(parseInetAton('1.2.3.4.5')).toBeUndefined()
    expect(parseInetAton('08.1')).toBeUndefined()
  })

  it('reads IPv6, brackets and IPv4-mapped addresses', () => {
    expect(normaliseHost('[::ffff:127.0.0.1]')).toEqual({ host: '127.0.0.1', hostKind: 'ipv4', local: true })
    expect(normaliseHost('::ffff:7f00:1')).toEqual({ host: '127.0.0.1', hostKind: 'ipv4', local: true })
    expect(normaliseHost('[0:0:0:0:0:0:0:1]')).toEqual({ host: '::1', hostKind: 'ipv6', local: true })
    expect(normaliseHost('2001:DB8::1').host).toBe('2001:db8::1')
  })

  it('reads names case-insensitively and sockets as local', () => {
    expect(normaliseHost('DB.Example.com.')).toEqual({
      host: 'db.example.com',
      hostKind: 'name',
      local: false,
    })
    expect(normaliseHost('LOCALHOST').local).toBe(true)
    expect(normaliseHost('/var/run/postgresql/')).toEqual({
      host: '/var/run/postgresql',
      hostKind: 'socket',
      local: true,
    })
  })

  it('lets ?host= and ?port= override the authority, as node-postgres does', () => {
    const endpoint = resolveEndpoint('postgresql://u:p@db-alias.invalid:5432/src?host=127.0.0.1&port=57432')
    expect(endpoint).toMatchObject({ host: '127.0.0.1', port: 57432, database: 'src', user: 'u' })
  })

  it('says two spellings of one local database may match, and other ports or databases do not', () => {
    const a = resolveEndpoint('postgresql://u@127.0.0.1:57432/src')
    expect(endpointsMayMatch(a, resolveEndpoint('postgresql://u@[::ffff:127.0.0.1]:57432/src'))).toBe(true)
    expect(endpointsMayMatch(a, resolveEndpoint('postgresql://u@localhost:57432/src'))).toBe(true)
    expect(endpointsMayMatch(a, resolveEndpoint('postgresql://u@db.example.com:57432/src'))).toBe(true)
    expect(endpointsMayMatch(a, resolveEndpoint('postgresql://u@127.0.0.1:57433/src'))).toBe(false)
    expect(endpointsMayMatch(a, resolveEndpoint('postgresql://u@127.0.0.1:57432/other'))).toBe(false)
    expect(endpointsMayMatch(a, resolveEndpoint('postgresql://u@10.0.0.1:57432/src'))).toBe(false)
  })
})

describe('comparing identities', () => {
  const base: ServerIdentity = {
    address: '10.0.0.1',
    port: 5432,
    startedAt: '1767225600.123456',
    systemIdentifier: '7300000000000000001',
    database: 'app',
    databaseOid: 16384,
    serverVersionNum: 150018,
  }

  it('takes one start time as one server, whatever address it was reached by', () => {
    expect(sameServer(base, { ...base, address: '172.16.0.5', port: 6543 })).toBe(true)
    expect(sameServer(base, { ...base, systemIdentifier: null })).toBe(true)
  })

  it('tells a clone or replica (same system identifier, another start) from the server', () => {
    expect(sameServer(base, { ...base, startedAt: '1767225999.000001' })).toBe(false)
    expect(sameServer(base, { ...base, systemIdentifier: '7300000000000000002' })).toBe(false)
  })

  it('tells databases of one server apart by OID and name', () => {
    expect(sameDatabase(base, { ...base })).toBe(true)
    expect(sameDatabase(base, { ...base, database: 'other', databaseOid: 16385 })).toBe(false)
  })

  it('recognises a backup’s recorded source after a restart by system identifier and OID', () => {
    const recorded = { ...base, startedAt: '1700000000.000000' }
    expect(isRecordedDatabase(base, recorded)).toBe(true)
    expect(isRecordedDatabase(base, { ...recorded, systemIdentifier: '1' })).toBe(false)
    expect(isRecordedDatabase(base, { ...recorded, databaseOid: 1 })).toBe(false)
    expect(isRecordedDatabase(base, { ...recorded, systemIdentifier: null })).toBeUndefined()
  })
})

describe('identities read from real servers', () => {
  let other: ThrowawayPostgres
  let source: { name: string; url: string }
  let sibling: { name: string; url: string }
  let sourceIdentity: ServerIdentity

  async function identityOf(url: string): Promise<ServerIdentity> {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 })
    client.on('error', () => {})
    await client.connect()
    try {
      return await readServerIdentity(client)
    } finally {
      await client.end()
    }
  }

  beforeAll(async () => {
    other = await startThrowawayPostgres()
    source = await createDatabase('identity_src')
    sibling = await createDatabase('identity_sibling')
    sourceIdentity = await identityOf(source.url)
  }, 120_000)

  afterAll(async () => {
    await other?.stop()
    for (const db of [source, sibling]) if (db) await dropDatabase(db.name).catch(() => undefined)
  })

  it('reads address, port, start time, database, OID and (as superuser) the system identifier', () => {
    expect(sourceIdentity.address).toBe('127.0.0.1')
    expect(sourceIdentity.port).toBe(Number(new URL(source.url).port))
    expect(sourceIdentity.startedAt).toMatch(/^\d+\.\d+$/)
    expect(sourceIdentity.database).toBe(source.name)
    expect(sourceIdentity.databaseOid).toBeGreaterThan(0)
    expect(sourceIdentity.systemIdentifier).toMatch(/^\d{10,}$/)
  })

  /** The source's URL with its host and port spelled another way. */
  function spelled(host: string, query = ''): string {
    const url = new URL(source.url)
    const port = url.port
    return `postgresql://${url.username}:${url.password}@${host}${host.includes(':5432') ? '' : `:${port}`}${url.pathname}${query.replace('PORT', port)}`
  }

  const spellings: [string, string, string?][] = [
    ['127.0.0.1', '127.0.0.1'],
    ['127.1', '127.1'],
    ['2130706433', '2130706433'],
    ['0x7f.1', '0x7f.1'],
    ['[::ffff:127.0.0.1]', '[::ffff:127.0.0.1]'],
    ['localhost', 'localhost'],
    ['a name with ?host= and ?port=', 'db-alias.invalid:5432', '?host=127.0.0.1&port=PORT'],
  ]

  it.each(spellings)('recognises the source spelled %s as the same database', async (_label, host, query) => {
    const url = spelled(host, query)
    const identity = await identityOf(url)
    expect(sameDatabase(identity, sourceIdentity)).toBe(true)
    expect(endpointsMayMatch(resolveEndpoint(url), resolveEndpoint(source.url))).toBe(true)
  })

  it('tells another database of the same server apart', async () => {
    const identity = await identityOf(sibling.url)
    expect(sameServer(identity, sourceIdentity)).toBe(true)
    expect(sameDatabase(identity, sourceIdentity)).toBe(false)
  })

  it('tells another cluster apart, even for a database of the same name', async () => {
    await sql(other.url, `CREATE DATABASE "${source.name}"`)
    const identity = await identityOf(other.urlFor(source.name))
    expect(sameServer(identity, sourceIdentity)).toBe(false)
    expect(sameDatabase(identity, sourceIdentity)).toBe(false)
    expect(identity.systemIdentifier).not.toBe(sourceIdentity.systemIdentifier)
  })

  it('lets any role read the system identifier on PostgreSQL 15 (pg_control_system is PUBLIC)', async () => {
    const { rows } = await sql(
      source.url,
      "SELECT proacl FROM pg_catalog.pg_proc WHERE proname = 'pg_control_system'",
    )
    expect(rows[0].proacl).toBeNull()
  })

  it('falls back to the start time where a hardened server revoked pg_control_system', async () => {
    const role = `lb_identity_${process.pid}`
    await sql(source.url, `DROP ROLE IF EXISTS ${role}; CREATE ROLE ${role} LOGIN PASSWORD 'pw'`)
    await sql(source.url, 'REVOKE EXECUTE ON FUNCTION pg_catalog.pg_control_system() FROM PUBLIC')
    try {
      const url = new URL(source.url)
      url.username = role
      url.password = 'pw'
      const identity = await identityOf(url.toString())
      expect(identity.systemIdentifier).toBeNull()
      expect(sameDatabase(identity, sourceIdentity)).toBe(true)
    } finally {
      await sql(source.url, 'GRANT EXECUTE ON FUNCTION pg_catalog.pg_control_system() TO PUBLIC')
      await sql(source.url, `DROP ROLE IF EXISTS ${role}`)
    }
  })
})
