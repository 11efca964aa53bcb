// The doctor's judgement, pure: probe results (gathered by lib/doctor/probes.ts) become
// a checklist, each item data `{ id, title, status, detail, fix? }`; a `fail` is
// something that would make the backup (or a restore of it) fail, a `warn` works today
// but is a risk. Pure.
import type { DoctorSettings, DoctorSource } from '../core/doctor-config.ts'
import { type ErrorCode, ExitCode, LifeboatError } from '../core/errors.ts'
import { plural } from '../core/format.ts'
import { supabaseProjectRef } from '../core/rest-config.ts'

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip'

export interface Check {
  id: string
  title: string
  status: CheckStatus
  detail: string
  fix?: string
  /** The error a failure would surface as in the backup job. */
  code?: ErrorCode
}

export interface OpResult {
  ok: boolean
  /** The catalogue code of the failure (STORE_FORBIDDEN…). */
  code?: string
  message?: string
}

export interface TableProbe {
  name: string
  canSelect: boolean
  rls: boolean
  forced: boolean
  owned: boolean
  /** A `SELECT … LIMIT 0` with row_security = off, as the export reads. */
  readable: 'ok' | 'permission' | 'rls' | 'error'
  error?: string
}

export interface DoctorProbes {
  settings: DoctorSettings
  dns?: { v4: string[]; v6: string[]; error?: string }
  tcp?: { address: string; family: 4 | 6; ok: boolean; error?: string }[]
  login?:
    | {
        ok: true
        user: string
        serverVersion: string
        serverVersionNum: number
        superuser: boolean
        bypassRls: boolean
      }
    | { ok: false; code: string; sqlstate?: string; message: string }
  pgDump?: { version: string; major: number; path: string } | { missing: string }
  timeouts?: { name: string; value: string; overridden: boolean }[]
  tables?: TableProbe[]
  store?: {
    location: string
    probeKey: string
    list?: OpResult
    put?: OpResult
    get?: OpResult & { matches?: boolean }
    delete?: OpResult
  }
  identity?: { ok: boolean; matches?: boolean; error?: string }
  api?: { ok: true; tables: number; schemas: string[] } | { ok: false; code: string; message: string }
  authApi?: OpResult
}

// ---------------------------------------------------------------------------
// Supabase connection kinds

export type HostKind = 'direct' | 'session-pooler' | 'transaction-pooler' | 'other'

/** Supabase's direct host `db.<ref>.supabase.co` (IPv6-only) and its poolers (5432 session, 6543 transaction). */
export function supabaseHostKind(host: string, port: number): HostKind {
  if (port === 6543) return 'transaction-pooler'
  if (/\.pooler\.supabase\.com$/i.test(host)) return 'session-pooler'
  if (/^db\.[a-z0-9]+\.supabase\.(co|in)$/i.test(host)) return 'direct'
  return 'other'
}

function sessionPoolerHint(source: { host: string; user: string }): string {
  const ref = supabaseProjectRef(source.host, source.user) ?? '<project-ref>'
  return `postgresql://postgres.${ref}:<password>@aws-0-<region>.pooler.supabase.com:5432/postgres (Dashboard → Connect → Session pooler)`
}

/** PostgreSQL's duration setting text (`0`, `1s`, `30000`, `5min`) in milliseconds. */
export function durationMs(value: string): number {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*(ms|s|min|h|d)?\s*$/.exec(value)
  if (!m) return Number.NaN
  const scale: Record<string, number> = { ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 }
  return Number(m[1]) * scale[m[2] ?? 'ms']!
}

