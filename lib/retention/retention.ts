// Retention as a pure plan: backups in, what to keep (and why) and what to delete out.
// The floor (the newest good backups) is kept whatever its age, so a stalled schedule
// never lets retention eat the last copies. docs/lifecycle.md explains each rule. Pure.

import { parseBackupKey } from '../archive/layout.ts'
import type { SettingsReader } from '../core/config.ts'
import { inventoryOf, type ListedObject } from '../inventory/inventory.ts'
import { SETTINGS } from '../settings/settings.ts'
import { EMPTY } from './goodness.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR

export const RETENTION_DEFAULTS = { maxAgeDays: 30, floor: 7, orphanGraceHours: 24 } as const

export interface RetentionCandidate {
  id: string
  /** The backup's time (from its id: when its snapshot was taken). */
  time: Date
  /** Archive and sidecar both present. */
  complete: boolean
  encrypted: boolean
  /**
   * A complete backup whose sidecar is readable, format v1, and records the archive's
   * stored size. Only verified backups count toward the floor and fill the tiers.
   * Undefined means "not checked" and counts as verified.
   */
  verified?: boolean
  /**
   * Why this complete backup is not good (lib/retention/goodness.ts): empty, dated ahead
   * of the store's clock, anomalous, unsigned or forged. Only good backups count toward
   * the floor and fill the tiers; none listed (or undefined) means good.
   */
  notGood?: readonly string[]
  /** The id names a time ahead of the store's record of it: aged by `storeTime` instead. */
  clockAhead?: boolean
  /** The store's own time for the backup (its earliest object). */
  storeTime?: Date
  /** When the newest of its objects was written; an orphan's grace runs from here. */
  modified?: Date
  hasArchive?: boolean
  hasSidecar?: boolean
  /** Every stored key of this backup (archive, sidecar; plain and `.age` as present). */
  keys?: readonly string[]
}

export interface RetentionTiers {
  /** Keep the newest backup of each of the last N UTC days that have one. */
  daily?: number
  /** … of each of the last N ISO weeks (Monday to Sunday, UTC). */
  weekly?: number
  /** … of each of the last N calendar months (UTC). */
  monthly?: number
}

export interface RetentionPolicy {
  now: Date
  /** Complete backups older than this are deleted unless the floor or a tier keeps them. */
  maxAgeDays: number
  /** The newest N verified backups are always kept (≥ 1). */
  floor: number
  tiers?: RetentionTiers
  /** Incomplete uploads younger than this may still be in progress and are left alone. */
  orphanGraceHours: number
}

export type KeepReason =
  | 'floor'
  | 'last-copies'
  | 'within-age'
  | 'daily'
  | 'weekly'
  | 'monthly'
  | 'in-progress'
export type DeleteReason = 'expired' | 'orphaned-archive' | 'orphaned-sidecar' | 'orphaned-claim'

export interface KeepDecision {
  id: string
  reasons: KeepReason[]
  ageDays: number
  /** Kept, but not counted toward the floor, for these reasons. */
  notGood?: string[]
}

export interface DeleteDecision {
  id: string
  reason: DeleteReason
  ageDays: number
  /** Sidecar first: the backup disappears from listings before its archive goes. */
  keys: string[]
}

export interface RetentionPlan {
  /** Newest first. */
  keep: KeepDecision[]
  /** Newest first. */
  delete: DeleteDecision[]
}

/**
 * Decides what to keep and delete; never deletes one of the newest `floor` good backups,
 * nor, while fewer than `floor` are good, the newest complete ones in their place.
 */
