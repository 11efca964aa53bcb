// The backups a store holds, derived from one key listing: complete ones have an
// archive and a sidecar; an archive without a sidecar is an incomplete upload. Pure.

import { backupIdFor, isBackupId, parseBackupKey, timeOfBackupId } from '../archive/layout.ts'
import { LifeboatError } from '../core/errors.ts'

export interface ListedObject {
  key: string
  size: number
  modified: Date
}

export interface BackupRecord {
  id: string
  time: Date
  archive?: ListedObject & { encrypted: boolean }
  sidecar?: ListedObject
  complete: boolean
}

/** Groups listed keys into backups, newest first. */
export function inventoryOf(objects: readonly ListedObject[]): BackupRecord[] {
  const byId = new Map<string, BackupRecord>()
  for (const object of objects) {
    const parsed = parseBackupKey(object.key)
    const time = parsed && timeOfBackupId(parsed.id)
    // `backup-2026-13-10…` has the shape of an id but names no real time: not ours.
    if (!parsed || !time || backupIdFor(time) !== parsed.id) continue
    const record = byId.get(parsed.id) ?? { id: parsed.id, time, complete: false }
    if (parsed.kind === 'sidecar') record.sidecar = object
    // Should both a plain and an encrypted archive exist, the encrypted one is kept.
    else if (!record.archive || parsed.encrypted) record.archive = { ...object, encrypted: parsed.encrypted }
    record.complete = record.archive !== undefined && record.sidecar !== undefined
    byId.set(parsed.id, record)
  }
  return [...byId.values()].sort((a, b) => b.time.getTime() - a.time.getTime())
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
  const complete = records.filter((r) => r.complete)
  switch (selector.kind) {
    case 'latest': {
      const newest = complete[0]
      if (!newest) throw new LifeboatError('BACKUP_NOT_FOUND', 'the store holds no complete backup')
      return newest
    }
    case 'id': {
      const found = complete.find((r) => r.id === selector.id)
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
            : 'the store holds no complete backup',
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
