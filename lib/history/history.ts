// The history `backup:report` shows: every complete backup (size, rows, duration), the
// failed runs, and every drill and DR test (restore time against the RTO), as rows and
// as Markdown. Pure.

import type { Manifest } from '../archive/manifest.ts'
import { formatBytes, formatCount, plural } from '../core/format.ts'
import { byText } from '../core/order.ts'
import { type DrillReport, formatSeconds } from '../drills/report.ts'
import { cell } from '../drills/report-markdown.ts'
import type { BackupRecord } from '../inventory/inventory.ts'

export interface BackupHistoryRow {
  id: string
  /** When the backup started (its id's time), ISO 8601. */
  time: string
  tables: number
  rows: number
  /** Uncompressed NDJSON bytes (the manifest's totals). */
  dataBytes: number
  /** Stored archive bytes (compressed, encrypted when it is). */
  archiveBytes: number
  /** finishedAt − startedAt of the backup. */
  durationSeconds: number
  encrypted: boolean
}

/** A run the audit trail records as failed (a usage error is never recorded as a run). */
export interface FailedRun {
  at: string
  event: string
  code: string
  message: string
}

export interface History {
  generatedAt: string
  /** Oldest first. */
  backups: BackupHistoryRow[]
  /** Failed runs of the scheduled jobs, oldest first. */
  failures: FailedRun[]
  /** Drills and DR tests, oldest first. */
  drills: DrillReport[]
  /** Sidecars or reports that could not be read; shown, never fatal. */
  problems: string[]
}

export function backupRowOf(record: BackupRecord, manifest: Manifest): BackupHistoryRow {
  const duration = (Date.parse(manifest.finishedAt) - Date.parse(manifest.startedAt)) / 1000
  return {
    id: record.id,
    time: record.time.toISOString(),
    tables: manifest.totals.tables,
    rows: manifest.totals.rows,
    dataBytes: manifest.totals.bytes,
    archiveBytes: manifest.archive?.bytes ?? record.archive?.size ?? 0,
    durationSeconds: Number.isFinite(duration) ? Math.round(duration * 1000) / 1000 : 0,
    encrypted: record.archive?.encrypted ?? manifest.encrypted,
  }
}

export function assembleHistory(input: {
  now: Date
  backups: readonly BackupHistoryRow[]
  failures?: readonly FailedRun[]
  drills: readonly DrillReport[]
  problems: readonly string[]
}): History {
  return {
    generatedAt: input.now.toISOString(),
    backups: [...input.backups].sort((a, b) => byText(a.time, b.time)),
    failures: [...(input.failures ?? [])].sort((a, b) => byText(a.at, b.at)),
    drills: [...input.drills].sort((a, b) => byText(a.startedAt, b.startedAt)),
    problems: [...input.problems],
  }
}

const when = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)}`

/** Two tables, newest rows first, plus a line per problem. */
export function renderHistoryMarkdown(history: History, options: { chart?: string } = {}): string {
  const out: string[] = ['## Lifeboat history', '']
  out.push(
    `${plural(history.backups.length, 'complete backup')}, ${plural(history.failures.length, 'failed run')}, ${plural(history.drills.length, 'drill')} and DR tests; generated ${history.generatedAt}.`,
    '',
  )
  if (options.chart) out.push(`Chart: \`${options.chart}\``, '')
  out.push('### Backups', '')
  if (history.backups.length === 0) out.push('No complete backup in the store.', '')
  else {
    out.push(
      '| backup | taken (UTC) | tables | rows | data | archive | duration |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    )
    for (const b of [...history.backups].reverse()) {
      out.push(
        `| \`${b.id}\` | ${when(b.time)} | ${b.tables} | ${formatCount(b.rows)} | ${formatBytes(b.dataBytes)} | ${formatBytes(b.archiveBytes)}${b.encrypted ? ' (age)' : ''} | ${formatSeconds(b.durationSeconds)} |`,
      )
    }
    out.push('')
  }
  out.push('### Failed runs', '')
  if (history.failures.length === 0) out.push('No failed run in the audit trail.', '')
  else {
    out.push('| when (UTC) | job | error | message |', '| --- | --- | --- | --- |')
    for (const f of [...history.failures].reverse()) {
      out.push(`| ${when(f.at)} | ${f.event} | ${f.code} | ${cell(f.message.slice(0, 200))} |`)
    }
    out.push('')
  }
  out.push('### Drills and DR tests', '')
  if (history.drills.length === 0) out.push('No drill has been run yet (`npm run backup:drill`).', '')
  else {
    out.push(
      '| run | kind | started (UTC) | backup | outcome | restore time | RTO target | RTO | projected | RPO achieved |',
      '| --- | --- | --- | --- | --- | ---: | ---: | --- | ---: | ---: |',
    )
    for (const d of [...history.drills].reverse()) {
      const measured = d.rto.measuredSeconds
      const rto = d.rto.met === null ? '—' : d.rto.met ? 'met' : '**exceeded**'
      const projected = d.projection ? formatSeconds(d.projection.projectedSeconds) : '—'
      const rpo = d.rpo ? `${formatSeconds(d.rpo.achievedSeconds)}${d.rpo.met ? '' : ' (**over**)'}` : '—'
      const outcome =
        d.outcome === 'failure'
          ? `**failure**${d.failedTables.length > 0 ? ` (${d.failedTables.join(', ')})` : ''}`
          : d.outcome
      out.push(
        `| \`${d.id}\` | ${d.kind} | ${when(d.startedAt)} | ${d.backupId ? `\`${d.backupId}\`` : '—'} | ${cell(outcome)} | ${measured === null ? '—' : formatSeconds(measured)} | ${formatSeconds(d.rto.targetSeconds)} | ${rto} | ${projected} | ${rpo} |`,
      )
    }
    out.push('')
  }
  if (history.problems.length > 0)
    out.push('### Not readable', '', ...history.problems.map((p) => `- ${cell(p)}`), '')
  return out.join('\n').trimEnd()
}