function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`
}

function quoteTable(qualified: string): string {
  const dot = qualified.indexOf('.')
  return `${quoteIdent(qualified.slice(0, dot))}.${quoteIdent(qualified.slice(dot + 1))}`
}

function list(names: readonly string[], max = 8): string {
  return names.length <= max
    ? names.join(', ')
    : `${names.slice(0, max).join(', ')} and ${names.length - max} more`
}

// ---------------------------------------------------------------------------
// The checklist

export function buildChecklist(probes: DoctorProbes): Check[] {
  const checks: Check[] = []
  const add = (check: Check) => checks.push(check)
  const s = probes.settings
  const source = s.source

  if (source.kind === 'none') {
    add({
      id: 'settings.source',
      title: 'Source',
      status: 'fail',
      code: 'CONFIG_MISSING',
      detail: 'no source is configured',
      fix: 'set DATABASE_URL (the direct connection or the session pooler: recommended, one consistent snapshot), or the PG* variables psql uses (PGHOST, PGDATABASE, … or PGSERVICE), or SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY for API-only mode',
    })
  } else if (source.kind === 'rest') {
    add({
      id: 'settings.source',
      title: 'Source',
      status: 'warn',
      detail: `API-only mode (${source.url}): tables are read page by page through the API, not from one snapshot; no schema.sql, no sequence values`,
      fix: 'where the database is reachable, set DATABASE_URL (session pooler, port 5432) for consistent backups; see docs/api-mode.md',
    })
  } else {
    const kind = supabaseHostKind(source.host, source.port)
    if (kind === 'transaction-pooler') {
      add({
        id: 'settings.source',
        title: 'Source',
        status: 'fail',
        code: 'DB_POOLER_TRANSACTION',
        detail: `${source.setting} points at a transaction pooler (${source.host}:${source.port}): it hands each statement to any connection, so no snapshot can be held`,
        fix: `use the session pooler, port 5432: ${sessionPoolerHint(source)}, or the direct connection`,
      })
    } else {
      const described = {
        direct: "Supabase's direct connection (IPv6 only, unless the IPv4 add-on is enabled)",
        'session-pooler': "Supabase's session pooler (IPv4 and IPv6; a session per client: snapshots work)",
        other: 'a direct PostgreSQL connection',
      }[kind]
      add({
        id: 'settings.source',
        title: 'Source',
        status: 'ok',
        detail: `${source.setting}: ${source.user}@${source.host}:${source.port}/${source.database}, ${described}`,
      })
    }
  }

  if (!s.store) {
    add({
      id: 'settings.store',
      title: 'Store',
      status: 'fail',
      code: 'CONFIG_MISSING',
      detail: 'BACKUP_STORE is not set',
      fix: 'set BACKUP_STORE to s3://bucket/prefix (with AWS_REGION and credentials) or file:///path/to/folder',
    })
  } else {
    add({ id: 'settings.store', title: 'Store', status: 'ok', detail: s.store.url })
  }
  if (s.problems.length > 0) {
    add({
      id: 'settings.valid',
      title: 'Settings',
      status: 'fail',
      code: 'CONFIG_INVALID',
      detail: s.problems.join('; '),
      fix: 'correct the settings named; every job reports the same',
    })
  }

  if (source.kind === 'postgres') addDatabaseChecks(probes, source, add)
  if (source.kind === 'rest') addApiChecks(probes, add)
  addStoreChecks(probes, add)
  addEncryptionChecks(probes, add)
  addAlertChecks(probes, add)
  return checks
}

function addDatabaseChecks(
  probes: DoctorProbes,
  source: Extract<DoctorSource, { kind: 'postgres' }>,
  add: (check: Check) => void,
): void {
  const where = `${source.host}:${source.port}`
  const skipped = (id: string, title: string, why: string) => add({ id, title, status: 'skip', detail: why })
  const dns = probes.dns
  const tcp = probes.tcp ?? []
  const reached = tcp.filter((t) => t.ok)
  const kind = supabaseHostKind(source.host, source.port)

  if (!dns) skipped('network.dns', 'DNS', 'not probed')
  else if (dns.error || dns.v4.length + dns.v6.length === 0) {
    add({
      id: 'network.dns',
      title: 'DNS',
      status: 'fail',
      code: 'DB_UNREACHABLE',
      detail: `${source.host} does not resolve${dns.error ? ` (${dns.error})` : ''}`,
      fix: `check the host name in ${source.setting}; for Supabase copy the URL from Dashboard → Connect`,
    })
  } else if (dns.v4.length === 0) {
    const works = reached.some((t) => t.family === 6)
    add({
      id: 'network.dns',
      title: 'DNS',
      status: works ? 'warn' : 'fail',
      ...(works ? {} : { code: 'DB_UNREACHABLE' as const }),
      detail: works
        ? `${source.host} has only IPv6 addresses (${list(dns.v6, 2)}): reachable from here, but GitHub-hosted runners and many networks have no IPv6`
        : `${source.host} has only IPv6 addresses (${list(dns.v6, 2)}) and this machine cannot reach them`,
      fix:
        kind === 'direct'
          ? `use Supabase's session pooler (IPv4): ${sessionPoolerHint(source)}`
          : 'give the database an IPv4 address, or run the backup where IPv6 works',
    })
  } else {
    add({
      id: 'network.dns',
      title: 'DNS',
      status: 'ok',
      detail: `${source.host}: IPv4 ${list(dns.v4, 2)}${dns.v6.length > 0 ? `, IPv6 ${list(dns.v6, 2)}` : ' (no IPv6)'}`,
    })
  }

  if (tcp.length === 0) skipped('network.tcp', 'Network', 'no address to connect to')
  else if (reached.length > 0) {
    add({
      id: 'network.tcp',
      title: 'Network',
      status: 'ok',
      detail: `${reached.map((t) => t.address).join(', ')} port ${source.port} accepts connections`,
    })
  } else {
    const errors = [...new Set(tcp.map((t) => t.error ?? 'failed'))].join(', ')
    add({
      id: 'network.tcp',
      title: 'Network',
      status: 'fail',
      code: 'DB_UNREACHABLE',
      detail: `nothing accepts connections at ${where} (${errors})`,
      fix: `check host and port in ${source.setting} and that the server runs; a firewall or Supabase's network restrictions (Database → Network Restrictions) may block this machine`,
    })
  }

  const login = probes.login
  if (!login) skipped('database.login', 'Login', 'the server cannot be reached')
  else if (login.ok) {
    add({
      id: 'database.login',
      title: 'Login',
      status: 'ok',
      detail: `logged in as ${login.user} to PostgreSQL ${login.serverVersion}${login.superuser ? ' (superuser)' : login.bypassRls ? ' (BYPASSRLS)' : ''}`,
    })
  } else if (login.code === 'DB_AUTH') {
    add({
      id: 'database.login',
      title: 'Login',
      status: 'fail',
      code: 'DB_AUTH',
      detail: `the server refused the login of user "${source.user}" (${login.sqlstate ?? 'auth'}: wrong password or user)`,
      fix: `correct the user and password in ${source.setting} (percent-encode special characters such as @ : / in the password); on Supabase reset it under Project Settings → Database${kind === 'session-pooler' ? `; the pooler's user is postgres.<project-ref>` : ''}`,
    })
  } else {
    add({
      id: 'database.login',
      title: 'Login',
      status: 'fail',
      code: (login.code as ErrorCode) ?? 'DB_UNREACHABLE',
      detail: login.message,
      fix:
        login.sqlstate === '3D000'
          ? `the database "${source.database}" does not exist: correct the path of ${source.setting}`
          : `check ${source.setting}; the message above is the server's`,
    })
  }

  const connected = login?.ok === true
  if (!connected) {
    for (const [id, title] of [
      ['database.pg_dump', 'pg_dump'],
      ['database.privileges', 'Table rights'],
      ['database.rls', 'Row security'],
      ['database.timeouts', 'Timeouts'],
    ] as const) {
      skipped(id, title, 'needs a login')
    }
    return
  }

  const server = login as Extract<DoctorProbes['login'], { ok: true }>
  const major = Math.floor(server.serverVersionNum / 10000)
  const dump = probes.pgDump
  if (!dump) skipped('database.pg_dump', 'pg_dump', 'not probed')
  else if ('missing' in dump) {
    add({
      id: 'database.pg_dump',
      title: 'pg_dump',
      status: 'warn',
      detail: `${dump.missing}: schema.sql is generated from the catalogs instead (covers tables, types, indexes, constraints, functions; see docs)`,
      fix: `for pg_dump's own schema.sql install postgresql-client-${major} (apt.postgresql.org) or set PATH to its bin folder`,
    })
  } else {
    add({
      id: 'database.pg_dump',
      title: 'pg_dump',
      status: 'ok',
      detail: `pg_dump ${dump.version} (${dump.path}) can dump PostgreSQL ${major}: schema.sql via pg_dump`,
    })
  }

  const tables = probes.tables ?? []
  const denied = tables.filter((t) => !t.canSelect || t.readable === 'permission')
  if (tables.length === 0) {
    add({
      id: 'database.privileges',
      title: 'Table rights',
      status: 'warn',
      detail: 'no table matches the selection: the backup would hold no data',
      fix: 'check -n/-t/-N/-T, and that the tables exist in this database',
    })
  } else if (denied.length > 0) {
    add({
      id: 'database.privileges',
      title: 'Table rights',
      status: 'fail',
      code: 'DB_PERMISSION',
      detail: `${server.user} cannot read ${denied.length} of ${tables.length} selected tables: ${list(denied.map((t) => t.name))}`,
      fix: `GRANT SELECT ON ${denied.map((t) => quoteTable(t.name)).join(', ')} TO ${quoteIdent(server.user)}; (or back up as the owner, e.g. Supabase's postgres role), or leave them out with -T`,
    })
  } else {
    add({
      id: 'database.privileges',
      title: 'Table rights',
      status: 'ok',
      detail: `${server.user} can read all ${tables.length} selected tables`,
    })
  }

  const hidden = tables.filter((t) => t.readable === 'rls')
  const withRls = tables.filter((t) => t.rls)
  if (hidden.length > 0) {
    add({
      id: 'database.rls',
      title: 'Row security',
      status: 'fail',
      code: 'DB_PERMISSION',
      detail: `row-level security applies to ${server.user} on ${list(hidden.map((t) => t.name))}: with row_security = off the export stops there (with it on, rows would be silently missing)`,
      fix: `ALTER ROLE ${quoteIdent(server.user)} BYPASSRLS; (Supabase's postgres role has it), or back up as the tables' owner`,
    })
  } else {
    const errors = tables.filter((t) => t.readable === 'error')
    add({
      id: 'database.rls',
      title: 'Row security',
      status: errors.length > 0 ? 'warn' : 'ok',
      detail:
        errors.length > 0
          ? `reading ${list(errors.map((t) => `${t.name} (${t.error ?? 'error'})`))} failed`
          : withRls.length === 0
            ? 'no selected table uses row-level security'
            : `${plural(withRls.length, 'table')} ${withRls.length === 1 ? 'uses' : 'use'} row-level security; ${server.superuser ? 'superuser' : server.bypassRls ? 'BYPASSRLS' : 'ownership'} lets the export read every row (row_security = off)`,
    })
  }

  const timeouts = probes.timeouts ?? []
  const limiting = timeouts.filter((t) => durationMs(t.value) > 0)
  const stuck = limiting.filter((t) => !t.overridden)
  if (stuck.length > 0) {
    add({
      id: 'database.timeouts',
      title: 'Timeouts',
      status: 'fail',
      code: 'DB_QUERY',
      detail: `${stuck.map((t) => `${t.name} = ${t.value}`).join(', ')} cannot be switched off in a session: a long COPY would be cancelled`,
      fix: `${stuck.map((t) => `ALTER ROLE ${quoteIdent(server.user)} SET ${t.name} = 0;`).join(' ')} (or connect without a pooler that pins settings)`,
    })
  } else if (limiting.length > 0) {
    add({
      id: 'database.timeouts',
      title: 'Timeouts',
      status: 'warn',
      detail: `${limiting.map((t) => `${t.name} = ${t.value}`).join(', ')} for ${server.user} would cancel a long COPY; Lifeboat sets them to 0 in its own sessions (checked: it can), but pg_dump, psql and other tools would be cut off`,
      fix: `${limiting.map((t) => `ALTER ROLE ${quoteIdent(server.user)} SET ${t.name} = 0;`).join(' ')} (or raise them)`,
    })
  } else {
    add({
      id: 'database.timeouts',
      title: 'Timeouts',
      status: 'ok',
      detail: 'statement_timeout and idle_in_transaction_session_timeout are off (0)',
    })
  }
}

