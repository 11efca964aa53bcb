// The retention policy as a pure function, with a fixed clock: ages around the limit, the
// floor through a stalled schedule, tiers, orphans, and keys taken from a real listing.
import { describe, expect, it } from 'vitest'
import { archiveKey, backupIdFor, sidecarKey } from '../../lib/archive/layout.ts'
import { SettingsReader } from '../../lib/core/config.ts'
import type { ListedObject } from '../../lib/inventory/inventory.ts'
import {
  isoWeekOf,
  planRetention,
  type RetentionCandidate,
  type RetentionPolicy,
  readRetentionSettings,
  retentionCandidates,
} from '../../lib/retention/retention.ts'

const NOW = new Date('2026-11-25T02:30:00Z')
const HOUR = 3_600_000
const DAY = 24 * HOUR

function backup(ageMs: number, extra: Partial<RetentionCandidate> = {}): RetentionCandidate {
  const time = new Date(NOW.getTime() - ageMs)
  const id = backupIdFor(time)
  return {
    id,
    time: new Date(Math.floor(time.getTime() / 1000) * 1000),
    complete: true,
    encrypted: false,
    verified: true,
    keys: [archiveKey(id, extra.encrypted ?? false), sidecarKey(id)],
    ...extra,
  }
}

/** One backup a day at 02:00 UTC, `count` of them, the newest `firstAgeDays` old. */
function daily(count: number, firstAgeDays = 0): RetentionCandidate[] {
  const newest = new Date('2026-11-25T02:00:00Z').getTime() - firstAgeDays * DAY
  return Array.from({ length: count }, (_, i) => backup(NOW.getTime() - (newest - i * DAY)))
}

const policy = (extra: Partial<RetentionPolicy> = {}): RetentionPolicy => ({
  now: NOW,
  maxAgeDays: 7,
  floor: 3,
  orphanGraceHours: 24,
  ...extra,
})

const ids = (entries: { id: string }[]) => entries.map((e) => e.id)

describe('planRetention: the age limit', () => {
  it('keeps a backup exactly at the limit and one a second younger; deletes one a second older', () => {
    const atLimit = backup(7 * DAY)
    const younger = backup(7 * DAY - 1000)
    const older = backup(7 * DAY + 1000)
    const plan = planRetention([atLimit, younger, older], policy({ floor: 1 }))
    // Floor 1 holds the youngest anyway; the other two are decided by age alone.
    expect(ids(plan.keep)).toEqual([younger.id, atLimit.id])
    expect(plan.keep[1]!.reasons).toEqual(['within-age'])
    expect(plan.delete).toEqual([
      {
        id: older.id,
        reason: 'expired',
        ageDays: 7.0,
        keys: [sidecarKey(older.id), archiveKey(older.id, false)],
      },
    ])
  })

  it('keeps 7 days of a daily schedule with `clean 7` and deletes the rest', () => {
    const backups = daily(20)
    const plan = planRetention(backups, policy({ floor: 1 }))
    // 02:00 today … 02:00 seven days ago (7 days 30 min old is past the limit).
    expect(plan.keep).toHaveLength(7)
    expect(plan.delete).toHaveLength(13)
    expect(plan.delete.every((d) => d.reason === 'expired')).toBe(true)
    expect(ids(plan.keep)).toEqual(ids(backups.slice(0, 7)))
  })

  it('treats a backup from the future (clock skew) as young', () => {
    const future = backup(-2 * HOUR)
    const plan = planRetention([future], policy({ floor: 1, maxAgeDays: 1 }))
    expect(plan.keep[0]).toMatchObject({ id: future.id, reasons: ['floor', 'within-age'] })
  })

  it('lists keep and delete newest first whatever the input order', () => {
    const backups = daily(10).reverse()
    const plan = planRetention(backups, policy())
    const times = [...plan.keep, ...plan.delete].map((e) => e.id)
    expect(ids(plan.keep)).toEqual([...ids(plan.keep)].sort().reverse())
    expect(ids(plan.delete)).toEqual([...ids(plan.delete)].sort().reverse())
    expect(new Set(times).size).toBe(10)
  })
})

