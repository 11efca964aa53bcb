// The doctor's probes (gather): DNS, TCP, login, versions, rights, row security and
// timeouts on the source; put/get/list/delete on the store; keys and alert channels.
// lib/doctor/checks.ts turns them into the checklist (decide). `preflight` runs
// the cheap ones before a backup touches anything.
import { randomBytes } from 'node:crypto'
import { lookup } from 'node:dns/promises'
import { connect as tcpConnect } from 'node:net'
import type pg from 'pg'
import { identityMatches, loadIdentity } from '../adapters/crypto/age.ts'
import { readCatalog } from '../adapters/postgres/catalog.ts'
import { connect, quoteQualified } from '../adapters/postgres/connection.ts'
import { findPgDump } from '../adapters/postgres/schema-sql.ts'
import type { RestClient } from '../adapters/rest/client.ts'
import type { Store } from '../adapters/store/store.ts'
import { BACKUPS_PREFIX } from '../archive/layout.ts'
import type { AgeIdentitySource } from '../core/age-config.ts'
import type { DoctorConfig, DoctorSettings } from '../core/doctor-config.ts'
import { toLifeboatError } from '../core/errors.ts'
import { redact, type Secret } from '../core/secret.ts'
import type { Selection } from '../core/selection.ts'
import { openStorageClient } from '../storage/client.ts'
import type { StorageEndpoint } from '../storage/settings.ts'
import { isSocketFolder } from './check-text.ts'
import {
  buildChecklist,
  type Check,
  type DoctorProbes,
  type OpResult,
  preflightError,
  type TableProbe,
} from './checks.ts'

export interface DoctorDeps {
  store?: Store
  /** Present in API-only mode. */
  client?: RestClient
  /** For pg_dump's search (PATH). */
  env: NodeJS.ProcessEnv
  timeoutMs?: number
}

export interface DoctorResult {
  checks: Check[]
  probes: DoctorProbes
}

export async function runDoctor(config: DoctorConfig, deps: DoctorDeps): Promise<DoctorResult> {
  const timeoutMs = deps.timeoutMs ?? 5_000
  const probes: DoctorProbes = { settings: config.settings }
  const source = config.settings.source
  if (source.kind === 'postgres' && config.sourceUrl) {
    Object.assign(
      probes,
      await probeDatabase(config.sourceUrl, source, config.selection, deps.env, timeoutMs),
    )
  }
  if (source.kind === 'rest' && deps.client) {
    Object.assign(probes, await probeApi(deps.client, config.schemas, config.authUsers))
  }
  if (deps.store) probes.store = await probeStore(deps.store)
  if (config.identity) probes.identity = await probeIdentity(config.identity, config.settings.recipients)
  if (config.storageEndpoints.length > 0)
    probes.storage = await probeStorage(config.storageEndpoints, timeoutMs)
  return { checks: buildChecklist(probes), probes }
}

export interface PreflightInput {
  settings: DoctorSettings
  store: Store
  identity?: AgeIdentitySource | undefined
}

/**
 * The cheap part of the doctor, before anything irreversible: settings, pooler mode,
 * the store answering (head, no writes), the keys, the alert settings. Throws one error naming every
 * failure with its fix; returns the checks otherwise.
 */
export async function preflight(input: PreflightInput): Promise<Check[]> {
  const probes: DoctorProbes = { settings: input.settings }
  // A narrow list under database-backups/: what the backup role may do (it may not HEAD).
  const listed = await op(() => input.store.list(`${BACKUPS_PREFIX}.lifeboat-preflight`))
  probes.store = { location: input.store.location, probeKey: PROBE_KEY, list: listed }
  if (input.identity) probes.identity = await probeIdentity(input.identity, input.settings.recipients)
  // A malformed alert setting fails here (exit 2): a channel that is configured but
  // broken would otherwise leave the nightly job with no one to tell when it fails.
  const checks = buildChecklist(probes).filter(
    (c) =>
      c.id.startsWith('settings.') ||
      c.id === 'store.list' ||
      c.id.startsWith('encryption.') ||
      (c.id === 'alerts.channels' && c.status === 'fail'),
  )
  const error = preflightError(checks)
  if (error) throw error
  return checks
}

/** Lists each Storage endpoint's buckets with its keys (the first call a backup or restore makes). */
async function probeStorage(
  endpoints: readonly StorageEndpoint[],
  timeoutMs: number,
): Promise<(OpResult & { buckets?: number })[]> {
  const results: (OpResult & { buckets?: number })[] = []
  for (const endpoint of endpoints) {
    let buckets: number | undefined
    const deadline = AbortSignal.timeout(timeoutMs * 2)
    const result = await op(async () => {
      const client = await openStorageClient(endpoint)
      buckets = (await client.listBuckets(deadline)).length
    })
    if (deadline.aborted && !result.ok) {
      results.push({
        ok: false,
        code: 'STORAGE_UNREACHABLE',
        message: `no answer within ${timeoutMs * 2} ms`,
      })
    } else results.push(buckets === undefined ? result : { ...result, buckets })
  }
  return results
}