export function planRetention(
  backups: readonly RetentionCandidate[],
  policy: RetentionPolicy,
): RetentionPlan {
  const floor = Math.max(1, Math.floor(policy.floor))
  const now = policy.now.getTime()
  const sorted = [...backups].sort((a, b) => b.time.getTime() - a.time.getTime() || (a.id < b.id ? 1 : -1))
  const good = sorted.filter(isGood)
  const reasons = new Map<string, Set<KeepReason>>()
  const keepFor = (id: string, reason: KeepReason) => {
    const set = reasons.get(id) ?? new Set<KeepReason>()
    set.add(reason)
    reasons.set(id, set)
  }

  for (const b of good.slice(0, floor)) keepFor(b.id, 'floor')
  // Fewer good backups than the floor (a runner's clock ahead, signing newly on): the
  // newest complete ones that hold data take the empty places, so clean never empties a
  // store of its last copies because none of them could be vouched for.
  const missing = floor - Math.min(floor, good.length)
  const standIns = sorted.filter((c) => c.complete && !isGood(c) && !c.notGood?.includes(EMPTY))
  for (const b of standIns.slice(0, missing)) {
    keepFor(b.id, 'last-copies')
  }
  const tiers = policy.tiers ?? {}
  for (const [tier, period] of [
    ['daily', dayOf],
    ['weekly', isoWeekOf],
    ['monthly', monthOf],
  ] as const) {
    const count = Math.max(0, Math.floor(tiers[tier] ?? 0))
    if (count === 0) continue
    const seen = new Set<string>()
    for (const b of good) {
      const slot = period(b.time)
      if (seen.has(slot)) continue
      seen.add(slot)
      if (seen.size > count) break
      keepFor(b.id, tier)
    }
  }

  const plan: RetentionPlan = { keep: [], delete: [] }
  for (const b of sorted) {
    // An id from a clock running ahead is aged by the store's time, so it expires as it should.
    const ageMs = now - (b.clockAhead && b.storeTime ? b.storeTime : b.time).getTime()
    const ageDays = round(ageMs / DAY)
    const kept = reasons.get(b.id) ?? new Set<KeepReason>()
    if (b.complete) {
      // A backup from the future (clock skew) is young, not old.
      if (ageMs <= policy.maxAgeDays * DAY) kept.add('within-age')
      const notGood = isGood(b) ? [] : notGoodReasons(b)
      if (kept.size > 0) {
        plan.keep.push({
          id: b.id,
          reasons: ordered(kept),
          ageDays,
          ...(notGood.length > 0 ? { notGood } : {}),
        })
      } else plan.delete.push({ id: b.id, reason: 'expired', ageDays, keys: deletionOrder(b.keys ?? []) })
      continue
    }
    // Incomplete: an archive whose sidecar never came (failed upload), or a sidecar
    // whose archive is gone. Either may still be mid-write: wait out the grace period.
    const since = Math.max(b.clockAhead ? 0 : b.time.getTime(), b.modified?.getTime() ?? 0)
    if (now - since <= policy.orphanGraceHours * HOUR) {
      plan.keep.push({ id: b.id, reasons: ['in-progress'], ageDays })
      continue
    }
    // A claim alone: a backup that failed after claiming its id (the writer may not delete).
    const reason: DeleteReason =
      b.hasArchive !== false
        ? 'orphaned-archive'
        : b.hasSidecar === false
          ? 'orphaned-claim'
          : 'orphaned-sidecar'
    plan.delete.push({ id: b.id, reason, ageDays, keys: deletionOrder(b.keys ?? []) })
  }
  return plan
}

/** Good: complete, verified, and nothing in `notGood` (docs/lifecycle.md). */
export function isGood(b: RetentionCandidate): boolean {
  return b.complete && b.verified !== false && !b.clockAhead && (b.notGood?.length ?? 0) === 0
}

function notGoodReasons(b: RetentionCandidate): string[] {
  const reasons = [...(b.notGood ?? [])]
  if (b.verified === false && reasons.length === 0) reasons.push('its sidecar does not vouch for the archive')
  if (b.clockAhead && !reasons.some((r) => r.includes('clock')))
    reasons.push("dated ahead of the store's clock")
  return reasons
}

/**
 * Candidates from a key listing (every variant of a backup's keys is collected, so a
 * plain and an `.age` archive of one id both go) and the sidecar checks made by the caller.
 */
