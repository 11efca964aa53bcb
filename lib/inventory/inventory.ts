// The backups a store holds, derived from one key listing: complete ones have an
// archive and a sidecar; an archive without a sidecar is an incomplete upload. The
// id's time is checked against the store's own clock (docs/lifecycle.md). Pure.

import { backupIdFor, isBackupId, parseBackupKey, timeOfBackupId } from '../archive/layout.ts'
import { LifeboatError } from '../core/errors.ts'

export interface ListedObject {
  key: string
  size: number
  modified: Date
}

/**
 * How far an id's time (the backup runner's clock) may be ahead of the store's record of
 * its first object (the store's clock) before the id is not believed: NTP keeps clocks
 * within seconds; minutes of margin leave room for a slow first request.
 */
export const CLOCK_TOLERANCE_MS = 5 * 60_000

export interface BackupRecord {
  id: string
  /** The time the id names: when the backup started, by the runner's clock. */
  time: Date
  archive?: ListedObject & { encrypted: boolean }
  sidecar?: ListedObject
  signature?: ListedObject
  claim?: ListedObject
  complete: boolean
  /** The earliest LastModified of its objects: the store's own time for this backup. */
  storeTime: Date
  /**
   * The id names a time later than the store's record of the backup (plus
   * CLOCK_TOLERANCE_MS): it was made under a clock running ahead. Such a backup is
   * listed and flagged, never `latest`, never in the retention floor.
   */
  clockAhead: boolean
}

/** Groups listed keys into backups, newest first. */
export function inventoryOf(objects: readonly ListedObject[]): BackupRecord[] {
  const byId = new Map<string, BackupRecord>()
  for (const object of objects) {
    const parsed = parseBackupKey(object.key)
    const time = parsed && timeOfBackupId(parsed.id)
    // `backup-2026-13-10…` has the shape of an id but names no real time: not ours.
    if (!parsed || !time || backupIdFor(time) !== parsed.id) continue
    const record: BackupRecord = byId.get(parsed.id) ?? {
      id: parsed.id,
      time,
      complete: false,
      storeTime: object.modified,
      clockAhead: false,
    }
    if (parsed.kind === 'sidecar') record.sidecar = object
    else if (parsed.kind === 'signature') record.signature = object
    else if (parsed.kind === 'claim') record.claim = object
    // Should both a plain and an encrypted archive exist, the encrypted one is kept.
    else if (!record.archive || parsed.encrypted) record.archive = { ...object, encrypted: parsed.encrypted }
    record.complete = record.archive !== undefined && record.sidecar !== undefined
    if (object.modified.getTime() < record.storeTime.getTime()) record.storeTime = object.modified
    record.clockAhead = isClockAhead(record.time, record.storeTime)
    byId.set(parsed.id, record)
  }
  return [...byId.values()].sort((a, b) => b.time.getTime() - a.time.getTime())
}

/** An id time later than the store's time for the backup, beyond the tolerance. */
export function isClockAhead(idTime: Date, storeTime: Date, toleranceMs = CLOCK_TOLERANCE_MS): boolean {
  return idTime.getTime() > storeTime.getTime() + toleranceMs
}

/** One line a person reads about a backup whose id is ahead of the store's clock. */
export function describeClockAhead(record: Pick<BackupRecord, 'id' | 'time' | 'storeTime'>): string {
  const hours = (record.time.getTime() - record.storeTime.getTime()) / 3_600_000
  const ahead = hours >= 48 ? `${(hours / 24).toFixed(1)} days` : `${hours.toFixed(1)} h`
  return `${record.id} is dated ${ahead} after the store recorded it (${record.storeTime.toISOString()}): it was made under a clock running ahead; it is never taken as latest nor counted toward the retention floor`
}

/** Complete backups whose id can be believed: what `latest` and a date choose from. */
export function trustedComplete(records: readonly BackupRecord[]): BackupRecord[] {
  return records.filter((r) => r.complete && !r.clockAhead)
}

export type BackupSelector =
  | { kind: 'latest' }
  | { kind: 'id'; id: string }
  | { kind: 'date'; date: string }
  | { kind: 'file'; path: string }
  | { kind: 'key'; key: string }

/**
 * What the user typed: `latest`, a backup id, a date `YYYY-MM-DD` (the newest complete
 * backup made on or before the end of that UTC day), an `s3://…` URL or store key,
 * or a path to a local archive.
 */
export function parseSelector(value: string): BackupSelector {
  if (value === 'latest') return { kind: 'latest' }
  const base = value.replace(/^.*\//, '').replace(/(\.tar\.gz(\.age)?|\.manifest\.json)$/, '')
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    // Date.parse rolls 2024-02-30 over to March; a real date prints back as itself.
    const parsed = Date.parse(`${value}T00:00:00Z`)
    if (Number.isNaN(parsed) || new Date(parsed).toISOString().slice(0, 10) !== value) {
      throw new LifeboatError('USAGE', `"${value}" is not a valid date (YYYY-MM-DD)`)
    }
    return { kind: 'date', date: value }
  }
  if (isBackupId(value)) return { kind: 'id', id: value }
  if (value.startsWith('s3://')) return { kind: 'key', key: value }
  if (value.startsWith('database-backups/') && isBackupId(base)) return { kind: 'key', key: value }
  return { kind: 'file', path: value }
}

/** Picks the complete backup a selector names from an inventory (newest first). */
export function selectBackup(records: readonly BackupRecord[], selector: BackupSelector): BackupRecord {
  // `latest` and dates never choose a backup whose id is ahead of the store's clock.
  const complete = trustedComplete(records)
  switch (selector.kind) {
    case 'latest': {
      const newest = complete[0]
      if (!newest) throw new LifeboatError('BACKUP_NOT_FOUND', noneTrusted(records))
      return newest
    }
    case 'id': {
      // Named by id, a clock-ahead backup is still restorable (callers warn about it).
      const found = records.find((r) => r.complete && r.id === selector.id)
      if (!found) {
        const partial = records.some((r) => r.id === selector.id)
        throw new LifeboatError(
          'BACKUP_NOT_FOUND',
          partial
            ? `backup ${selector.id} is incomplete (no manifest sidecar)`
            : `backup ${selector.id} does not exist`,
        )
      }
      return found
    }
    case 'date': {
      const endOfDay = new Date(`${selector.date}T23:59:59.999Z`)
      const found = complete.find((r) => r.time.getTime() <= endOfDay.getTime())
      if (!found) {
        const first = complete.at(-1)
        throw new LifeboatError(
          'BACKUP_NOT_FOUND',
          first
            ? `no complete backup on or before ${selector.date}; the earliest is ${first.id}`
            : noneTrusted(records),
        )
      }
      return found
    }
    case 'key': {
      const id = selector.key.replace(/^.*\//, '').replace(/(\.tar\.gz(\.age)?|\.manifest\.json)$/, '')
      return selectBackup(records, { kind: 'id', id })
    }
    case 'file':
      throw new LifeboatError('USAGE', 'a local archive is not in the store inventory')
  }
}

function noneTrusted(records: readonly BackupRecord[]): string {
  const ahead = records.filter((r) => r.complete && r.clockAhead)
  if (ahead.length === 0) return 'the store holds no complete backup'
  return `the store holds no complete backup with a believable date; ${ahead.map((r) => r.id).join(', ')} ${ahead.length === 1 ? 'is' : 'are'} dated ahead of the store's clock (name one by id to restore it)`
}
