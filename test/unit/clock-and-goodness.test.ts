// The rules that keep a skewed clock or empty backups from deciding what survives: ids
// checked against the store's own time, "latest" and the retention floor counting only
// good backups, and clean keeping the real ones.
import { describe, expect, it } from 'vitest'
import { claimKey, parseBackupKey } from '../../lib/archive/layout.ts'
import type { LifeboatError } from '../../lib/core/errors.ts'
import {
  CLOCK_TOLERANCE_MS,
  inventoryOf,
  type ListedObject,
  selectBackup,
} from '../../lib/inventory/inventory.ts'
import { assessBackups, type BackupFacts } from '../../lib/retention/goodness.ts'
import { planRetention, retentionCandidates } from '../../lib/retention/retention.ts'

const DAY = 86_400_000
const NOW = new Date('2026-12-01T03:00:00Z')

function idAt(time: Date): string {
  const iso = time.toISOString()
  return `backup-${iso.slice(0, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`
}

/** A complete backup's objects: archive, sidecar and claim, stored at `stored`. */
function backupObjects(id: string, stored: Date): ListedObject[] {
  return [
    { key: claimKey(id), size: 80, modified: stored },
    { key: `database-backups/${id}.tar.gz`, size: 1000, modified: stored },
    { key: `database-backups/${id}.manifest.json`, size: 300, modified: new Date(stored.getTime() + 5000) },
  ]
}

function thrown(work: () => unknown): LifeboatError {
  try {
    work()
  } catch (error) {
    return error as LifeboatError
  }
  throw new Error('expected an error')
}

describe('backup keys', () => {
  it('recognises the claim and the sidecar signature as parts of a backup', () => {
    expect(parseBackupKey('database-backups/backup-2026-01-10T020000Z.claim')).toEqual({
      id: 'backup-2026-01-10T020000Z',
      kind: 'claim',
      encrypted: false,
    })
    expect(parseBackupKey('database-backups/backup-2026-01-10T020000Z.manifest.json.minisig')?.kind).toBe(
      'signature',
    )
  })

  it('a claim alone is an incomplete backup, never a complete one', () => {
    const [record] = inventoryOf([{ key: claimKey('backup-2026-01-10T020000Z'), size: 1, modified: NOW }])
    expect(record!.complete).toBe(false)
    expect(record!.archive).toBeUndefined()
  })
})

describe("an id checked against the store's clock", () => {
  const real = new Date(NOW.getTime() - DAY)
  const yearAhead = new Date(real.getTime() + 365 * DAY)
  const records = inventoryOf([
    ...backupObjects(idAt(real), real),
    // Made under a clock a year ahead: its id names next year, the store recorded it today.
    ...backupObjects(idAt(yearAhead), new Date(real.getTime() + 3_600_000)),
  ])

  it('flags an id later than the store recorded it, beyond the tolerance', () => {
    expect(records.map((r) => [r.id, r.clockAhead])).toEqual([
      [idAt(yearAhead), true],
      [idAt(real), false],
    ])
  })

  it('accepts an id a little ahead of the store, within the tolerance', () => {
    const stored = new Date(real.getTime() - CLOCK_TOLERANCE_MS + 1000)
    expect(inventoryOf(backupObjects(idAt(real), stored))[0]!.clockAhead).toBe(false)
    const beyond = new Date(real.getTime() - CLOCK_TOLERANCE_MS - 1000)
    expect(inventoryOf(backupObjects(idAt(real), beyond))[0]!.clockAhead).toBe(true)
  })

  it('never makes it latest, nor the answer to a date', () => {
    expect(selectBackup(records, { kind: 'latest' }).id).toBe(idAt(real))
    expect(selectBackup(records, { kind: 'date', date: '2027-12-31' }).id).toBe(idAt(real))
  })

  it('still restores it when named by id', () => {
    expect(selectBackup(records, { kind: 'id', id: idAt(yearAhead) }).id).toBe(idAt(yearAhead))
  })

  it('says why when it is the only complete backup', () => {
    const only = inventoryOf(backupObjects(idAt(yearAhead), real))
    const error = thrown(() => selectBackup(only, { kind: 'latest' }))
    expect(error.code).toBe('BACKUP_NOT_FOUND')
    expect(error.message).toContain("dated ahead of the store's clock")
  })
})

const manifest = (id: string, tables: number, rows = 1000, bytes = 50_000) => ({
  id,
  tables: Array.from({ length: tables }, (_, i) => ({ schema: 'public', name: `t${i}`, rows })),
  totals: { tables, rows: tables * rows, bytes: tables > 0 ? bytes : 0 },
})