describe('planRetention: the floor', () => {
  it('keeps the newest 7 through a 40-day stall although all are past the 30-day limit', () => {
    const backups = daily(20, 40)
    const plan = planRetention(backups, policy({ maxAgeDays: 30, floor: 7 }))
    expect(ids(plan.keep)).toEqual(ids(backups.slice(0, 7)))
    expect(plan.keep.every((k) => k.reasons.join() === 'floor')).toBe(true)
    expect(plan.delete).toHaveLength(13)
  })

  it('counts only verified backups: a bad sidecar neither fills the floor nor survives its age', () => {
    const backups = daily(6, 40)
    backups[0]!.verified = false
    backups[2]!.verified = false
    const plan = planRetention(backups, policy({ maxAgeDays: 30, floor: 3 }))
    expect(ids(plan.keep)).toEqual([backups[1]!.id, backups[3]!.id, backups[4]!.id])
    expect(ids(plan.delete)).toEqual([backups[0]!.id, backups[2]!.id, backups[5]!.id])
  })

  it('keeps the newest complete backups in the floor when none is good (a runner clock ahead)', () => {
    const backups = daily(10, 31).map((b) => ({ ...b, clockAhead: true, storeTime: b.time }))
    const plan = planRetention(backups, policy({ maxAgeDays: 30, floor: 7 }))
    expect(ids(plan.keep)).toEqual(ids(backups.slice(0, 7)))
    expect(plan.keep.every((k) => k.reasons.join() === 'last-copies')).toBe(true)
    expect(plan.keep[0]!.notGood).toEqual(["dated ahead of the store's clock"])
    expect(ids(plan.delete)).toEqual(ids(backups.slice(7)))
  })

  it('lets backups that are not good hold only the places good ones leave empty', () => {
    const backups = daily(6, 40)
    for (const b of backups.slice(0, 4)) b.notGood = ["dated ahead of the store's clock"]
    const plan = planRetention(backups, policy({ maxAgeDays: 30, floor: 3 }))
    expect(plan.keep.map((k) => [k.id, k.reasons.join()])).toEqual([
      [backups[0]!.id, 'last-copies'],
      [backups[4]!.id, 'floor'],
      [backups[5]!.id, 'floor'],
    ])
    expect(ids(plan.delete)).toEqual(ids(backups.slice(1, 4)))
  })

  it('never lets an empty backup stand in for a good one: it holds nothing to restore', () => {
    const backups = daily(3, 40)
    backups[0]!.notGood = ['empty: it holds no table']
    const plan = planRetention(backups, policy({ maxAgeDays: 30, floor: 3 }))
    expect(plan.keep.map((k) => [k.id, k.reasons.join()])).toEqual([
      [backups[1]!.id, 'floor'],
      [backups[2]!.id, 'floor'],
    ])
    expect(ids(plan.delete)).toEqual([backups[0]!.id])
  })

  it('never lets an incomplete upload stand in for a good backup', () => {
    const orphan = backup(40 * DAY, { complete: false, hasSidecar: false })
    const plan = planRetention([orphan], policy({ maxAgeDays: 30, floor: 3 }))
    expect(plan.keep).toEqual([])
    expect(ids(plan.delete)).toEqual([orphan.id])
  })

  it('counts an unchecked backup (verified undefined) as verified', () => {
    const backups = daily(3, 40).map(({ verified: _, ...b }) => b)
    const plan = planRetention(backups, policy({ maxAgeDays: 30, floor: 2 }))
    expect(plan.keep).toHaveLength(2)
  })

  it('keeps everything when there are fewer backups than the floor', () => {
    const backups = daily(3, 100)
    const plan = planRetention(backups, policy({ floor: 7 }))
    expect(plan.keep).toHaveLength(3)
    expect(plan.delete).toEqual([])
  })

  it('never keeps fewer than one, even when told floor 0', () => {
    const backups = daily(3, 100)
    const plan = planRetention(backups, policy({ floor: 0 }))
    expect(ids(plan.keep)).toEqual([backups[0]!.id])
  })

  it('marks a backup both young and in the floor with both reasons', () => {
    const plan = planRetention(daily(2), policy({ floor: 1 }))
    expect(plan.keep[0]!.reasons).toEqual(['floor', 'within-age'])
    expect(plan.keep[1]!.reasons).toEqual(['within-age'])
  })
})

