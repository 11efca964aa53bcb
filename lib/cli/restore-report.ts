// What the restore job prints and returns: the comparison table of a restore, the plan
// of a --dry-run, and the Storage files' part, as text, JSON summary and audit facts.
import { formatBytes, formatCount, plural } from '../core/format.ts'
import type { DatabaseRestoreResult } from '../restore/database-restore.ts'
import type { RestorePreview } from '../restore/preview.ts'
import { proofVerdict } from '../restore/target.ts'
import type { StorageRestorePreview, StorageRestoreResult } from '../storage/restore.ts'
import type { ReportableResult } from './after-job.ts'
import { restoreMarkdown } from './job-markdown.ts'

/** A restore of the database, and of the files when Storage was restored too. */
export function restoreReport(
  result: DatabaseRestoreResult,
  storage: StorageRestoreResult | undefined,
): ReportableResult {
  return {
    // maxRSS is in kilobytes: the whole process's peak, measured, not estimated.
    summary: {
      ...result,
      ...(storage ? { storage } : {}),
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    },
    text: [renderResult(result), ...(storage ? [storageText(storage)] : [])].join('\n'),
    markdown: restoreMarkdown(result),
    facts: {
      backupId: result.id,
      rows: result.rows,
      tables: result.tables.length,
      bytes: result.archiveBytes,
      ...(storage ? { details: storageDetails(storage) } : {}),
    },
    warnings: [...result.warnings, ...(storage?.warnings ?? [])],
    audit: {
      target: `${result.target.host}:${result.target.port}/${result.target.database}`,
      verified: result.verified,
      // An unsigned restore (--allow-unsigned) is on the record, with why it could not be checked.
      signature:
        result.signature.status === 'verified'
          ? `verified (key ${result.signature.keyId})`
          : `UNSIGNED: ${result.signature.reason}`,
      ...(storage ? { storageObjects: storage.uploaded.objects } : {}),
    },
  }
}

/** --storage-only: the files of one backup, the database left alone. */
export function storageOnlyReport(storage: StorageRestoreResult): ReportableResult {
  return {
    summary: { id: storage.id, storageOnly: true, storage },
    text: storageText(storage),
    facts: { backupId: storage.id, details: storageDetails(storage) },
    warnings: storage.warnings,
    audit: { storageOnly: true, storageObjects: storage.uploaded.objects },
  }
}

/** --storage-only --dry-run: the files' plan, nothing written. */
export function storagePreviewReport(storage: StorageRestorePreview): ReportableResult {
  return {
    summary: { id: storage.id, dryRun: true, storageOnly: true, storage },
    text: storagePreviewText(storage),
    facts: { backupId: storage.id },
    audit: { dryRun: true, storageOnly: true },
  }
}

/** --dry-run: the plan, and that nothing was written. */
export function previewReport(
  preview: RestorePreview,
  storage: StorageRestorePreview | undefined,
): ReportableResult {
  return {
    summary: { ...preview, ...(storage ? { storage } : {}) },
    text: [renderPreview(preview), ...(storage ? [storagePreviewText(storage)] : [])].join('\n'),
    facts: { backupId: preview.id, rows: preview.rows, tables: preview.tables.length },
    warnings: preview.warnings,
    audit: { dryRun: true, target: preview.target },
  }
}

function renderPreview(p: RestorePreview): string {
  const width = Math.max(5, ...p.tables.map((t) => t.table.length))
  const lines = [
    `${'table'.padEnd(width)}  ${'rows'.padStart(12)}  ${'size'.padStart(10)}  action`,
    ...p.tables.map(
      (t) =>
        `${t.table.padEnd(width)}  ${formatCount(t.rows).padStart(12)}  ${formatBytes(t.bytes).padStart(10)}  ${t.action}`,
    ),
  ]
  if (p.skipped.length > 0) lines.push(`left out by the selection: ${p.skipped.join(', ')}`)
  if (p.schema) {
    const kinds = Object.entries(p.schema.kinds)
      .sort((a, b) => b[1] - a[1])
      .map(([kind, n]) => `${n} ${kind}`)
      .join(', ')
    lines.push(
      `schema.sql: ${plural(p.schema.statements, 'statement')} (${p.schema.preData} before the data, ${p.schema.postData} after): ${kinds}`,
    )
  }
  if (p.sequences.length > 0) lines.push(`sequences set: ${p.sequences.join(', ')}`)
  lines.push(
    `dry run: ${p.id} would restore ${plural(p.tables.length, 'table')}, ${plural(p.rows, 'row')} into ${p.target}${p.truncate ? ' (tables emptied first)' : ''}; every check passed, nothing was written`,
  )
  return lines.join('\n')
}