function addApiChecks(probes: DoctorProbes, add: (check: Check) => void): void {
  const api = probes.api
  if (!api) {
    add({ id: 'api.reachable', title: 'API', status: 'skip', detail: 'not probed' })
    return
  }
  if (api.ok) {
    add({
      id: 'api.reachable',
      title: 'API',
      status: api.tables > 0 ? 'ok' : 'warn',
      detail: `${plural(api.tables, 'table')} exposed in ${api.schemas.join(', ')}`,
      ...(api.tables > 0
        ? {}
        : { fix: 'expose the schema (Project Settings → API → Exposed schemas) or name it with -n' }),
    })
  } else {
    const auth = api.code === 'API_AUTH'
    add({
      id: 'api.reachable',
      title: 'API',
      status: 'fail',
      code: (api.code as ErrorCode) ?? 'API_UNREACHABLE',
      detail: api.message,
      fix: auth
        ? 'SUPABASE_SERVICE_ROLE_KEY must be the service_role key of this project (Project Settings → API), not the anon key'
        : 'check SUPABASE_URL (https://<project-ref>.supabase.co) and the network',
    })
  }
  if (probes.authApi) {
    add({
      id: 'api.auth_users',
      title: 'Auth admin API',
      status: probes.authApi.ok ? 'ok' : 'fail',
      ...(probes.authApi.ok ? {} : { code: 'API_AUTH' as const }),
      detail: probes.authApi.ok
        ? 'auth users can be listed (--auth-users)'
        : (probes.authApi.message ?? 'refused'),
      ...(probes.authApi.ok
        ? {}
        : { fix: 'the admin API needs the service_role key; or leave out --auth-users' }),
    })
  }
}

