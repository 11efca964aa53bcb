// The doctor's database checks as data: a list of named checks (DNS, network, login,
// pg_dump, table rights, row security, timeouts), each a small function from the probe
// results to a finding. Checks that need a login are skipped without one. Pure.
import type { DoctorSource } from '../core/doctor-config.ts'
import type { ErrorCode } from '../core/errors.ts'
import { plural } from '../core/format.ts'
import {
  durationMs,
  type HostKind,
  isSocketFolder,
  list,
  quoteIdent,
  quoteTable,
  sessionPoolerHint,
  supabaseHostKind,
} from './check-text.ts'
import type { Check, DoctorProbes, Finding } from './check-types.ts'

type PostgresSource = Extract<DoctorSource, { kind: 'postgres' }>
type Server = Extract<DoctorProbes['login'], { ok: true }>

interface DatabaseContext {
  probes: DoctorProbes
  source: PostgresSource
  kind: HostKind
  /** The login, once it succeeded. */
  server?: Server
}

interface DatabaseCheck {
  id: string
  title: string
  /** Skipped with "needs a login" when the login failed. */
  needsLogin: boolean
  judge(context: DatabaseContext): Finding
}

const skip = (detail: string): Finding => ({ status: 'skip', detail })

/** DNS and TCP say nothing about a Unix socket: the login is the first probe that does. */
const socketSkip = (source: PostgresSource): Finding =>
  skip(`not applicable: ${source.host} is a Unix-socket folder`)

function judgeDns({ probes, source, kind }: DatabaseContext): Finding {
  if (isSocketFolder(source.host)) return socketSkip(source)
  const dns = probes.dns
  if (!dns) return skip('not probed')
  if (dns.error || dns.v4.length + dns.v6.length === 0) {
    return {
      status: 'fail',
      code: 'DB_UNREACHABLE',
      detail: `${source.host} does not resolve${dns.error ? ` (${dns.error})` : ''}`,
      fix: `check the host name in ${source.setting}; for Supabase copy the URL from Dashboard → Connect`,
    }
  }
  if (dns.v4.length > 0) {
    return {
      status: 'ok',
      detail: `${source.host}: IPv4 ${list(dns.v4, 2)}${dns.v6.length > 0 ? `, IPv6 ${list(dns.v6, 2)}` : ' (no IPv6)'}`,
    }
  }
  const works = (probes.tcp ?? []).some((t) => t.ok && t.family === 6)
  return {
    status: works ? 'warn' : 'fail',
    ...(works ? {} : { code: 'DB_UNREACHABLE' as const }),
    detail: works
      ? `${source.host} has only IPv6 addresses (${list(dns.v6, 2)}): reachable from here, but GitHub-hosted runners and many networks have no IPv6`
      : `${source.host} has only IPv6 addresses (${list(dns.v6, 2)}) and this machine cannot reach them`,
    fix:
      kind === 'direct'
        ? `use Supabase's session pooler (IPv4): ${sessionPoolerHint(source)}`
        : 'give the database an IPv4 address, or run the backup where IPv6 works',
  }
}

function judgeNetwork({ probes, source }: DatabaseContext): Finding {
  if (isSocketFolder(source.host)) return socketSkip(source)
  const tcp = probes.tcp ?? []
  const reached = tcp.filter((t) => t.ok)
  if (tcp.length === 0) return skip('no address to connect to')
  if (reached.length > 0) {
    return {
      status: 'ok',
      detail: `${reached.map((t) => t.address).join(', ')} port ${source.port} accepts connections`,
    }
  }
  const errors = [...new Set(tcp.map((t) => t.error ?? 'failed'))].join(', ')
  return {
    status: 'fail',
    code: 'DB_UNREACHABLE',
    detail: `nothing accepts connections at ${source.host}:${source.port} (${errors})`,
    fix: `check host and port in ${source.setting} and that the server runs; a firewall or Supabase's network restrictions (Database → Network Restrictions) may block this machine`,
  }
}

function judgeLogin({ probes, source, kind }: DatabaseContext): Finding {
  const login = probes.login
  if (!login) return skip('the server cannot be reached')
  if (login.ok) {
    return {
      status: 'ok',
      detail: `logged in as ${login.user} to PostgreSQL ${login.serverVersion}${login.superuser ? ' (superuser)' : login.bypassRls ? ' (BYPASSRLS)' : ''}`,
    }
  }
  if (login.code === 'DB_AUTH') {
    return {
      status: 'fail',
      code: 'DB_AUTH',
      detail: `the server refused the login of user "${source.user}" (${login.sqlstate ?? 'auth'}: wrong password or user)`,
      fix: `correct the user and password in ${source.setting} (percent-encode special characters such as @ : / in the password); on Supabase reset it under Project Settings → Database${kind === 'session-pooler' ? `; the pooler's user is postgres.<project-ref>` : ''}`,
    }
  }
  return {
    status: 'fail',
    code: (login.code as ErrorCode) ?? 'DB_UNREACHABLE',
    detail: login.message,
    fix:
      login.sqlstate === '3D000'
        ? `the database "${source.database}" does not exist: correct the path of ${source.setting}`
        : isSocketFolder(source.host) && login.code === 'DB_UNREACHABLE'
          ? `check that the server runs and has a socket in ${source.host} for port ${source.port} (unix_socket_directories), or correct ${source.setting}`
          : `check ${source.setting}; the message above is the server's`,
  }
}