async function op(work: () => Promise<unknown>): Promise<OpResult> {
  try {
    await work()
    return { ok: true }
  } catch (error) {
    const e = toLifeboatError(error)
    return { ok: false, code: e.code, message: redact(e.message) }
  }
}

/**
 * Under database-backups/ because the backup role may put there and read `*.manifest.json`
 * (infra/iam-documents.ts); not an id, so listings ignore it; one fixed key, so a role
 * that may not delete leaves one small object, overwritten by the next run.
 */
export const PROBE_KEY = `${BACKUPS_PREFIX}.lifeboat-doctor-probe.manifest.json`

async function probeStore(store: Store): Promise<NonNullable<DoctorProbes['store']>> {
  const probeKey = PROBE_KEY
  const result: NonNullable<DoctorProbes['store']> = { location: store.location, probeKey }
  result.list = await op(() => store.list('database-backups/'))
  const content = `{"lifeboat": "doctor probe", "at": "${new Date().toISOString()}", "nonce": "${randomBytes(6).toString('hex')}"}\n`
  result.put = await op(() => store.put(probeKey, content, { contentType: 'application/json' }))
  if (!result.put.ok) return result
  let readBack = ''
  const get = await op(async () => {
    const chunks: Buffer[] = []
    for await (const chunk of await store.get(probeKey)) chunks.push(Buffer.from(chunk as Buffer))
    readBack = Buffer.concat(chunks).toString('utf8')
  })
  result.get = get.ok ? { ...get, matches: readBack === content } : get
  result.delete = await op(async () => {
    await store.delete([probeKey])
    if (await store.head(probeKey)) throw new Error(`${probeKey} is still there after delete`)
  })
  return result
}

async function probeIdentity(
  source: AgeIdentitySource,
  recipients: readonly string[],
): Promise<NonNullable<DoctorProbes['identity']>> {
  try {
    const identity = await loadIdentity(source)
    if (recipients.length === 0) return { ok: true }
    return { ok: true, matches: await identityMatches(identity, recipients) }
  } catch (error) {
    return { ok: false, error: redact((error as Error).message) }
  }
}

async function probeApi(
  client: RestClient,
  schemas: readonly string[],
  authUsers: boolean,
): Promise<Pick<DoctorProbes, 'api' | 'authApi'>> {
  const result: Pick<DoctorProbes, 'api' | 'authApi'> = {}
  try {
    let tables = 0
    for (const schema of schemas) tables += (await client.describe(schema)).filter((t) => t.insertable).length
    result.api = { ok: true, tables, schemas: [...schemas] }
  } catch (error) {
    const e = toLifeboatError(error)
    result.api = { ok: false, code: e.code, message: redact(e.message) }
    return result
  }
  if (authUsers) result.authApi = await op(() => client.listUsers(1, 1))
  return result
}

