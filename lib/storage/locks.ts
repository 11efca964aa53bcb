// Storage locks in the backup store (restic-style): a backup holds a shared lock from
// before its first look at the blobs until its sidecar is written; a sweep holds an
// exclusive one while it deletes. Both write their lock, then list: one always sees the
// other. Heartbeats keep a lock fresh; a holder whose heartbeats lapse stops itself.
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { putClaimed } from '../adapters/store/create-only.ts'
import type { Store } from '../adapters/store/store.ts'
import { LifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import { LOCKS_PREFIX, lockKey } from './layout.ts'
import { type LockOwner, liveHolders, lockOwners } from './lock-state.ts'

export interface LockDeps {
  store: Store
  emit: EmitEvent
  /** Monotonic milliseconds; performance.now by default. */
  monotonic?: () => number
  signal?: AbortSignal
}

export interface LockTiming {
  /** A lock whose newest heartbeat is older than this is stale. */
  ttlMs: number
  /** Between heartbeats (default a sixth of the TTL). */
  heartbeatMs?: number
  /** Between looks while waiting for a sweep to finish (default 5 s, at most the heartbeat). */
  pollMs?: number
}

type HeldKind = 'shared' | 'exclusive'

/** A unique holder name: `backup-…Z-1a2b3c4d` or `clean-20261125T020000Z-1a2b3c4d`. */
export function lockOwnerName(prefix: string, time: Date): string {
  const stamp = prefix.startsWith('backup-') ? '' : `-${time.toISOString().replace(/[-:]|\.\d+/g, '')}`
  return `${prefix}${stamp}-${randomBytes(4).toString('hex')}`
}

export class StorageLock {
  readonly owner: string
  readonly kind: HeldKind
  readonly #deps: LockDeps
  readonly #ttl: number
  readonly #margin: number
  readonly #poll: number
  readonly #mono: () => number
  readonly #written: string[] = []
  #serverAtWrite = 0
  #localAtWrite = 0
  /** Monotonic start of the newest heartbeat known to be stored. */
  #lastStart = 0
  #broken: string | undefined
  #timer: NodeJS.Timeout | undefined
  #beat: Promise<void> | undefined
  #released = false

  private constructor(deps: LockDeps, kind: HeldKind, owner: string, timing: LockTiming) {
    this.#deps = deps
    this.kind = kind
    this.owner = owner
    this.#ttl = timing.ttlMs
    // Covers the store's one-second timestamps and clock-rate drift: a holder gives up
    // its lock well before any other process can see it as stale.
    this.#margin = Math.max(timing.ttlMs / 4, 2000)
    this.#poll = Math.min(timing.pollMs ?? 5000, timing.heartbeatMs ?? timing.ttlMs / 6)
    this.#mono = deps.monotonic ?? (() => performance.now())
  }

  /** Writes the lock, then learns the store's clock from listing it; starts the heartbeats. */
  static async acquire(
    deps: LockDeps,
    kind: HeldKind,
    owner: string,
    timing: LockTiming,
  ): Promise<StorageLock> {
    const lock = new StorageLock(deps, kind, owner, timing)
    const start = lock.#mono()
    await lock.#write(0)
    lock.#localAtWrite = lock.#mono()
    lock.#lastStart = start
    const own = await deps.store
      .list(LOCKS_PREFIX)
      .then((listed) => listed.find((o) => o.key === lock.#written[0]))
      .catch(async (error: unknown) => {
        await lock.release().catch(() => undefined)
        throw error
      })
    if (!own) {
      await lock.release().catch(() => undefined)
      throw new LifeboatError(
        'STORE_IO',
        `${deps.store.locate(lock.#written[0]!)} was written but is not listed: the store must list what it has written`,
      )
    }
    lock.#serverAtWrite = own.modified.getTime()
    const every = timing.heartbeatMs ?? timing.ttlMs / 6
    lock.#timer = setInterval(() => {
      lock.#beat ??= lock.#heartbeat().finally(() => {
        lock.#beat = undefined
      })
    }, every)
    lock.#timer.unref()
    return lock
  }

  /** The store's time now, never ahead of it (from the lock's own timestamp). */
  serverNow(): Date {
    return new Date(this.#serverAtWrite + (this.#mono() - this.#localAtWrite))
  }

  async holders(): Promise<LockOwner[]> {
    return lockOwners(await this.#deps.store.list(LOCKS_PREFIX))
  }

  async liveOthers(kind: HeldKind): Promise<LockOwner[]> {
    return liveHolders(await this.holders(), kind, this.serverNow(), this.#ttl, this.owner)
  }

  /** Waits while another process holds the exclusive lock (a sweep deleting blobs). */
  async waitForExclusive(maxWaitMs: number): Promise<void> {
    const began = this.#mono()
    for (;;) {
      const sweeps = await this.liveOthers('exclusive')
      if (sweeps.length === 0) return
      if (this.#mono() - began > maxWaitMs) {
        throw new LifeboatError(
          'STORE_IO',
          `a storage sweep (${sweeps.map((s) => s.owner).join(', ')}) still holds the lock after ${Math.round(maxWaitMs / 1000)} s`,
        )
      }
      this.#deps.emit({
        type: 'step',
        message: `waiting for the storage sweep ${sweeps.map((s) => s.owner).join(', ')} to finish`,
      })
      await sleep(this.#poll, undefined, { signal: this.#deps.signal })
    }
  }

  /**
   * Throws when the lock may have lapsed: some heartbeat gap, or the time since the last
   * one, came within the margin of the TTL. Call before every step the lock protects.
   */
  assertHeld(what: string): void {
    const since = this.#mono() - this.#lastStart
    const lapse =
      this.#broken ??
      (since >= this.#ttl - this.#margin ? `no heartbeat for ${Math.round(since / 1000)} s` : undefined)
    if (lapse || this.#released) {
      throw new LifeboatError(
        'STORE_IO',
        `the storage lock ${this.owner} lapsed (${lapse ?? 'released'}); stopped before ${what} so that no blob is lost`,
      )
    }
  }

  /** A backup writes `done` (it may not delete); a sweep deletes its own lock objects. */
  async release(): Promise<void> {
    if (this.#released) return
    this.#released = true
    clearInterval(this.#timer)
    await this.#beat
    if (this.kind === 'shared') await this.#write(0, 'done')
    else await this.#deps.store.delete(this.#written)
  }

  async #heartbeat(): Promise<void> {
    const start = this.#mono()
    try {
      await this.#write(this.#written.length)
    } catch (error) {
      this.#deps.emit({
        type: 'warning',
        message: `storage lock heartbeat failed: ${(error as Error).message}`,
      })
      return
    }
    const gap = this.#mono() - this.#lastStart
    if (gap >= this.#ttl - this.#margin)
      this.#broken ??= `a heartbeat came ${Math.round(gap / 1000)} s after the previous one`
    this.#lastStart = start
  }

  async #write(seq: number, kind: HeldKind | 'done' = this.kind): Promise<void> {
    const key = lockKey(this.owner, kind, seq)
    const body = JSON.stringify({ owner: this.owner, kind, seq, host: hostname(), pid: process.pid })
    // Each heartbeat is a new key of this owner's: create-only, so no lock object is ever
    // replaced, and one of its size already there is this write's own, landed unanswered.
    await putClaimed(this.#deps.store, key, `${body}\n`, {
      contentType: 'application/json',
    })
    if (kind !== 'done') this.#written.push(key)
  }
}