function judgePgDump({ probes, server }: DatabaseContext): Finding {
  const major = Math.floor(server!.serverVersionNum / 10000)
  const dump = probes.pgDump
  if (!dump) return skip('not probed')
  if ('missing' in dump) {
    return {
      status: 'warn',
      detail: `${dump.missing}: schema.sql is generated from the catalogs instead (covers tables, types, indexes, constraints, functions; see docs)`,
      fix: `for pg_dump's own schema.sql install postgresql-client-${major} (apt.postgresql.org) or set PATH to its bin folder`,
    }
  }
  return {
    status: 'ok',
    detail: `pg_dump ${dump.version} (${dump.path}) can dump PostgreSQL ${major}: schema.sql via pg_dump`,
  }
}

function judgePrivileges({ probes, server }: DatabaseContext): Finding {
  const user = server!.user
  const tables = probes.tables ?? []
  const denied = tables.filter((t) => !t.canSelect || t.readable === 'permission')
  if (tables.length === 0) {
    return {
      status: 'warn',
      detail: 'no table matches the selection: the backup would hold no data',
      fix: 'check -n/-t/-N/-T, and that the tables exist in this database',
    }
  }
  if (denied.length > 0) {
    return {
      status: 'fail',
      code: 'DB_PERMISSION',
      detail: `${user} cannot read ${denied.length} of ${tables.length} selected tables: ${list(denied.map((t) => t.name))}`,
      fix: `GRANT SELECT ON ${denied.map((t) => quoteTable(t.name)).join(', ')} TO ${quoteIdent(user)}; (or back up as the owner, e.g. Supabase's postgres role), or leave them out with -T`,
    }
  }
  return { status: 'ok', detail: `${user} can read all ${tables.length} selected tables` }
}

function judgeRowSecurity({ probes, server }: DatabaseContext): Finding {
  const { user, superuser, bypassRls } = server!
  const tables = probes.tables ?? []
  const hidden = tables.filter((t) => t.readable === 'rls')
  if (hidden.length > 0) {
    return {
      status: 'fail',
      code: 'DB_PERMISSION',
      detail: `row-level security applies to ${user} on ${list(hidden.map((t) => t.name))}: with row_security = off the export stops there (with it on, rows would be silently missing)`,
      fix: `ALTER ROLE ${quoteIdent(user)} BYPASSRLS; (Supabase's postgres role has it), or back up as the tables' owner`,
    }
  }
  const errors = tables.filter((t) => t.readable === 'error')
  if (errors.length > 0) {
    return {
      status: 'warn',
      detail: `reading ${list(errors.map((t) => `${t.name} (${t.error ?? 'error'})`))} failed`,
    }
  }
  const withRls = tables.filter((t) => t.rls)
  return {
    status: 'ok',
    detail:
      withRls.length === 0
        ? 'no selected table uses row-level security'
        : `${plural(withRls.length, 'table')} ${withRls.length === 1 ? 'uses' : 'use'} row-level security; ${superuser ? 'superuser' : bypassRls ? 'BYPASSRLS' : 'ownership'} lets the export read every row (row_security = off)`,
  }
}

function judgeTimeouts({ probes, server }: DatabaseContext): Finding {
  const user = server!.user
  const limiting = (probes.timeouts ?? []).filter((t) => durationMs(t.value) > 0)
  const stuck = limiting.filter((t) => !t.overridden)
  const resets = (settings: typeof limiting) =>
    settings.map((t) => `ALTER ROLE ${quoteIdent(user)} SET ${t.name} = 0;`).join(' ')
  const named = (settings: typeof limiting) => settings.map((t) => `${t.name} = ${t.value}`).join(', ')
  if (stuck.length > 0) {
    return {
      status: 'fail',
      code: 'DB_QUERY',
      detail: `${named(stuck)} cannot be switched off in a session: a long COPY would be cancelled`,
      fix: `${resets(stuck)} (or connect without a pooler that pins settings)`,
    }
  }
  if (limiting.length > 0) {
    return {
      status: 'warn',
      detail: `${named(limiting)} for ${user} would cancel a long COPY; Lifeboat sets them to 0 in its own sessions (checked: it can), but pg_dump, psql and other tools would be cut off`,
      fix: `${resets(limiting)} (or raise them)`,
    }
  }
  return { status: 'ok', detail: 'statement_timeout and idle_in_transaction_session_timeout are off (0)' }
}

/** The database checks, in the order the checklist shows them. */
export const DATABASE_CHECKS: readonly DatabaseCheck[] = [
  { id: 'network.dns', title: 'DNS', needsLogin: false, judge: judgeDns },
  { id: 'network.tcp', title: 'Network', needsLogin: false, judge: judgeNetwork },
  { id: 'database.login', title: 'Login', needsLogin: false, judge: judgeLogin },
  { id: 'database.pg_dump', title: 'pg_dump', needsLogin: true, judge: judgePgDump },
  { id: 'database.privileges', title: 'Table rights', needsLogin: true, judge: judgePrivileges },
  { id: 'database.rls', title: 'Row security', needsLogin: true, judge: judgeRowSecurity },
  { id: 'database.timeouts', title: 'Timeouts', needsLogin: true, judge: judgeTimeouts },
]

export function databaseChecks(probes: DoctorProbes, source: PostgresSource): Check[] {
  const login = probes.login
  const context: DatabaseContext = {
    probes,
    source,
    kind: supabaseHostKind(source.host, source.port),
    ...(login?.ok ? { server: login } : {}),
  }
  return DATABASE_CHECKS.map(({ id, title, needsLogin, judge }) => ({
    id,
    title,
    ...(needsLogin && !context.server ? skip('needs a login') : judge(context)),
  }))
}
