// Small text helpers of the doctor's checks: socket hosts, Supabase's connection kinds and the pooler URL
// to suggest, PostgreSQL duration settings, identifiers quoted for the SQL a fix shows, and
// long lists shortened. Pure.
import { supabaseProjectRef } from '../core/rest-config.ts'

export type HostKind = 'direct' | 'session-pooler' | 'transaction-pooler' | 'other'

/** A host starting with `/` is a Unix-socket folder, as libpq reads it: no DNS, no TCP. */
export function isSocketFolder(host: string): boolean {
  return host.startsWith('/')
}

/** Supabase's direct host `db.<ref>.supabase.co` (IPv6-only) and its poolers (5432 session, 6543 transaction). */
export function supabaseHostKind(host: string, port: number): HostKind {
  if (port === 6543) return 'transaction-pooler'
  if (/\.pooler\.supabase\.com$/i.test(host)) return 'session-pooler'
  if (/^db\.[a-z0-9]+\.supabase\.(co|in)$/i.test(host)) return 'direct'
  return 'other'
}

export function sessionPoolerHint(source: { host: string; user: string }): string {
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

export function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`
}

export function quoteTable(qualified: string): string {
  const dot = qualified.indexOf('.')
  return `${quoteIdent(qualified.slice(0, dot))}.${quoteIdent(qualified.slice(dot + 1))}`
}

/** Names joined with commas, the tail counted once there are more than `max`. */
export function list(names: readonly string[], max = 8): string {
  return names.length <= max
    ? names.join(', ')
    : `${names.slice(0, max).join(', ')} and ${names.length - max} more`
}
