// Freshness against the RPO: is the newest complete backup recent enough? Pure, with
// the clock passed in; also reads the clock override jobs accept (LIFEBOAT_NOW).
import type { SettingsReader } from '../core/config.ts'
import { SETTINGS } from '../settings/settings.ts'

const HOUR = 3_600_000

export const FRESHNESS_DEFAULTS = { rpoHours: 24, graceMinutes: 60 } as const

export interface FreshnessOptions {
  now: Date
  /** The recovery point objective: at most this much data may be lost. */
  rpoHours: number
  /** Slack for a scheduled run that starts or finishes late. */
  graceMinutes: number
}

export interface FreshnessResult {
  ok: boolean
  newestId?: string
  /** Age of the newest complete backup (undefined when there is none). */
  ageHours?: number
  limitHours: number
  message: string
}

/** The newest complete backup must be no older than the RPO plus the grace period. */
export function checkFreshness(
  newest: { id: string; time: Date } | undefined,
  options: FreshnessOptions,
): FreshnessResult {
  const limitHours = options.rpoHours + options.graceMinutes / 60
  const limit = `the RPO of ${formatHours(options.rpoHours)} + ${options.graceMinutes} min grace`
  if (!newest) return { ok: false, limitHours, message: `the store holds no complete backup (${limit})` }
  const ageHours = (options.now.getTime() - newest.time.getTime()) / HOUR
  const ok = ageHours <= limitHours
  const age = formatHours(Math.max(0, ageHours))
  return {
    ok,
    newestId: newest.id,
    ageHours: Math.round(ageHours * 100) / 100,
    limitHours,
    message: ok
      ? `the newest complete backup ${newest.id} is ${age} old, within ${limit}`
      : `the newest complete backup ${newest.id} is ${age} old, more than ${limit}`,
  }
}

export function formatHours(hours: number): string {
  if (hours < 1) return `${Math.round(hours * 60)} min`
  if (hours < 48) return `${Number.isInteger(hours) ? hours : hours.toFixed(1)} h`
  return `${(hours / 24).toFixed(1)} days`
}

/** `RPO_HOURS` (24) and `RPO_GRACE_MINUTES` (60). */
export function readFreshnessSettings(reader: SettingsReader): Omit<FreshnessOptions, 'now'> {
  const rpoHours = reader.number(SETTINGS.rpoHours)
  if (rpoHours === 0)
    reader.invalid(`${reader.given(SETTINGS.rpoHours)?.from ?? 'RPO_HOURS'} must be more than 0`)
  return { rpoHours, graceMinutes: reader.number(SETTINGS.graceMinutes) }
}

/**
 * The clock: `LIFEBOAT_NOW` (an ISO 8601 time) when set, else the system clock. A testing
 * and drill aid: it lets a person ask "what would monitor / clean decide on that day?".
 */
export function readNow(reader: SettingsReader, clock: () => Date = () => new Date()): Date {
  const raw = reader.optional(SETTINGS.now)
  if (raw === undefined) return clock()
  const time = Date.parse(raw)
  if (!/^\d{4}-\d{2}-\d{2}T/.test(raw) || Number.isNaN(time)) {
    reader.invalid(`LIFEBOAT_NOW must be an ISO 8601 time such as 2026-11-25T02:00:00Z, got "${raw}"`)
    return clock()
  }
  return new Date(time)
}