function storeFix(kind: 's3' | 'file' | undefined, operation: string, code: string | undefined): string {
  if (code === 'STORE_UNREACHABLE') {
    // Nothing answered: permissions cannot be the cause yet.
    return kind === 's3'
      ? 'nothing answered: check AWS_ENDPOINT_URL_S3 (host and port) or AWS_REGION, the network, a proxy or firewall; permissions matter only once the store answers'
      : 'the folder cannot be reached: check that BACKUP_STORE names a mounted path'
  }
  if (kind === 's3') {
    const action = {
      list: 's3:ListBucket',
      write: 's3:PutObject',
      read: 's3:GetObject',
      delete: 's3:DeleteObject',
    }[operation]
    return `allow ${action} on the bucket prefix for this role (infra/ grants the backup role put/get/list), and check AWS_REGION, AWS_ENDPOINT_URL_S3 and the credentials`
  }
  return 'BACKUP_STORE must name a folder this user can create and write (not a path below a regular file, not read-only)'
}

function addStoreChecks(probes: DoctorProbes, add: (check: Check) => void): void {
  const store = probes.store
  const kind = probes.settings.store?.kind
  if (!store) {
    add({ id: 'store.list', title: 'Store list', status: 'skip', detail: 'no store configured' })
    return
  }
  const op = (
    id: string,
    title: string,
    result: OpResult | undefined,
    operation: string,
    okDetail: string,
  ) => {
    if (!result) return add({ id, title, status: 'skip', detail: 'skipped after an earlier failure' })
    if (result.ok) return add({ id, title, status: 'ok', detail: okDetail })
    add({
      id,
      title,
      status: 'fail',
      code: (result.code as ErrorCode) ?? 'STORE_IO',
      detail: result.message ?? 'failed',
      fix: storeFix(kind, operation, result.code),
    })
  }
  op('store.list', 'Store list', store.list, 'list', `can list ${store.location}`)
  op('store.write', 'Store write', store.put, 'write', `can write ${store.probeKey}`)
  if (store.get?.ok && store.get.matches === false) {
    add({
      id: 'store.read',
      title: 'Store read',
      status: 'fail',
      code: 'STORE_IO',
      detail: `${store.probeKey} came back different from what was written`,
      fix: 'check the endpoint (AWS_ENDPOINT_URL_S3) and the checksum settings (AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED for some S3-compatible servers)',
    })
  } else op('store.read', 'Store read', store.get, 'read', `read ${store.probeKey} back intact`)
  const del = store.delete
  if (!del)
    add({
      id: 'store.delete',
      title: 'Store delete',
      status: 'skip',
      detail: 'nothing was written to delete',
    })
  else if (del.ok) {
    add({
      id: 'store.delete',
      title: 'Store delete',
      status: 'ok',
      detail: 'this role may delete (clean needs that; a backup-only role need not), the probe is gone',
    })
  } else if (del.code === 'STORE_FORBIDDEN') {
    add({
      id: 'store.delete',
      title: 'Store delete',
      status: 'warn',
      detail: `this role may not delete: right for a backup-only role (clean runs as another); the probe ${store.probeKey} remains, one small object each run overwrites`,
      fix: "nothing to do for the backup role; run the doctor with the cleaner's credentials to check that clean may delete",
    })
  } else {
    add({
      id: 'store.delete',
      title: 'Store delete',
      status: 'fail',
      code: 'STORE_IO',
      detail: del.message ?? 'failed',
      fix: storeFix(kind, 'delete', del?.code),
    })
  }
}

