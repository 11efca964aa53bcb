// Which backup a drill restores: a seeded random choice among the complete backups of
// the last N days. Random, so drills cover more than the newest backup; seeded, so any
// pick can be replayed (`--seed`), and the seed is written into the report. Pure.
import { LifeboatError } from '../core/errors.ts'
import { byText } from '../core/order.ts'
import type { BackupRecord } from '../inventory/inventory.ts'

export const DRILL_WINDOW_DAYS = 30

const DAY = 86_400_000

export interface DrillPick {
  record: BackupRecord
  seed: string
  /** Ids of the backups the pick was made among, oldest first. */
  candidates: string[]
}

/** Complete backups taken within the last `days` days up to `now`, oldest first. */
export function drillCandidates(records: readonly BackupRecord[], now: Date, days: number): BackupRecord[] {
  const from = now.getTime() - days * DAY
  return records
    .filter((r) => r.complete && r.time.getTime() >= from && r.time.getTime() <= now.getTime())
    .sort((a, b) => a.time.getTime() - b.time.getTime() || byText(a.id, b.id))
}

/** The same seed and the same candidates give the same backup, on any machine. */
export function pickDrillBackup(
  records: readonly BackupRecord[],
  options: { now: Date; days: number; seed: string },
): DrillPick {
  const candidates = drillCandidates(records, options.now, options.days)
  if (candidates.length === 0) {
    const newest = records.find((r) => r.complete)
    throw new LifeboatError(
      'BACKUP_NOT_FOUND',
      newest
        ? `no complete backup in the last ${options.days} days; the newest is ${newest.id}`
        : 'the store holds no complete backup',
    )
  }
  const index = Math.floor(seededRandom(options.seed)() * candidates.length)
  return { record: candidates[index]!, seed: options.seed, candidates: candidates.map((r) => r.id) }
}

/**
 * mulberry32 over an FNV-1a hash of the seed text: tiny, and stable across Node
 * versions (Math.random cannot be seeded).
 */
export function seededRandom(seed: string): () => number {
  let state = 0x811c9dc5
  for (let i = 0; i < seed.length; i++) {
    state ^= seed.charCodeAt(i)
    state = Math.imul(state, 0x01000193)
  }
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}