async function probeDatabase(
  url: Secret,
  source: { host: string; port: number },
  selection: Selection,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<Partial<DoctorProbes>> {
  const probes: Partial<DoctorProbes> = {}
  // A socket folder has no address to resolve or port to dial: the login goes first.
  if (!isSocketFolder(source.host)) {
    const reached = await probeNetwork(source, timeoutMs)
    Object.assign(probes, reached)
    if (!reached.tcp.some((t) => t.ok)) return probes
  }

  let client: pg.Client
  try {
    client = await connect(url, { applicationName: 'lifeboat doctor', connectTimeoutMs: timeoutMs * 2 })
  } catch (error) {
    const e = toLifeboatError(error)
    const cause = e.cause as { code?: string } | undefined
    probes.login = {
      ok: false,
      code: e.code,
      message: redact(e.message),
      ...(cause?.code ? { sqlstate: cause.code } : {}),
    }
    return probes
  }
  try {
    const who = await client.query<{
      user: string
      version: string
      num: string
      superuser: boolean
      bypass: boolean
    }>(
      `SELECT current_user AS user, current_setting('server_version') AS version, current_setting('server_version_num') AS num,
              r.rolsuper AS superuser, r.rolbypassrls AS bypass
         FROM pg_roles r WHERE r.rolname = current_user`,
    )
    const me = who.rows[0]!
    probes.login = {
      ok: true,
      user: me.user,
      serverVersion: me.version,
      serverVersionNum: Number(me.num),
      superuser: me.superuser,
      bypassRls: me.bypass,
    }
    probes.timeouts = await probeTimeouts(client)
    probes.tables = await probeTables(client, selection)
    const dump = await findPgDump({ serverVersionNum: Number(me.num), env })
    probes.pgDump = 'tool' in dump ? dump.tool : { missing: dump.reason }
  } catch (error) {
    probes.login = { ok: false, code: toLifeboatError(error).code, message: redact((error as Error).message) }
  } finally {
    await client.end().catch(() => undefined)
  }
  return probes
}

/** DNS (both families), then a TCP connection to the first address of each. */
async function probeNetwork(
  source: { host: string; port: number },
  timeoutMs: number,
): Promise<Required<Pick<DoctorProbes, 'dns' | 'tcp'>>> {
  const [v4, v6] = await Promise.all([resolve(source.host, 4), resolve(source.host, 6)])
  const failure = v4.error && v6.error ? v4.error : undefined
  const targets = [
    ...(v4.addresses[0] ? [{ address: v4.addresses[0], family: 4 as const }] : []),
    ...(v6.addresses[0] ? [{ address: v6.addresses[0], family: 6 as const }] : []),
  ]
  return {
    dns: { v4: v4.addresses, v6: v6.addresses, ...(failure ? { error: failure } : {}) },
    tcp: await Promise.all(targets.map((t) => tcpProbe(t.address, t.family, source.port, timeoutMs))),
  }
}

async function resolve(host: string, family: 4 | 6): Promise<{ addresses: string[]; error?: string }> {
  try {
    const found = await lookup(host, { all: true, family })
    // An IP literal comes back as itself whatever family was asked for.
    return { addresses: found.filter((a) => a.family === family).map((a) => a.address) }
  } catch (error) {
    return { addresses: [], error: (error as NodeJS.ErrnoException).code ?? (error as Error).message }
  }
}

function tcpProbe(
  address: string,
  family: 4 | 6,
  port: number,
  timeoutMs: number,
): Promise<{ address: string; family: 4 | 6; ok: boolean; error?: string }> {
  return new Promise((done) => {
    const socket = tcpConnect({ host: address, port, family })
    const finish = (ok: boolean, error?: string) => {
      socket.destroy()
      done({ address, family, ok, ...(error ? { error } : {}) })
    }
    socket.setTimeout(timeoutMs, () => finish(false, `no answer within ${timeoutMs} ms`))
    socket.once('connect', () => finish(true))
    socket.once('error', (error: NodeJS.ErrnoException) => finish(false, error.code ?? error.message))
  })
}

/** The role's defaults, then whether a session can switch them off (as the backup does). */
async function probeTimeouts(client: pg.Client): Promise<NonNullable<DoctorProbes['timeouts']>> {
  const names = ['statement_timeout', 'idle_in_transaction_session_timeout']
  const result: NonNullable<DoctorProbes['timeouts']> = []
  for (const name of names) {
    const value = (await client.query<{ v: string }>(`SELECT current_setting($1) AS v`, [name])).rows[0]!.v
    let overridden = false
    try {
      await client.query(`SELECT set_config($1, '0', false)`, [name])
      overridden =
        (await client.query<{ v: string }>(`SELECT current_setting($1) AS v`, [name])).rows[0]!.v === '0'
    } catch {
      overridden = false
    }
    result.push({ name, value, overridden })
  }
  return result
}

/** Every selected table: the SELECT right, RLS flags, and a read as the export does it. */
async function probeTables(client: pg.Client, selection: Selection): Promise<TableProbe[]> {
  const catalog = await readCatalog(client, selection)
  if (catalog.tables.length === 0) return []
  const info = await client.query<{
    oid: number
    select: boolean
    rls: boolean
    forced: boolean
    owned: boolean
  }>(
    `SELECT c.oid::int AS oid, has_table_privilege(c.oid, 'SELECT') AS select, c.relrowsecurity AS rls,
            c.relforcerowsecurity AS forced, pg_has_role(c.relowner, 'USAGE') AS owned
       FROM pg_class c WHERE c.oid = ANY($1::oid[])`,
    [catalog.tables.map((t) => t.oid)],
  )
  await client.query(`SELECT set_config('row_security', 'off', false)`)
  const probes: TableProbe[] = []
  for (const table of catalog.tables) {
    const row = info.rows.find((r) => r.oid === table.oid)!
    const probe: TableProbe = {
      name: `${table.schema}.${table.name}`,
      canSelect: row.select,
      rls: row.rls,
      forced: row.forced,
      owned: row.owned,
      readable: 'ok',
    }
    if (row.select) {
      try {
        const only = table.kind === 'p' ? '' : 'ONLY '
        await client.query(`SELECT 1 FROM ${only}${quoteQualified(table.schema, table.name)} LIMIT 0`)
      } catch (error) {
        const e = error as { code?: string; message?: string }
        probe.readable = /row-level security/i.test(e.message ?? '')
          ? 'rls'
          : e.code === '42501'
            ? 'permission'
            : 'error'
        if (probe.readable === 'error') probe.error = redact(e.message ?? String(error))
      }
    } else probe.readable = 'permission'
    probes.push(probe)
  }
  return probes
}