function storagePreviewText(s: StorageRestorePreview): string {
  const created = s.bucketsToCreate.length > 0 ? `; buckets created: ${s.bucketsToCreate.join(', ')}` : ''
  return `storage (dry run): would upload ${plural(s.upload.objects, 'object')} (${formatBytes(s.upload.bytes)}), ${s.overwrite} of them over other content; ${s.identical} already there, ${s.extra} not in the backup${created}; every blob to upload proven against its sha256, nothing written`
}

function storageDetails(s: StorageRestoreResult): Record<string, string | number> {
  return {
    'storage objects restored': s.uploaded.objects,
    'storage bytes restored': formatBytes(s.uploaded.bytes),
    'storage objects already there': s.identical,
  }
}

export function storageText(s: StorageRestoreResult): string {
  const lines = [
    `storage: restored ${plural(s.uploaded.objects, 'object')} (${formatBytes(s.uploaded.bytes)}), ${s.identical} already there, ${s.overwritten} overwritten, every upload read back and its sha256 checked (${s.seconds.toFixed(1)} s)`,
  ]
  if (s.bucketsCreated.length > 0) lines.push(`storage: buckets created: ${s.bucketsCreated.join(', ')}`)
  for (const p of s.settingsPending) {
    lines.push(
      `storage: settings pending for ${p.bucket}: public ${p.settings.public}, file size limit ${p.settings.fileSizeLimit ?? 'none'}, allowed MIME types ${p.settings.allowedMimeTypes?.join(' ') ?? 'any'}`,
    )
  }
  if (s.catalog) {
    lines.push(
      `storage: rows without file ${s.catalog.rowsWithoutFile.count}, files without row ${s.catalog.filesWithoutRow.count}`,
    )
  }
  return lines.join('\n')
}

function renderResult(result: DatabaseRestoreResult): string {
  const header = result.verified
    ? ['table', 'rows (backup)', 'rows (restored)', 'check']
    : ['table', 'rows (backup)', 'rows (loaded)']
  const rows = result.tables.map((t) =>
    result.verified
      ? [
          t.table,
          formatCount(t.rowsExpected),
          formatCount(t.rowsRestored ?? 0),
          t.sha256Match ? 'ok' : 'DIFFERS',
        ]
      : [t.table, formatCount(t.rowsExpected), formatCount(t.rowsLoaded)],
  )
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const format = (cells: string[]) =>
    cells
      .map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  const { target } = result
  const verdict = proofVerdict(result.verified, result.tables)
  return [
    format(header),
    ...rows.map(format),
    ...projectLines(result),
    `restored ${result.id} into ${target.database} at ${target.host}:${target.port}: ${plural(result.tables.length, 'table')}, ${plural(result.rows, 'row')}, ${plural(result.sequences, 'sequence')} from ${formatBytes(result.archiveBytes)} in ${result.seconds.total.toFixed(1)} s; ${verdict}`,
  ].join('\n')
}

/** What a restore into a Supabase project left to the project. */
function projectLines(result: DatabaseRestoreResult): string[] {
  if (!result.supabase) return []
  const { managedTables, comparedLedgers } = result.supabase
  const skipped = plural(result.schemaStatementsSkipped, 'schema.sql statement')
  const releases = comparedLedgers.length > 0 ? `; releases compared: ${comparedLedgers.join(', ')}` : ''
  return [
    `Supabase project: ${plural(managedTables.length, 'table')} of its managed schemas loaded into the project's own, ${skipped} left to the project${releases}`,
  ]
}
