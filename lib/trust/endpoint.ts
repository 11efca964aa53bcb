// Where a connection URL points, spelled one way: 127.1, 2130706433, 0x7f.1 and
// [::ffff:127.0.0.1] are one address, as getaddrinfo (and so node-postgres) reads them. Pure.

/** Dotted-quad IPv4, each part 0–255 without leading zeros (what inet_pton takes). */
function isIPv4(text: string): boolean {
  return /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(text)
}

/** An IPv6 literal, as the WHATWG URL parser (and so Node) accepts one. */
function isIPv6(text: string): boolean {
  if (!text.includes(':')) return false
  try {
    new URL(`http://[${text}]/`)
    return true
  } catch {
    return false
  }
}

export interface Endpoint {
  /** Normalised: dotted IPv4, compressed IPv6, a socket folder, or a lower-case name. */
  host: string
  hostKind: 'ipv4' | 'ipv6' | 'socket' | 'name'
  /** This machine: 127.0.0.0/8, ::1, localhost, or a Unix socket. */
  local: boolean
  port: number
  database: string
  user: string
}

/**
 * inet_aton's forms, which getaddrinfo (and so node-postgres) accepts: one to four parts,
 * each decimal, octal (leading 0) or hex (0x), the last filling the remaining bytes.
 */
export function parseInetAton(text: string): string | undefined {
  const parts = text.split('.')
  if (parts.length > 4 || parts.some((p) => !/^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$/i.test(p))) return undefined
  const values = parts.map((p) =>
    /^0x/i.test(p) ? Number.parseInt(p.slice(2), 16) : /^0./.test(p) ? Number.parseInt(p, 8) : Number(p),
  )
  const last = values.pop()!
  if (values.some((v) => v > 255) || last >= 2 ** (8 * (4 - values.length))) return undefined
  const bytes = [...values]
  for (let i = 4 - values.length - 1; i >= 0; i--) bytes.push(Math.floor(last / 2 ** (8 * i)) % 256)
  return bytes.join('.')
}

/** IPv6 in its canonical compressed form; an IPv4-mapped address (::ffff:a.b.c.d) as IPv4. */
function normaliseIPv6(text: string): { host: string; hostKind: 'ipv4' | 'ipv6' } {
  const compressed = new URL(`http://[${text}]/`).hostname.slice(1, -1)
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(compressed)
  if (mapped) {
    const high = Number.parseInt(mapped[1]!, 16)
    const low = Number.parseInt(mapped[2]!, 16)
    return { host: [high >> 8, high & 255, low >> 8, low & 255].join('.'), hostKind: 'ipv4' }
  }
  return { host: compressed, hostKind: 'ipv6' }
}

export function normaliseHost(raw: string): Pick<Endpoint, 'host' | 'hostKind' | 'local'> {
  const text = raw.trim().replace(/^\[|\]$/g, '')
  if (text.startsWith('/')) return { host: text.replace(/\/+$/, '') || '/', hostKind: 'socket', local: true }
  if (isIPv6(text)) {
    const v6 = normaliseIPv6(text)
    const local = v6.hostKind === 'ipv4' ? v6.host.startsWith('127.') : v6.host === '::1'
    return { ...v6, local }
  }
  const v4 = isIPv4(text) ? text : parseInetAton(text)
  if (v4 !== undefined) return { host: v4, hostKind: 'ipv4', local: v4.startsWith('127.') }
  const name = text.toLowerCase().replace(/\.$/, '')
  return { host: name, hostKind: 'name', local: name === 'localhost' }
}

/**
 * Before connecting, from URLs alone: could these two be the same database? Loopback
 * spellings of one port are taken as one machine. A name and an address cannot be
 * compared without DNS, so such pairs say "maybe"; the identity check decides.
 */
export function endpointsMayMatch(a: Endpoint, b: Endpoint): boolean {
  if (a.port !== b.port || a.database !== b.database) return false
  if (a.host === b.host || (a.local && b.local)) return true
  return a.hostKind === 'name' || b.hostKind === 'name'
}
