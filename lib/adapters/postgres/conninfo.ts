// Parses a libpq connection string, as psql takes it: a URL
// (`postgresql://user:password@host:port/dbname?sslmode=require`) or key=value pairs
// (`host=db port=5432 dbname=app`). Pure; messages never quote a password.

/** libpq keyword -> value, e.g. `{ host: 'db', port: '5432' }`. */
export type ConninfoParams = Record<string, string>

/** A connection string that cannot be read; the message is safe to print. */
export class ConninfoError extends Error {
  override readonly name = 'ConninfoError'
}

/** The keywords this tool uses; libpq's others are accepted and ignored (psql would use them). */
export const CONNINFO_KEYWORDS = [
  'host',
  'hostaddr',
  'port',
  'dbname',
  'user',
  'password',
  'passfile',
  'service',
  'sslmode',
  'sslrootcert',
  'connect_timeout',
  'application_name',
  'options',
] as const

export function isConnectionUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text.trim())
}

/** A URL or key=value string; an empty string is no parameters at all. */
export function parseConninfo(text: string): ConninfoParams {
  const value = text.trim()
  if (value === '') return {}
  if (isConnectionUrl(value)) return parseConnectionUrl(value)
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new ConninfoError('is not a postgresql:// URL or a key=value connection string')
  }
  return parseKeywordValue(value)
}

/**
 * libpq's URI rules: user info ends at the first `@` before any `/`, so `?` and `#`
 * may appear in a password unencoded. A password with an unencoded `/` or `@` makes that
 * reading nonsensical (a port that is not a number); then the last `@` is taken instead.
 */
export function parseConnectionUrl(url: string): ConninfoParams {
  const rest = url.trim().replace(/^postgres(ql)?:\/\//i, '')
  const strict = splitUrl(rest, firstAtBeforeSlash(rest))
  if (strict.ok) return strict.params
  const last = rest.lastIndexOf('@')
  if (last >= 0) {
    const lenient = splitUrl(rest, last)
    if (lenient.ok) return lenient.params
  }
  throw new ConninfoError(strict.problem)
}

function firstAtBeforeSlash(rest: string): number {
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '@') return i
    if (rest[i] === '/') return -1
  }
  return -1
}

type Split = { ok: true; params: ConninfoParams } | { ok: false; problem: string }

function splitUrl(rest: string, at: number): Split {
  const params: ConninfoParams = {}
  let remainder = rest
  if (at >= 0) {
    const userinfo = rest.slice(0, at)
    remainder = rest.slice(at + 1)
    const colon = userinfo.indexOf(':')
    const user = decode(colon >= 0 ? userinfo.slice(0, colon) : userinfo)
    const passwordText = colon >= 0 ? userinfo.slice(colon + 1) : undefined
    const password = passwordText === undefined ? undefined : decode(passwordText)
    if (user === undefined || (passwordText !== undefined && password === undefined))
      return { ok: false, problem: 'has a bad %-escape in the user or password' }
    if (user !== '') params.user = user
    if (password !== undefined) params.password = password
  }
  const pathStart = remainder.search(/[/?]/)
  const hostspec = pathStart >= 0 ? remainder.slice(0, pathStart) : remainder
  let tail = pathStart >= 0 ? remainder.slice(pathStart) : ''
  const host = splitHostspec(hostspec)
  if (!host.ok) return host
  Object.assign(params, host.params)
  if (tail.startsWith('/')) {
    const end = tail.indexOf('?')
    const dbname = decode(end >= 0 ? tail.slice(1, end) : tail.slice(1))
    if (dbname === undefined) return { ok: false, problem: 'has a bad %-escape in the database name' }
    if (dbname !== '') params.dbname = dbname
    tail = end >= 0 ? tail.slice(end) : ''
  }
  if (tail.startsWith('?')) {
    for (const pair of tail.slice(1).split('&')) {
      if (pair === '') continue
      const eq = pair.indexOf('=')
      const key = decode(eq >= 0 ? pair.slice(0, eq) : pair)
      const value = decode(eq >= 0 ? pair.slice(eq + 1) : '')
      if (!key || value === undefined) return { ok: false, problem: 'has a bad query parameter' }
      // `ssl=true` is the JDBC and node-postgres spelling of sslmode=require.
      if (key === 'ssl' && /^(1|true)$/i.test(value)) params.sslmode ??= 'require'
      else params[key] = value
    }
  }
  return { ok: true, params }
}

function splitHostspec(hostspec: string): Split {
  if (hostspec === '') return { ok: true, params: {} }
  if (hostspec.includes(','))
    return { ok: false, problem: 'names several hosts; give one (this tool connects to one server)' }
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(hostspec)
  const colon = hostspec.lastIndexOf(':')
  const host = bracket ? bracket[1]! : decode(colon >= 0 ? hostspec.slice(0, colon) : hostspec)
  const port = bracket ? bracket[2] : colon >= 0 ? hostspec.slice(colon + 1) : undefined
  if (host === undefined || /[@\s/]/.test(host) || (!bracket && host.includes(':'))) {
    return { ok: false, problem: 'has no valid host (percent-encode @ / ? # in the password)' }
  }
  const params: ConninfoParams = {}
  if (host !== '') params.host = host
  if (port !== undefined && port !== '') {
    if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      return {
        ok: false,
        problem: 'has a port that is not a number from 1 to 65535 (percent-encode @ / ? # in the password)',
      }
    }
    params.port = port
  }
  return { ok: true, params }
}

/** Percent-decoding; undefined when malformed. */
function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text)
  } catch {
    return undefined
  }
}

/** `key=value` pairs separated by spaces; values may be single-quoted with \' and \\ escapes. */
export function parseKeywordValue(text: string): ConninfoParams {
  const params: ConninfoParams = {}
  let i = 0
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++
  }
  while (true) {
    skipSpace()
    if (i >= text.length) return params
    const keyStart = i
    while (i < text.length && text[i] !== '=' && !/\s/.test(text[i]!)) i++
    const key = text.slice(keyStart, i)
    skipSpace()
    if (text[i] !== '=' || key === '') {
      throw new ConninfoError(`is not a valid key=value connection string (near "${key.slice(0, 20)}")`)
    }
    i++
    skipSpace()
    let value = ''
    if (text[i] === "'") {
      i++
      while (i < text.length && text[i] !== "'") {
        if (text[i] === '\\' && i + 1 < text.length) i++
        value += text[i]
        i++
      }
      if (text[i] !== "'") throw new ConninfoError(`has an unterminated quoted value for ${key}`)
      i++
    } else {
      while (i < text.length && !/\s/.test(text[i]!)) {
        if (text[i] === '\\' && i + 1 < text.length) i++
        value += text[i]
        i++
      }
    }
    params[key] = value
  }
}
