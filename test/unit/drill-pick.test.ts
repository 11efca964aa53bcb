// The drill's pick: only complete backups of the window, uniform enough, and the same
// seed picks the same backup whatever order the store lists them in.
import { describe, expect, it } from 'vitest'
import { backupIdFor } from '../../lib/archive/layout.ts'
import type { LifeboatError } from '../../lib/core/errors.ts'
import { drillCandidates, pickDrillBackup, seededRandom } from '../../lib/drills/pick.ts'
import { type BackupRecord, inventoryOf } from '../../lib/inventory/inventory.ts'

const NOW = new Date('2026-11-25T12:00:00Z')
const DAY = 86_400_000

/** One complete backup a day for `days` days before NOW (02:00 UTC), plus an incomplete newest one. */
function store(days: number): BackupRecord[] {
  const objects = []
  for (let d = 0; d < days; d++) {
    const id = backupIdFor(new Date(Date.parse('2026-11-25T02:00:00Z') - d * DAY))
    objects.push({ key: `database-backups/${id}.tar.gz`, size: 10, modified: NOW })
    objects.push({ key: `database-backups/${id}.manifest.json`, size: 1, modified: NOW })
  }
  objects.push({ key: 'database-backups/backup-2026-11-25T110000Z.tar.gz', size: 10, modified: NOW })
  return inventoryOf(objects)
}

describe('drillCandidates', () => {
  it('keeps complete backups of the last N days, oldest first', () => {
    const candidates = drillCandidates(store(45), NOW, 30)
    expect(candidates).toHaveLength(30)
    expect(candidates[0]!.id).toBe('backup-2026-10-27T020000Z')
    expect(candidates.at(-1)!.id).toBe('backup-2026-11-25T020000Z')
    expect(candidates.every((c) => c.complete)).toBe(true)
  })

  it('leaves out backups after "now" (a clock set back with LIFEBOAT_NOW)', () => {
    const earlier = new Date('2026-11-20T00:00:00Z')
    expect(drillCandidates(store(45), earlier, 30).at(-1)!.id).toBe('backup-2026-11-19T020000Z')
  })
})

describe('pickDrillBackup', () => {
  it('picks the same backup for the same seed, whatever the listing order', () => {
    const records = store(30)
    const a = pickDrillBackup(records, { now: NOW, days: 30, seed: 'november' })
    const b = pickDrillBackup([...records].reverse(), { now: NOW, days: 30, seed: 'november' })
    expect(b.record.id).toBe(a.record.id)
    expect(a.seed).toBe('november')
    expect(a.candidates).toHaveLength(30)
  })

  it('spreads picks over the whole window', () => {
    const records = store(30)
    const picked = new Set<string>()
    for (let i = 0; i < 300; i++)
      picked.add(pickDrillBackup(records, { now: NOW, days: 30, seed: `s${i}` }).record.id)
    expect(picked.size).toBeGreaterThan(25)
  })

  it('fails with BACKUP_NOT_FOUND naming the newest backup when the window is empty', () => {
    const later = new Date('2027-02-01T00:00:00Z')
    let error: LifeboatError | undefined
    try {
      pickDrillBackup(store(5), { now: later, days: 30, seed: 'x' })
    } catch (e) {
      error = e as LifeboatError
    }
    expect(error?.code).toBe('BACKUP_NOT_FOUND')
    expect(error?.message).toContain('backup-2026-11-25T020000Z')
  })
})

describe('seededRandom', () => {
  it('is deterministic, in [0, 1), and differs between seeds', () => {
    const a = seededRandom('seed')
    const b = seededRandom('seed')
    const values = Array.from({ length: 100 }, () => a())
    expect(Array.from({ length: 100 }, () => b())).toEqual(values)
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true)
    expect(seededRandom('other')()).not.toBe(values[0])
  })
})