describe('planRetention: tiers', () => {
  it('keeps the newest backup of each of the last N days, weeks and months', () => {
    // Two backups a day (02:00 and 14:00) for 120 days.
    const backups = Array.from({ length: 240 }, (_, i) => backup(30 * 60_000 + i * 12 * HOUR))
    const plan = planRetention(
      backups,
      policy({ maxAgeDays: 1, floor: 1, tiers: { daily: 5, weekly: 4, monthly: 3 } }),
    )
    const kept = new Map(plan.keep.map((k) => [k.id, k.reasons]))
    const daysKept = plan.keep.filter((k) => k.reasons.includes('daily'))
    expect(daysKept).toHaveLength(5)
    // One per day: the newest of that day (the 14:00 one, except today's 02:00).
    expect(new Set(daysKept.map((k) => k.id.slice(7, 17))).size).toBe(5)
    expect(daysKept.map((k) => k.id.slice(18, 20))).toEqual(['02', '14', '14', '14', '14'])
    const weeks = plan.keep.filter((k) => k.reasons.includes('weekly'))
    expect(weeks).toHaveLength(4)
    expect(new Set(weeks.map((k) => isoWeekOf(backups.find((b) => b.id === k.id)!.time))).size).toBe(4)
    const months = plan.keep.filter((k) => k.reasons.includes('monthly')).map((k) => k.id.slice(7, 14))
    expect(months).toEqual(['2026-11', '2026-10', '2026-09'])
    // The newest backup holds every reason at once.
    expect(kept.get(backups[0]!.id)).toEqual(['floor', 'within-age', 'daily', 'weekly', 'monthly'])
    expect(plan.keep.length + plan.delete.length).toBe(240)
  })

  it('counts only periods that have a backup (restic-style), reaching back past gaps', () => {
    const backups = [backup(1 * DAY), backup(5 * DAY), backup(20 * DAY), backup(60 * DAY)]
    const plan = planRetention(backups, policy({ maxAgeDays: 1, floor: 1, tiers: { daily: 3 } }))
    expect(ids(plan.keep)).toEqual(ids(backups.slice(0, 3)))
  })

  it('fills tiers with verified backups only', () => {
    const backups = [backup(10 * DAY, { verified: false }), backup(11 * DAY)]
    const plan = planRetention(backups, policy({ maxAgeDays: 1, floor: 1, tiers: { monthly: 5 } }))
    expect(ids(plan.keep)).toEqual([backups[1]!.id])
  })
})

describe('planRetention: incomplete uploads', () => {
  it('removes an archive without a sidecar once it is more than a day old', () => {
    const fresh = backup(23 * HOUR, {
      complete: false,
      keys: [archiveKey(backupIdFor(new Date(NOW.getTime() - 23 * HOUR)), false)],
    })
    const stale = backup(25 * HOUR, {
      complete: false,
      keys: [archiveKey(backupIdFor(new Date(NOW.getTime() - 25 * HOUR)), true)],
    })
    const good = backup(2 * DAY)
    const plan = planRetention([fresh, stale, good], policy())
    expect(plan.keep.find((k) => k.id === fresh.id)!.reasons).toEqual(['in-progress'])
    expect(plan.delete).toEqual([
      { id: stale.id, reason: 'orphaned-archive', ageDays: 1.04, keys: stale.keys },
    ])
  })

  it('counts the grace from the later of the id time and the archive write (a long upload)', () => {
    const long = backup(30 * HOUR, { complete: false, modified: new Date(NOW.getTime() - 10 * HOUR) })
    const plan = planRetention([long], policy())
    expect(plan.keep[0]!.reasons).toEqual(['in-progress'])
  })

  it('removes a sidecar whose archive is gone, after the grace period', () => {
    const dangling = backup(3 * DAY, { complete: false, hasArchive: false })
    const plan = planRetention([dangling], policy())
    expect(plan.delete[0]).toMatchObject({ id: dangling.id, reason: 'orphaned-sidecar' })
  })

  it('never lets an orphan count toward the floor', () => {
    const orphan = backup(1 * HOUR, { complete: false })
    const old = daily(2, 40)
    const plan = planRetention([orphan, ...old], policy({ floor: 1 }))
    expect(plan.keep.map((k) => [k.id, k.reasons])).toEqual([
      [orphan.id, ['in-progress']],
      [old[0]!.id, ['floor']],
    ])
  })
})

