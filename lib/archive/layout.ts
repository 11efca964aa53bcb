// Backup ids, archive names and the store's key layout (DESIGN.md "Bucket layout"). Pure.

export const BACKUPS_PREFIX = 'database-backups/'
export const DRILLS_PREFIX = 'drills/'
export const AUDIT_PREFIX = 'audit/'
export const STATUS_KEY = 'state/status.json'

const ID_PATTERN = /^backup-(\d{4})-(\d{2})-(\d{2})T(\d{2})(\d{2})(\d{2})Z$/

/** `backup-2026-11-25T020000Z` for a time (UTC, whole seconds). */
export function backupIdFor(time: Date): string {
  const iso = time.toISOString() // 2026-11-25T02:00:00.000Z
  return `backup-${iso.slice(0, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`
}

export function isBackupId(value: string): boolean {
  return ID_PATTERN.test(value)
}

/** The time a backup id names, or undefined when it is not an id. */
export function timeOfBackupId(id: string): Date | undefined {
  const m = ID_PATTERN.exec(id)
  if (!m) return undefined
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!))
}

export type ArchiveExtension = '.tar.gz' | '.tar.gz.age'

export function archiveKey(id: string, encrypted: boolean): string {
  return `${BACKUPS_PREFIX}${id}${encrypted ? '.tar.gz.age' : '.tar.gz'}`
}

export function sidecarKey(id: string): string {
  return `${BACKUPS_PREFIX}${id}.manifest.json`
}

export interface ParsedBackupKey {
  id: string
  kind: 'archive' | 'sidecar'
  encrypted: boolean
}

/** Recognises the objects under `database-backups/`; anything else is not ours. */
export function parseBackupKey(key: string): ParsedBackupKey | undefined {
  if (!key.startsWith(BACKUPS_PREFIX)) return undefined
  const name = key.slice(BACKUPS_PREFIX.length)
  const m = /^(backup-[0-9T-]+Z)(\.tar\.gz\.age|\.tar\.gz|\.manifest\.json)$/.exec(name)
  if (!m || !isBackupId(m[1]!)) return undefined
  if (m[2] === '.manifest.json') return { id: m[1]!, kind: 'sidecar', encrypted: false }
  return { id: m[1]!, kind: 'archive', encrypted: m[2] === '.tar.gz.age' }
}

/**
 * The data file of one table inside the archive's root folder. Names stay readable;
 * only characters that would change the path or make it ambiguous are %-encoded:
 * `/` and `\\` (folders), `.` (the schema/table separator), `%`, and control characters.
 */
export function dataFileName(schema: string, table: string): string {
  return `data/${encodeNamePart(schema)}.${encodeNamePart(table)}.ndjson`
}

function encodeNamePart(name: string): string {
  return name.replace(
    /[%./\\\u0000-\u001f\u007f]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  )
}
