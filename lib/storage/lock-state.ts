// Who holds a storage lock, from one listing of storage-locks/ (pure). A holder is live
// while its newest heartbeat is younger than the TTL and it has not written `done`.
// docs/storage.md ("Retention: mark and sweep") explains why this makes sweeps safe.

import { byText } from '../core/order.ts'
import { type LockKind, parseLockKey } from './layout.ts'

export interface ListedLock {
  key: string
  modified: Date
}

export interface LockOwner {
  owner: string
  kinds: Exclude<LockKind, 'done'>[]
  /** The newest heartbeat's store timestamp. */
  newest: Date
  done: boolean
  /** Heartbeat keys first, the done marker last: deleting in this order never revives a holder. */
  keys: string[]
}

export function lockOwners(listing: readonly ListedLock[]): LockOwner[] {
  const owners = new Map<string, LockOwner>()
  for (const item of listing) {
    const parsed = parseLockKey(item.key)
    if (!parsed) continue
    const owner = owners.get(parsed.owner) ?? {
      owner: parsed.owner,
      kinds: [],
      newest: new Date(0),
      done: false,
      keys: [],
    }
    if (parsed.kind === 'done') owner.done = true
    else {
      if (!owner.kinds.includes(parsed.kind)) owner.kinds.push(parsed.kind)
      if (item.modified > owner.newest) owner.newest = item.modified
    }
    owner.keys.push(item.key)
    owners.set(parsed.owner, owner)
  }
  for (const owner of owners.values()) {
    owner.keys.sort((a, b) => Number(a.includes('.done.')) - Number(b.includes('.done.')) || byText(a, b))
  }
  return [...owners.values()].sort((a, b) => byText(a.owner, b.owner))
}

export function isLive(owner: LockOwner, now: Date, ttlMs: number): boolean {
  return !owner.done && owner.kinds.length > 0 && now.getTime() - owner.newest.getTime() < ttlMs
}

/** Live holders of a kind, other than `self`. */
export function liveHolders(
  owners: readonly LockOwner[],
  kind: Exclude<LockKind, 'done'>,
  now: Date,
  ttlMs: number,
  self?: string,
): LockOwner[] {
  return owners.filter((o) => o.owner !== self && o.kinds.includes(kind) && isLive(o, now, ttlMs))
}

/** Keys of holders that finished or went stale: a sweep holding the exclusive lock may delete them. */
export function finishedLockKeys(
  owners: readonly LockOwner[],
  now: Date,
  ttlMs: number,
  self: string,
): string[] {
  return owners.filter((o) => o.owner !== self && !isLive(o, now, ttlMs)).flatMap((o) => o.keys)
}