describe('retentionCandidates: keys from a real listing', () => {
  const at = (iso: string) => new Date(iso)
  const listed = (key: string, modified: string, size = 100): ListedObject => ({
    key,
    size,
    modified: at(modified),
  })

  it('collects plain, encrypted and both variants; marks orphans; deletes every key of an expired id', () => {
    const plain = 'backup-2026-10-01T020000Z'
    const encrypted = 'backup-2026-10-02T020000Z'
    const both = 'backup-2026-10-03T020000Z'
    const orphan = 'backup-2026-10-04T020000Z'
    const recent = 'backup-2026-11-24T020000Z'
    const objects = [
      listed(archiveKey(plain, false), '2026-10-01T02:05:00Z'),
      listed(sidecarKey(plain), '2026-10-01T02:05:01Z'),
      listed(archiveKey(encrypted, true), '2026-10-02T02:05:00Z'),
      listed(sidecarKey(encrypted), '2026-10-02T02:05:01Z'),
      listed(archiveKey(both, false), '2026-10-03T02:05:00Z'),
      listed(archiveKey(both, true), '2026-10-03T02:05:00Z'),
      listed(sidecarKey(both), '2026-10-03T02:05:01Z'),
      listed(archiveKey(orphan, true), '2026-10-04T02:05:00Z'),
      listed(archiveKey(recent, true), '2026-11-24T02:05:00Z'),
      listed(sidecarKey(recent), '2026-11-24T02:05:01Z'),
      listed('database-backups/notes.txt', '2026-10-01T00:00:00Z'),
    ]
    const verified = new Map([plain, encrypted, both, recent].map((id) => [id, true]))
    const candidates = retentionCandidates(objects, verified)
    expect(candidates.map((c) => [c.id, c.complete, c.encrypted])).toEqual([
      [recent, true, true],
      [orphan, false, true],
      [both, true, true],
      [encrypted, true, true],
      [plain, true, false],
    ])
    const plan = planRetention(candidates, policy({ maxAgeDays: 30, floor: 1 }))
    expect(ids(plan.keep)).toEqual([recent])
    const byId = new Map(plan.delete.map((d) => [d.id, d]))
    expect(byId.get(plain)!.keys).toEqual([sidecarKey(plain), archiveKey(plain, false)])
    expect(byId.get(encrypted)!.keys).toEqual([sidecarKey(encrypted), archiveKey(encrypted, true)])
    expect(byId.get(both)!.keys).toEqual([sidecarKey(both), archiveKey(both, false), archiveKey(both, true)])
    expect(byId.get(orphan)).toMatchObject({ reason: 'orphaned-archive', keys: [archiveKey(orphan, true)] })
    // Objects that are not backups are never touched.
    expect(plan.delete.flatMap((d) => d.keys)).not.toContain('database-backups/notes.txt')
  })

  it('marks a complete backup without a sidecar check as unverified', () => {
    const id = 'backup-2026-11-20T020000Z'
    const [candidate] = retentionCandidates(
      [listed(archiveKey(id, false), '2026-11-20T02:05:00Z'), listed(sidecarKey(id), '2026-11-20T02:05:01Z')],
      new Map(),
    )
    expect(candidate).toMatchObject({ complete: true, verified: false, hasArchive: true })
  })

  it('marks a sidecar without archive as such', () => {
    const id = 'backup-2026-11-20T020000Z'
    const [candidate] = retentionCandidates([listed(sidecarKey(id), '2026-11-20T02:05:01Z')], new Map())
    expect(candidate).toMatchObject({ complete: false, hasArchive: false, keys: [sidecarKey(id)] })
  })
})

describe('readRetentionSettings', () => {
  it('has the documented defaults', () => {
    const reader = new SettingsReader({})
    expect(readRetentionSettings(reader)).toEqual({
      maxAgeDays: 30,
      floor: 7,
      tiers: { daily: 0, weekly: 0, monthly: 0 },
      orphanGraceHours: 24,
    })
    reader.finish()
  })

  it('takes the positional days over RETENTION_DAYS, and reads every setting', () => {
    const reader = new SettingsReader(
      {
        RETENTION_DAYS: '30',
        RETENTION_MIN_KEEP: '3',
        RETENTION_DAILY: '7',
        RETENTION_WEEKLY: '4',
        RETENTION_MONTHLY: '12',
        ORPHAN_GRACE_HOURS: '6',
      },
      { days: '7' },
    )
    expect(readRetentionSettings(reader)).toEqual({
      maxAgeDays: 7,
      floor: 3,
      tiers: { daily: 7, weekly: 4, monthly: 12 },
      orphanGraceHours: 6,
    })
  })

  it('reports every bad value at once: days and floor must be whole numbers ≥ 1', () => {
    const reader = new SettingsReader({ RETENTION_MIN_KEEP: '0', RETENTION_WEEKLY: '-1' }, { days: 'seven' })
    readRetentionSettings(reader)
    expect(() => reader.finish()).toThrow(
      /^\[days\] must be a whole number ≥ 1, got "seven".*RETENTION_MIN_KEEP.*≥ 1.*RETENTION_WEEKLY/,
    )
  })
})

describe('isoWeekOf', () => {
  it('follows ISO 8601 across year ends', () => {
    expect(isoWeekOf(new Date('2026-01-01T00:00:00Z'))).toBe('2026-W01')
    expect(isoWeekOf(new Date('2027-01-01T00:00:00Z'))).toBe('2026-W53')
    expect(isoWeekOf(new Date('2024-12-30T12:00:00Z'))).toBe('2025-W01')
    expect(isoWeekOf(new Date('2026-11-22T23:59:59Z'))).toBe('2026-W47')
    expect(isoWeekOf(new Date('2026-11-23T00:00:00Z'))).toBe('2026-W48')
  })
})
