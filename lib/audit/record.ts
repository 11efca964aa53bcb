// The audit trail's record shape and key naming: one small JSON object per job run under
// audit/<yyyy>/<mm>/<dd>/, append-only (a fresh key every time), never holding a secret. Pure.

import type { OutcomeStatus } from '../alerts/outcome.ts'
import { AUDIT_PREFIX } from '../archive/layout.ts'
import { readRunInfo } from '../core/alert-config.ts'
import type { Env } from '../core/config.ts'
import { SettingsReader } from '../core/config.ts'
import { redact } from '../core/secret.ts'

export const AUDIT_VERSION = 1

export type AuditActor =
  | { kind: 'github'; actor: string; runUrl: string; repository: string; workflow?: string; runId?: string }
  | { kind: 'local'; user: string; host: string }

export type AuditDetail = string | number | boolean | null | readonly string[]

export interface AuditRecord {
  version: typeof AUDIT_VERSION
  /** What ran: backup, restore, verify, clean, monitor, drill, dr-test, … */
  event: string
  /** When the run ended (ISO 8601, UTC). */
  at: string
  startedAt?: string
  outcome: OutcomeStatus
  backupId?: string
  error?: { code: string; message: string; details?: string[] }
  warnings?: string[]
  actor: AuditActor
  details: Record<string, AuditDetail>
}

/** A listed record: its key says when and what, even if its body cannot be read. */
export interface AuditKeyInfo {
  key: string
  at: Date
  event: string
}

const KEY_PATTERN =
  /^audit\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})(\d{2})(\d{2})\.(\d{3})Z-([a-z0-9-]+)-([a-z0-9]+)\.json$/

/** `audit/2026/11/25/020013.417Z-backup-k3j9x2.json`: sorts by time within a day. */
export function auditKey(event: string, at: Date, random: string): string {
  const iso = at.toISOString() // 2026-11-25T02:00:13.417Z
  const safeEvent = event.toLowerCase().replace(/[^a-z0-9-]/g, '-') || 'event'
  const safeRandom = random.toLowerCase().replace(/[^a-z0-9]/g, '') || '0'
  return `${AUDIT_PREFIX}${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 23)}Z-${safeEvent}-${safeRandom}.json`
}

export function parseAuditKey(key: string): AuditKeyInfo | undefined {
  const m = KEY_PATTERN.exec(key)
  if (!m) return undefined
  const [, y, mo, d, h, mi, s, ms, event] = m
  const at = new Date(Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!, +ms!))
  if (Number.isNaN(at.getTime())) return undefined
  return { key, at, event: event! }
}

/** The month folders (`audit/2026/11/`) that can hold records from `since` to `until`. */
export function auditPrefixesBetween(since: Date, until: Date): string[] {
  const prefixes: string[] = []
  let year = since.getUTCFullYear()
  let month = since.getUTCMonth()
  const endYear = until.getUTCFullYear()
  const endMonth = until.getUTCMonth()
  while (year < endYear || (year === endYear && month <= endMonth)) {
    prefixes.push(`${AUDIT_PREFIX}${year}/${String(month + 1).padStart(2, '0')}/`)
    month++
    if (month === 12) {
      month = 0
      year++
    }
  }
  return prefixes
}

/** Who ran the job: the GitHub actor and run in Actions, the OS user and host otherwise. */
export function describeActor(env: Env, local: { user: string; host: string }): AuditActor {
  const run = env.GITHUB_ACTIONS === 'true' ? readRunInfo(new SettingsReader(env)) : undefined
  if (run) {
    return {
      kind: 'github',
      actor: run.actor ?? 'unknown',
      runUrl: run.url,
      repository: run.repository ?? '',
      ...(run.workflow ? { workflow: run.workflow } : {}),
      ...(run.runId ? { runId: run.runId } : {}),
    }
  }
  return { kind: 'local', user: local.user, host: local.host }
}

/** Every string in the record passed through `redact`, the last guard against a leaked secret. */
export function scrubRecord(record: AuditRecord): AuditRecord {
  return scrub(record) as AuditRecord
}

function scrub(value: unknown): unknown {
  if (typeof value === 'string') return redact(value)
  if (Array.isArray(value)) return value.map(scrub)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v)]))
  }
  return value
}

/** Only plain values go into details: numbers, booleans, strings and string lists (capped). */
export function auditDetails(values: Readonly<Record<string, unknown>>): Record<string, AuditDetail> {
  const out: Record<string, AuditDetail> = {}
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue
    if (value === null || typeof value === 'number' || typeof value === 'boolean') out[key] = value
    else if (typeof value === 'string') out[key] = value.slice(0, 2000)
    else if (value instanceof Date) out[key] = value.toISOString()
    else if (Array.isArray(value)) out[key] = value.slice(0, 200).map((v) => String(v).slice(0, 500))
  }
  return out
}

/** `7d`, `24h`, `30m`, or an ISO date/time: the start of the window to list. */
export function parseSince(value: string, now: Date): Date | undefined {
  const relative = /^(\d+)\s*([dhm])$/i.exec(value.trim())
  if (relative) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[relative[2]!.toLowerCase() as 'd' | 'h' | 'm']
    return new Date(now.getTime() - Number(relative[1]) * unit)
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined
  const time = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value)
  return Number.isNaN(time) ? undefined : new Date(time)
}
