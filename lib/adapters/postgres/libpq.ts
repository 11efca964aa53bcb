// libpq's rules for completing a connection, as psql and pg_dump apply them: what the
// connection string says, then the service file's entry, then the PG* variables, then
// the defaults; the password file when no password is given. Pure: the caller reads
// files (`readFile`), so the same rules are tested without touching the home folder.
import { ConninfoError, type ConninfoParams, parseConninfo } from './conninfo.ts'

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full'
export const SSL_MODES: readonly SslMode[] = [
  'disable',
  'allow',
  'prefer',
  'require',
  'verify-ca',
  'verify-full',
]

/** Everything a connection needs, complete. `host` starting with `/` is a Unix-socket folder. */
export interface ConnectionParams {
  host: string
  port: number
  user: string
  password?: string
  dbname: string
  sslmode: SslMode
  sslrootcert?: string
  /** Seconds; absent means the tool's own default. */
  connectTimeout?: number
  applicationName?: string
  options?: string
}

/** The host facts libpq consults: files, the home folder, the OS user. */
export interface LibpqHost {
  readFile(path: string): string | undefined
  home: string | undefined
  osUser: string | undefined
}

export const NO_HOST: LibpqHost = { readFile: () => undefined, home: undefined, osUser: undefined }

type Env = Readonly<Record<string, string | undefined>>

/** The variable libpq reads for each keyword. */
export const LIBPQ_ENV: Readonly<Record<string, string>> = {
  host: 'PGHOST',
  port: 'PGPORT',
  dbname: 'PGDATABASE',
  user: 'PGUSER',
  password: 'PGPASSWORD',
  passfile: 'PGPASSFILE',
  service: 'PGSERVICE',
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  connect_timeout: 'PGCONNECT_TIMEOUT',
  application_name: 'PGAPPNAME',
  options: 'PGOPTIONS',
}