describe('what makes a backup good', () => {
  const at = (days: number) => new Date(NOW.getTime() - days * DAY)
  const fact = (days: number, tables: number, extra: Partial<BackupFacts> = {}): BackupFacts => {
    const id = idAt(at(days))
    return { id, time: at(days), clockAhead: false, manifest: manifest(id, tables), ...extra }
  }

  it('a backup that holds no table is not good', () => {
    const reasons = assessBackups([fact(2, 3), fact(1, 0)])
    expect(reasons.get(idAt(at(1)))).toEqual(['empty: it holds no table'])
    expect(reasons.get(idAt(at(2)))).toEqual([])
  })

  it('a backup the anomaly check flags is not good; the next normal one is', () => {
    const reasons = assessBackups([fact(4, 3), fact(3, 3), fact(2, 2), fact(1, 3)])
    expect(reasons.get(idAt(at(2)))!.join()).toContain('anomaly: table public.t2 is missing')
    expect(reasons.get(idAt(at(1)))).toEqual([])
  })

  it('signature facts decide only where signing is on', () => {
    const reasons = assessBackups([
      fact(3, 3, { signature: { signed: true, valid: true } }),
      fact(2, 3, { signature: { signed: false, valid: false } }),
      fact(1, 3, { signature: { signed: true, valid: false } }),
      fact(0, 3),
    ])
    expect([...reasons.values()]).toEqual([
      [],
      ['unsigned, while signing is on'],
      ['its signature does not verify'],
      [],
    ])
  })

  it('a clock-ahead backup is not good and stays out of the anomaly baseline', () => {
    const reasons = assessBackups([fact(2, 3), fact(-300, 0, { clockAhead: true }), fact(1, 3)])
    expect(reasons.get(idAt(at(-300)))).toContain("dated ahead of the store's clock")
    expect(reasons.get(idAt(at(1)))).toEqual([])
  })
})

describe('retention with empty backups and a skewed clock', () => {
  /** 7 empty daily backups (the newest) and 5 real ones 31 to 35 days old. */
  function store(): { objects: ListedObject[]; facts: BackupFacts[] } {
    const objects: ListedObject[] = []
    const facts: BackupFacts[] = []
    const add = (days: number, tables: number) => {
      const time = new Date(NOW.getTime() - days * DAY)
      const id = idAt(time)
      objects.push(...backupObjects(id, new Date(time.getTime() + 60_000)))
      facts.push({ id, time, clockAhead: false, manifest: manifest(id, tables) })
    }
    for (let days = 31; days <= 35; days++) add(days, 3)
    for (let days = 1; days <= 7; days++) add(days, 0)
    return { objects, facts }
  }
  const policy = { now: NOW, maxAgeDays: 30, floor: 7, orphanGraceHours: 24 }

  it('keeps every real backup in the floor; the empty ones are kept by age only, with the reason', () => {
    const { objects, facts } = store()
    const verified = new Map(facts.map((f) => [f.id, true]))
    const plan = planRetention(retentionCandidates(objects, verified, assessBackups(facts)), policy)
    expect(plan.delete).toEqual([])
    const real = plan.keep.filter((k) => k.reasons.includes('floor'))
    expect(real.map((k) => k.ageDays)).toEqual([31, 32, 33, 34, 35])
    const empty = plan.keep.filter((k) => !k.reasons.includes('floor'))
    expect(empty).toHaveLength(7)
    for (const keep of empty) {
      expect(keep.reasons).toEqual(['within-age'])
      expect(keep.notGood).toEqual(['empty: it holds no table'])
    }
  })

  it('ages a clock-ahead backup by the store time: it never holds the floor and expires in time', () => {
    const real = new Date(NOW.getTime() - 40 * DAY)
    const ahead = new Date(real.getTime() + 365 * DAY)
    const objects = [...backupObjects(idAt(real), real), ...backupObjects(idAt(ahead), real)]
    const verified = new Map([
      [idAt(real), true],
      [idAt(ahead), true],
    ])
    const plan = planRetention(retentionCandidates(objects, verified), { ...policy, floor: 1 })
    expect(plan.keep.map((k) => [k.id, k.reasons])).toEqual([[idAt(real), ['floor']]])
    expect(plan.delete.map((d) => [d.id, d.reason, d.ageDays])).toEqual([[idAt(ahead), 'expired', 40]])
  })

  it('removes a claim left by a failed backup once the grace period has passed, as an orphaned claim', () => {
    const id = idAt(new Date(NOW.getTime() - 3 * DAY))
    const objects = [{ key: claimKey(id), size: 80, modified: new Date(NOW.getTime() - 3 * DAY) }]
    const plan = planRetention(retentionCandidates(objects, new Map()), policy)
    expect(plan.delete).toEqual([{ id, reason: 'orphaned-claim', ageDays: 3, keys: [claimKey(id)] }])
  })
})
