// Who holds a storage lock, from a listing: heartbeats, done markers and staleness.
import { describe, expect, it } from 'vitest'
import { lockKey } from '../../../lib/storage/layout.ts'
import { finishedLockKeys, isLive, liveHolders, lockOwners } from '../../../lib/storage/lock-state.ts'

const MIN = 60_000
const t = (minutes: number) => new Date(Date.UTC(2026, 10, 25, 2, 0) + minutes * MIN)
const now = t(60)
const ttl = 30 * MIN

const listing = [
  { key: lockKey('backup-a', 'shared', 0), modified: t(0) },
  { key: lockKey('backup-a', 'shared', 1), modified: t(45) },
  { key: lockKey('backup-done', 'shared', 0), modified: t(50) },
  { key: lockKey('backup-done', 'done', 0), modified: t(55) },
  { key: lockKey('backup-stale', 'shared', 0), modified: t(10) },
  { key: lockKey('clean-x', 'exclusive', 0), modified: t(59) },
  { key: 'storage-locks/not-a-lock.txt', modified: t(59) },
]

describe('lockOwners', () => {
  const owners = lockOwners(listing)

  it('groups heartbeats by holder, keeping the newest and the done marker last', () => {
    const a = owners.find((o) => o.owner === 'backup-a')!
    expect(a.newest).toEqual(t(45))
    const done = owners.find((o) => o.owner === 'backup-done')!
    expect(done.done).toBe(true)
    expect(done.keys.at(-1)).toContain('.done.')
    expect(owners.map((o) => o.owner)).not.toContain('not-a-lock')
  })

  it('counts a holder live while its newest heartbeat is younger than the TTL and it is not done', () => {
    const live = Object.fromEntries(owners.map((o) => [o.owner, isLive(o, now, ttl)]))
    expect(live).toEqual({ 'backup-a': true, 'backup-done': false, 'backup-stale': false, 'clean-x': true })
  })

  it('finds live holders by kind, never oneself', () => {
    expect(liveHolders(owners, 'shared', now, ttl).map((o) => o.owner)).toEqual(['backup-a'])
    expect(liveHolders(owners, 'exclusive', now, ttl, 'clean-x')).toEqual([])
  })

  it('clears only finished or stale holders, and never oneself', () => {
    const keys = finishedLockKeys(owners, now, ttl, 'clean-x')
    expect(keys).toEqual([
      lockKey('backup-done', 'shared', 0),
      lockKey('backup-done', 'done', 0),
      lockKey('backup-stale', 'shared', 0),
    ])
  })
})