function addEncryptionChecks(probes: DoctorProbes, add: (check: Check) => void): void {
  const s = probes.settings
  if (s.recipientProblems.length > 0) {
    add({
      id: 'encryption.recipients',
      title: 'Encryption keys',
      status: 'fail',
      code: 'CONFIG_INVALID',
      detail: s.recipientProblems.join('; '),
      fix: 'BACKUP_AGE_RECIPIENTS takes age1… public keys (age-keygen -y key.txt prints one), comma or space separated',
    })
  } else if (s.recipients.length === 0) {
    add({
      id: 'encryption.recipients',
      title: 'Encryption keys',
      status: 'warn',
      detail: 'BACKUP_AGE_RECIPIENTS is not set: archives are stored unencrypted',
      fix: 'age-keygen -o key.txt (keep it offline), then set BACKUP_AGE_RECIPIENTS to the public key it prints',
    })
  } else {
    add({
      id: 'encryption.recipients',
      title: 'Encryption keys',
      status: 'ok',
      detail: `archives are encrypted to ${s.recipients.length} recipient${s.recipients.length === 1 ? '' : 's'}`,
    })
  }

  const identity = probes.identity
  if (!s.identitySet || !identity) {
    add({
      id: 'encryption.identity',
      title: 'Decryption key',
      status: 'skip',
      detail: 'BACKUP_AGE_IDENTITY is not set: not needed to back up (restore and verify need it)',
    })
  } else if (!identity.ok) {
    add({
      id: 'encryption.identity',
      title: 'Decryption key',
      status: 'fail',
      code: 'CONFIG_INVALID',
      detail: identity.error ?? 'BACKUP_AGE_IDENTITY cannot be read',
      fix: 'BACKUP_AGE_IDENTITY takes an AGE-SECRET-KEY-1… key or the path of a key file',
    })
  } else if (identity.matches === false) {
    add({
      id: 'encryption.identity',
      title: 'Decryption key',
      status: 'fail',
      code: 'DECRYPT_FAILED',
      detail:
        'the public key derived from BACKUP_AGE_IDENTITY is not among BACKUP_AGE_RECIPIENTS: archives written now could not be opened with this key',
      fix: "age-keygen -y <key file> prints the identity's public key: add it to BACKUP_AGE_RECIPIENTS (or use the matching identity)",
    })
  } else {
    add({
      id: 'encryption.identity',
      title: 'Decryption key',
      status: 'ok',
      detail:
        identity.matches === true
          ? 'the public key derived from BACKUP_AGE_IDENTITY is among BACKUP_AGE_RECIPIENTS (a backup runner itself needs only the public keys)'
          : 'BACKUP_AGE_IDENTITY reads as a valid key',
    })
  }
}

