// The GitHub job summaries of backup, verify, restore and clean: what a person opening
// the run's page wants to see without reading the log.
import type { Manifest } from '../archive/manifest.ts'
import { formatBytes, formatCount, plural } from '../core/format.ts'
import type { RestoreResult } from '../restore/database-restore.ts'
import { proofVerdict } from '../restore/target.ts'
import type { CleanResult } from '../retention/clean.ts'
import type { VerifyReport } from '../verify/verify-backups.ts'
import { markdownTable } from './step-summary.ts'

export function backupMarkdown(input: {
  id: string
  location: string
  manifest: Manifest
  archiveBytes: number
  seconds: number
  warnings: readonly string[]
}): string {
  const { totals } = input.manifest
  const biggest = [...input.manifest.tables].sort((a, b) => b.bytes - a.bytes).slice(0, 10)
  const lines = [
    `### ✅ Backup ${input.id}`,
    '',
    `${plural(totals.tables, 'table')}, ${formatCount(totals.rows)} rows, ${formatBytes(input.archiveBytes)} stored at \`${input.location}\` in ${input.seconds.toFixed(1)} s${input.manifest.encrypted ? ', encrypted (age)' : ''}.`,
    '',
    markdownTable(
      ['table', 'rows', 'data'],
      biggest.map((t) => [`${t.schema}.${t.name}`, formatCount(t.rows), formatBytes(t.bytes)]),
      [1, 2],
    ),
  ]
  if (input.manifest.tables.length > biggest.length) {
    lines.push('', `The ${biggest.length} largest of ${plural(input.manifest.tables.length, 'table')}.`)
  }
  return [...lines, ...warningLines(input.warnings)].join('\n')
}

export function verifyMarkdown(report: VerifyReport): string {
  const verified = report.backups.filter((b) => b.verdict === 'ok').length
  const icon = report.ok ? '✅' : '❌'
  return [
    `### ${icon} Verify: ${verified} of ${plural(report.backups.length, 'backup')} ${report.quick ? 'checked (quick)' : 'verified'}`,
    '',
    markdownTable(
      ['backup', 'verdict', 'files', 'rows', 'archive', 'problems'],
      report.backups.map((b) => [
        b.id,
        b.verdict,
        b.files === undefined ? '' : formatCount(b.files),
        b.rows === undefined ? '' : formatCount(b.rows),
        b.archiveBytes === undefined ? '' : formatBytes(b.archiveBytes),
        b.problems.slice(0, 3).join('; '),
      ]),
      [2, 3, 4],
    ),
  ].join('\n')
}

export function restoreMarkdown(result: RestoreResult): string {
  const { target } = result
  return [
    `### ✅ Restore of ${result.id}`,
    '',
    `Into \`${target.database}\` at \`${target.host}:${target.port}\`: ${plural(result.tables.length, 'table')}, ${formatCount(result.rows)} rows in ${result.seconds.total.toFixed(1)} s (download ${result.seconds.download.toFixed(1)} s, verify ${result.seconds.verifyArchive.toFixed(1)} s, load ${result.seconds.load.toFixed(1)} s, after-load check ${result.seconds.verifyTables.toFixed(1)} s); ${proofVerdict(result.verified, result.tables)}.`,
    '',
    markdownTable(
      ['table', 'rows (backup)', 'rows (restored)', 'check'],
      result.tables.map((t) => [
        t.table,
        formatCount(t.rowsExpected),
        formatCount(t.rowsRestored ?? t.rowsLoaded),
        t.sha256Match === undefined ? '' : t.sha256Match ? 'ok' : 'DIFFERS',
      ]),
      [1, 2],
    ),
    ...warningLines(result.warnings),
  ].join('\n')
}

export function cleanMarkdown(result: CleanResult, dryRun: boolean, days: number): string {
  const verb = dryRun ? 'would delete' : 'deleted'
  const rows = [
    ...result.plan.keep.map((k) => [k.id, 'keep', `${k.ageDays.toFixed(1)} days`, k.reasons.join(', ')]),
    ...result.deleted.map((d) => [d.id, dryRun ? 'would delete' : 'deleted', '', d.reason]),
  ]
  return [
    `### 🧹 Clean${dryRun ? ' (dry run)' : ''}: ${verb} ${plural(result.deleted.length, 'backup')} (${formatBytes(result.bytesFreed)}), kept ${result.plan.keep.length}`,
    '',
    `Retention ${plural(days, 'day')}, in \`${result.store}\`.`,
    '',
    markdownTable(['backup', 'decision', 'age', 'why'], rows),
    ...warningLines(result.unverified.map((u) => `${u.id}: ${u.problem}; not counted toward the floor`)),
  ].join('\n')
}

function warningLines(warnings: readonly string[]): string[] {
  if (warnings.length === 0) return []
  return ['', '**Warnings**', '', ...warnings.map((w) => `- ⚠️ ${w}`)]
}