/** Variables that say where a server is: any of them makes the PG* variables a source. */
export const LIBPQ_LOCATION_ENV = ['PGHOST', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGSERVICE'] as const

/**
 * Completes a connection string (or none) by libpq's rules. `setting` names where the
 * string came from, for messages. Throws ConninfoError naming the setting at fault.
 */
export function resolveConnection(
  conninfo: string | undefined,
  setting: string,
  env: Env,
  host: LibpqHost = NO_HOST,
): ConnectionParams {
  let given: ConninfoParams
  try {
    given = parseConninfo(conninfo ?? '')
  } catch (error) {
    throw new ConninfoError(`${setting} ${(error as Error).message}`)
  }
  const origin: Record<string, string> = {}
  const merged: ConninfoParams = {}
  const take = (params: ConninfoParams, from: string) => {
    for (const [key, value] of Object.entries(params)) {
      if (merged[key] !== undefined || value === '') continue
      merged[key] = value
      origin[key] = from
    }
  }
  take(given, setting)
  const service = merged.service ?? nonEmpty(env.PGSERVICE)
  if (service) take(serviceEntry(service, env, host), `service "${service}"`)
  for (const [key, name] of Object.entries(LIBPQ_ENV)) {
    const value = nonEmpty(env[name])
    if (value !== undefined) take({ [key]: value }, name)
  }
  return complete(merged, origin, env, host)
}

function complete(
  merged: ConninfoParams,
  origin: Record<string, string>,
  env: Env,
  host: LibpqHost,
): ConnectionParams {
  const where = (key: string) => origin[key] ?? key
  const port = Number(merged.port ?? 5432)
  if (!/^\d+$/.test(merged.port ?? '5432') || port < 1 || port > 65535) {
    const shown = origin.port?.startsWith('PG') ? `, got "${merged.port}"` : ''
    throw new ConninfoError(`${where('port')}: the port must be a number from 1 to 65535${shown}`)
  }
  const sslmode = (merged.sslmode ?? 'prefer') as SslMode
  if (!SSL_MODES.includes(sslmode)) {
    throw new ConninfoError(`${where('sslmode')}: sslmode must be one of ${SSL_MODES.join(', ')}`)
  }
  const user = merged.user ?? host.osUser
  if (!user) throw new ConninfoError('no database user: set PGUSER or give one in the connection string')
  const params: ConnectionParams = {
    host: merged.host ?? 'localhost',
    port,
    user,
    dbname: merged.dbname ?? user,
    sslmode,
  }
  if (merged.sslrootcert) params.sslrootcert = merged.sslrootcert
  if (merged.application_name) params.applicationName = merged.application_name
  if (merged.options) params.options = merged.options
  if (merged.connect_timeout !== undefined) {
    const seconds = Number(merged.connect_timeout)
    if (!/^-?\d+$/.test(merged.connect_timeout))
      throw new ConninfoError(`${where('connect_timeout')}: connect_timeout must be whole seconds`)
    // libpq: 0 or less waits forever, and anything under 2 s counts as 2 s.
    if (seconds > 0) params.connectTimeout = Math.max(2, seconds)
  }
  const password = merged.password ?? passwordFromFile(params, merged.passfile, env, host)
  if (password !== undefined) params.password = password
  return params
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

/** The service's entry: the user's file (PGSERVICEFILE or ~/.pg_service.conf), then the system's. */
function serviceEntry(name: string, env: Env, host: LibpqHost): ConninfoParams {
  const files = [
    nonEmpty(env.PGSERVICEFILE) ?? (host.home ? `${host.home}/.pg_service.conf` : undefined),
    `${nonEmpty(env.PGSYSCONFDIR) ?? '/etc/postgresql-common'}/pg_service.conf`,
  ].filter((f): f is string => f !== undefined)
  for (const file of files) {
    const text = host.readFile(file)
    if (text === undefined) continue
    const entry = parseServiceFile(text).get(name)
    if (entry) {
      if (entry.service !== undefined)
        throw new ConninfoError(`service "${name}" in ${file} names another service, which libpq refuses`)
      return entry
    }
  }
  throw new ConninfoError(`service "${name}" is not defined in ${files.join(' or ')}`)
}

/** `[name]` sections of key=value lines; `#` starts a comment line. */
export function parseServiceFile(text: string): Map<string, ConninfoParams> {
  const services = new Map<string, ConninfoParams>()
  let current: ConninfoParams | undefined
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const section = /^\[(.+)\]$/.exec(line)
    if (section) {
      current = {}
      services.set(section[1]!.trim(), current)
      continue
    }
    const eq = line.indexOf('=')
    if (current && eq > 0) current[line.slice(0, eq).trim()] = line.slice(eq + 1).trim()
  }
  return services
}

function passwordFromFile(
  params: ConnectionParams,
  passfile: string | undefined,
  env: Env,
  host: LibpqHost,
): string | undefined {
  const file = passfile ?? nonEmpty(env.PGPASSFILE) ?? (host.home ? `${host.home}/.pgpass` : undefined)
  const text = file ? host.readFile(file) : undefined
  return text === undefined ? undefined : matchPassFile(text, params)
}

/**
 * The first line of a password file matching host, port, database and user (`*` matches
 * anything; `\:` and `\\` escape). A socket connection matches `localhost` too.
 */
export function matchPassFile(
  text: string,
  target: Pick<ConnectionParams, 'host' | 'port' | 'dbname' | 'user'>,
): string | undefined {
  const hosts = target.host.startsWith('/') ? [target.host, 'localhost'] : [target.host]
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '' || line.startsWith('#')) continue
    const fields = splitPassLine(line)
    if (fields.length < 5) continue
    const [h, p, d, u] = fields as [string, string, string, string]
    const password = fields.slice(4).join(':')
    const matches = (pattern: string, value: string) => pattern === '*' || pattern === value
    if (
      hosts.some((candidate) => matches(h, candidate)) &&
      matches(p, String(target.port)) &&
      matches(d, target.dbname) &&
      matches(u, target.user)
    )
      return password
  }
  return undefined
}

function splitPassLine(line: string): string[] {
  const fields: string[] = []
  let field = ''
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!
    if (char === '\\' && i + 1 < line.length) field += line[++i]
    else if (char === ':') {
      fields.push(field)
      field = ''
    } else field += char
  }
  fields.push(field)
  return fields
}

/**
 * The one URL every part of the tool passes around: complete, percent-encoded, readable
 * by libpq, node-postgres and `new URL`. A socket folder travels as `?host=`.
 */
export function connectionUrl(params: ConnectionParams): string {
  const enc = encodeURIComponent
  const auth = `${enc(params.user)}${params.password === undefined ? '' : `:${enc(params.password)}`}@`
  const socket = params.host.startsWith('/')
  const hostPart = socket ? 'localhost' : params.host.includes(':') ? `[${params.host}]` : params.host
  // libpq decodes only %XX in a URI (a `+` stays a plus), so no URLSearchParams here.
  const query: [string, string | undefined][] = [
    ['host', socket ? params.host : undefined],
    ['sslmode', params.sslmode],
    ['sslrootcert', params.sslrootcert],
    ['connect_timeout', params.connectTimeout?.toString()],
    ['application_name', params.applicationName],
    ['options', params.options],
  ]
  const search = query.flatMap(([key, value]) => (value === undefined ? [] : [`${key}=${enc(value)}`]))
  return `postgresql://${auth}${hostPart}:${params.port}/${enc(params.dbname)}?${search.join('&')}`
}