function addAlertChecks(probes: DoctorProbes, add: (check: Check) => void): void {
  const s = probes.settings
  if (s.alertProblems.length > 0) {
    add({
      id: 'alerts.channels',
      title: 'Alerts',
      status: 'fail',
      code: 'CONFIG_INVALID',
      detail: s.alertProblems.join('; '),
      fix: 'correct the alert settings named (docs/alerts.md)',
    })
  } else if (s.alertChannels.length === 0) {
    add({
      id: 'alerts.channels',
      title: 'Alerts',
      status: 'warn',
      detail: 'no alert channel is configured: a failed nightly backup would go unnoticed',
      fix: 'set SLACK_WEBHOOK_URL, PAGERDUTY_ROUTING_KEY, SMTP_URL + ONCALL_EMAIL and/or HEARTBEAT_URL (docs/alerts.md); test with npm run alert:test',
    })
  } else {
    add({
      id: 'alerts.channels',
      title: 'Alerts',
      status: 'ok',
      detail: `configured: ${s.alertChannels.join(', ')}`,
    })
  }
}

// ---------------------------------------------------------------------------
// Verdict and rendering

export function doctorExitCode(checks: readonly Check[]): ExitCode {
  return checks.some((c) => c.status === 'fail') ? ExitCode.failed : ExitCode.ok
}