export function retentionCandidates(
  objects: readonly ListedObject[],
  verified: ReadonlyMap<string, boolean>,
  notGood: ReadonlyMap<string, readonly string[]> = new Map(),
): RetentionCandidate[] {
  const keys = new Map<string, { keys: string[]; modified: number }>()
  for (const object of objects) {
    const parsed = parseBackupKey(object.key)
    if (!parsed) continue
    const entry = keys.get(parsed.id) ?? { keys: [], modified: 0 }
    entry.keys.push(object.key)
    entry.modified = Math.max(entry.modified, object.modified.getTime())
    keys.set(parsed.id, entry)
  }
  return inventoryOf(objects).map((record) => {
    const entry = keys.get(record.id)!
    const candidate: RetentionCandidate = {
      id: record.id,
      time: record.time,
      complete: record.complete,
      encrypted: record.archive?.encrypted ?? false,
      hasArchive: record.archive !== undefined,
      hasSidecar: record.sidecar !== undefined,
      modified: new Date(entry.modified),
      keys: entry.keys,
      clockAhead: record.clockAhead,
      storeTime: record.storeTime,
    }
    if (record.complete) {
      candidate.verified = verified.get(record.id) ?? false
      const reasons = notGood.get(record.id)
      if (reasons && reasons.length > 0) candidate.notGood = reasons
    }
    return candidate
  })
}

export interface RetentionSettings {
  maxAgeDays: number
  floor: number
  tiers: Required<RetentionTiers>
  orphanGraceHours: number
}

/**
 * `RETENTION_DAYS` (or the positional `days`), `RETENTION_MIN_KEEP`, `RETENTION_DAILY`,
 * `RETENTION_WEEKLY`, `RETENTION_MONTHLY`, `ORPHAN_GRACE_HOURS`; problems go to the reader.
 */
export function readRetentionSettings(reader: SettingsReader): RetentionSettings {
  return {
    maxAgeDays: reader.integer(SETTINGS.retentionDays),
    floor: reader.integer(SETTINGS.minKeep),
    tiers: {
      daily: reader.integer(SETTINGS.daily),
      weekly: reader.integer(SETTINGS.weekly),
      monthly: reader.integer(SETTINGS.monthly),
    },
    orphanGraceHours: readOrphanGraceHours(reader),
  }
}

/** `ORPHAN_GRACE_HOURS` (24): how long an archive without a sidecar may still be an upload in progress. */
export function readOrphanGraceHours(reader: SettingsReader): number {
  return reader.number(SETTINGS.orphanGraceHours)
}

function deletionOrder(keys: readonly string[]): string[] {
  const sidecars = keys.filter((k) => k.endsWith('.manifest.json'))
  return [...sidecars, ...keys.filter((k) => !k.endsWith('.manifest.json'))]
}

const REASON_ORDER: readonly KeepReason[] = [
  'floor',
  'last-copies',
  'within-age',
  'daily',
  'weekly',
  'monthly',
  'in-progress',
]

function ordered(reasons: ReadonlySet<KeepReason>): KeepReason[] {
  return REASON_ORDER.filter((r) => reasons.has(r))
}

function round(days: number): number {
  return Math.round(days * 100) / 100
}

function dayOf(time: Date): string {
  return time.toISOString().slice(0, 10)
}

function monthOf(time: Date): string {
  return time.toISOString().slice(0, 7)
}

/** ISO 8601 week (`2026-W09`): weeks start on Monday; week 1 holds the year's first Thursday. */
export function isoWeekOf(time: Date): string {
  const day = new Date(Date.UTC(time.getUTCFullYear(), time.getUTCMonth(), time.getUTCDate()))
  const weekday = day.getUTCDay() || 7
  day.setUTCDate(day.getUTCDate() + 4 - weekday)
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1)
  const week = Math.ceil(((day.getTime() - yearStart) / DAY + 1) / 7)
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`
}
