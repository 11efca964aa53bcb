// The Storage part of a drill or DR-test report (docs/drills.md): how the backup's files
// were checked (restored into the drill's Storage and read back, or only verified in the
// store), the figures, and the warnings and check row they give the report. Pure.
import { formatBytes, plural } from '../core/format.ts'

export interface DrillStorageReport {
  /**
   * `restored`: into the drill's Storage (STAGING_SUPABASE_STORAGE_S3_*), every object read
   * back or found identical by sha256; `verified`: every blob read back from the store and
   * hashed, not restored (no drill Storage); `skipped`: --no-storage, not checked at all.
   */
  mode: 'restored' | 'verified' | 'skipped'
  /** The drill's Storage endpoint (`restored`), else null. */
  target: string | null
  buckets: number
  /** The backup's objects and their bytes. */
  objects: number
  bytes: number
  /** Objects whose content was proven by sha256; null when not reached. */
  objectsChecked: number | null
  /** Bytes read and hashed: uploaded and read back (`restored`), blobs read (`verified`). */
  bytesChecked: number | null
  /** Objects written into the drill's Storage (`restored`). */
  written: number | null
  seconds: number | null
  /** Null when the files were not checked. */
  ok: boolean | null
  /** `storage.objects` rows of the restored database without a restored file; null without that table. */
  rowsWithoutFile: number | null
  /** Restored files without a `storage.objects` row in the restored database; null without that table. */
  filesWithoutRow: number | null
  problems: string[]
  /** What the drill wrote into its Storage: removed with the scratch database, or kept with it. */
  cleanup: 'removed' | 'kept' | 'failed' | null
}

/** The backup's files as a report part before anything was checked. */
export function plannedStorage(
  mode: DrillStorageReport['mode'],
  reference: { buckets: number; objects: number; bytes: number },
  target: string | null,
): DrillStorageReport {
  return {
    mode,
    target,
    buckets: reference.buckets,
    objects: reference.objects,
    bytes: reference.bytes,
    objectsChecked: null,
    bytesChecked: null,
    written: null,
    seconds: null,
    ok: null,
    rowsWithoutFile: null,
    filesWithoutRow: null,
    problems: [],
    cleanup: null,
  }
}

/** Warnings the Storage part adds: unchecked files, rows and files that do not match. */
export function storageWarnings(storage: DrillStorageReport | null): string[] {
  if (!storage) return []
  if (storage.mode === 'skipped') {
    return [
      `the backup holds ${plural(storage.objects, 'Storage file')} (${formatBytes(storage.bytes)}) that were not checked (--no-storage)`,
    ]
  }
  const warnings: string[] = []
  if (storage.rowsWithoutFile)
    warnings.push(`storage: storage.objects rows without a restored file: ${storage.rowsWithoutFile}`)
  if (storage.filesWithoutRow)
    warnings.push(`storage: restored files without a storage.objects row: ${storage.filesWithoutRow}`)
  return warnings
}

/** The report's `storage` check row; none when the files were not checked. */
export function storageCheck(
  storage: DrillStorageReport | null,
): { name: string; ok: boolean; detail: string } | undefined {
  if (!storage || storage.ok === null) return undefined
  const files = `${plural(storage.objects, 'object')} (${formatBytes(storage.bytes)}) in ${plural(storage.buckets, 'bucket')}`
  if (!storage.ok) {
    return { name: 'storage', ok: false, detail: `${files}: ${storage.problems.slice(0, 3).join('; ')}` }
  }
  const detail =
    storage.mode === 'restored'
      ? `${files} restored into ${storage.target}, each read back or found identical by sha256`
      : `${files} verified, not restored: every blob read back from the store and its sha256 checked (set STAGING_SUPABASE_STORAGE_S3_* to restore them)`
  return { name: 'storage', ok: true, detail }
}

/** One line for the Markdown facts and the alert details. */
export function describeDrillStorage(storage: DrillStorageReport): string {
  const files = `${plural(storage.objects, 'object')} (${formatBytes(storage.bytes)}) in ${plural(storage.buckets, 'bucket')}`
  if (storage.mode === 'skipped') return `${files}: **not checked** (--no-storage)`
  if (storage.ok === false) return `${files}: **FAILED**: ${storage.problems.slice(0, 3).join('; ')}`
  if (storage.ok === null) return `${files}: not reached`
  const time = storage.seconds === null ? '' : ` in ${storage.seconds.toFixed(1)} s`
  if (storage.mode === 'verified') {
    return `${files} **verified, not restored**${time}: every blob read back from the store and its sha256 checked (no drill Storage: STAGING_SUPABASE_STORAGE_S3_URL)`
  }
  const rows =
    storage.rowsWithoutFile === null
      ? 'rows and files not compared (the restored database has no storage.objects)'
      : `${storage.rowsWithoutFile} rows without file, ${storage.filesWithoutRow} files without row`
  const cleanup =
    storage.cleanup === 'removed'
      ? '; the drill’s files removed afterwards'
      : storage.cleanup === 'kept'
        ? '; the drill’s files kept with the database'
        : ''
  return `${files} restored into ${storage.target}${time}, ${storage.written} written and read back, ${(storage.objectsChecked ?? 0) - (storage.written ?? 0)} already there (same sha256); ${rows}${cleanup}`
}