const MARK: Record<CheckStatus, string> = { ok: '[ok]  ', warn: '[warn]', fail: '[FAIL]', skip: '[skip]' }

export function renderChecklist(checks: readonly Check[]): string {
  const width = Math.max(...checks.map((c) => c.title.length))
  const lines: string[] = []
  for (const c of checks) {
    lines.push(`${MARK[c.status]} ${c.title.padEnd(width)}  ${c.detail}`)
    if (c.fix && (c.status === 'fail' || c.status === 'warn'))
      lines.push(`       ${' '.repeat(width)}  fix: ${c.fix}`)
  }
  const count = (status: CheckStatus) => checks.filter((c) => c.status === status).length
  const failures = count('fail')
  lines.push(
    `${count('ok')} ok, ${count('warn')} warnings, ${failures} failures: ${failures > 0 ? 'the backup would fail; fix the items marked FAIL' : 'nothing would stop the backup'}`,
  )
  return lines.join('\n')
}

/** The preflight's verdict: one error naming every failure with its fix, or undefined. */
export function preflightError(checks: readonly Check[]): LifeboatError | undefined {
  const failed = checks.filter((c) => c.status === 'fail')
  if (failed.length === 0) return undefined
  const lines = failed.map((c) => `${c.title}: ${c.detail}${c.fix ? ` (fix: ${c.fix})` : ''}`)
  return new LifeboatError(failed[0]!.code ?? 'PREFLIGHT_FAILED', `preflight: ${lines.join('; ')}`, {
    details: lines,
  })
}
