// The drill report as Markdown for people: the job log, the GitHub job summary and
// the store show the same text. Pure.
import type { OutcomeStatus } from '../alerts/outcome.ts'
import { formatBytes, formatCount, plural } from '../core/format.ts'
import { renderAccessReview } from './access-review-report.ts'
import { type DrillKind, type DrillReport, formatSeconds, type TargetKind } from './report.ts'
import { describeDrillStorage } from './storage-report.ts'

const TITLES: Record<DrillKind, string> = { drill: 'Restore drill', 'dr-test': 'Disaster-recovery test' }
const VERDICTS: Record<OutcomeStatus, string> = {
  success: 'passed',
  warning: 'passed with warnings',
  failure: 'FAILED',
}
const TARGET_NAMES: Record<TargetKind, string> = {
  staging: 'staging database',
  'new-database': 'new database on the staging server (dropped afterwards)',
  throwaway: 'throwaway PostgreSQL (removed afterwards)',
}

/** Markdown a person reads in the job log, the GitHub job summary and the store. */
export function renderDrillMarkdown(report: DrillReport, options: { location?: string } = {}): string {
  const out: string[] = []
  out.push(`## ${TITLES[report.kind]} ${VERDICTS[report.outcome]}: ${report.backupId ?? 'no backup'}`, '')
  const facts = factsOf(report, options.location)
  out.push('| | |', '| --- | --- |', ...facts.map(([k, v]) => `| ${k} | ${cell(v)} |`), '')
  if (report.error) {
    out.push(`**Error** \`${report.error.code}\`: ${report.error.message}`, '')
    if (report.failedTables.length > 0) {
      out.push(`**Failed tables:** ${report.failedTables.map((t) => `\`${t}\``).join(', ')}`, '')
    }
  }
  if (report.warnings.length > 0) out.push('**Warnings**', '', ...report.warnings.map((w) => `- ${w}`), '')
  if (report.recommendation) out.push(`**Recommendation:** ${report.recommendation}`, '')
  out.push(...phasesTable(report), ...tablesTable(report), ...checksTable(report))
  if (report.accessReview) {
    const { review, changes, previousKey } = report.accessReview
    out.push(renderAccessReview(review, changes, previousKey === null), '')
  } else if (report.kind === 'dr-test') {
    out.push(
      '**Access review:** not done: set LIFEBOAT_ACCESS_REVIEW to the stack output `accessReview` (the dr-test workflow does)',
      '',
    )
  }
  return out.join('\n').trimEnd()
}

function factsOf(report: DrillReport, location: string | undefined): [string, string][] {
  const facts: [string, string][] = [[report.kind === 'drill' ? 'Drill' : 'DR test', `\`${report.id}\``]]
  if (report.backupId)
    facts.push(['Backup', `\`${report.backupId}\` (taken ${report.backupTime}) — ${describePick(report)}`])
  // Named when they differ (a DR test from the replica): which copy was proven, where its records went.
  if (report.stores && report.stores.backups !== report.stores.records) {
    facts.push([
      'Backups read from',
      `\`${report.stores.backups}\` (records written to \`${report.stores.records}\`)`,
    ])
  }
  if (report.target) {
    const t = report.target
    facts.push(['Target', `${TARGET_NAMES[t.kind]}: ${t.host}:${t.port}/${t.database}`])
  }
  const rto = report.rto
  facts.push([
    'Restore time (RTO)',
    rto.measuredSeconds === null
      ? `not measured (the run failed); target ${formatSeconds(rto.targetSeconds)}`
      : `${formatSeconds(rto.measuredSeconds)} against a target of ${formatSeconds(rto.targetSeconds)}: ${rto.met ? 'met' : '**exceeded**'}`,
  ])
  if (report.projection) {
    const p = report.projection
    const rate = p.throughputBytesPerSecond === null ? '' : ` at ${formatBytes(p.throughputBytesPerSecond)}/s`
    facts.push([
      'Projected for production size',
      `${formatSeconds(p.projectedSeconds)} for ${formatBytes(p.productionBytes)} (\`${p.productionBackupId}\`)${rate}: ${p.met ? 'within the target' : '**over the target**'}`,
    ])
  }
  if (report.rpo) {
    const r = report.rpo
    facts.push([
      'RPO achieved',
      `${formatSeconds(r.achievedSeconds)} (backup age at restore) against ${formatSeconds(r.targetSeconds)}: ${r.met ? 'met' : '**not met**'}`,
    ])
  }
  if (report.sizes) {
    const s = report.sizes
    facts.push([
      'Data',
      `${plural(s.tables, 'table')}, ${plural(s.rows, 'row')}, ${formatBytes(s.dataBytes)} (archive ${formatBytes(s.archiveBytes)})`,
    ])
  }
  if (report.storage) facts.push(['Storage files', describeDrillStorage(report.storage)])
  if (location) facts.push(['Report', `\`${location}\``])
  return facts
}

function phasesTable(report: DrillReport): string[] {
  const p = report.phases
  const phase = (label: string, s: number | null) => `| ${label} | ${s === null ? '—' : s.toFixed(2)} |`
  return [
    '### Phases (seconds)',
    '',
    '| phase | seconds |',
    '| --- | ---: |',
    phase('prepare (choose the backup, ready the target)', p.prepare),
    phase('download', p.download),
    phase('verify archive (decrypt, gunzip, checksums)', p.verify),
    phase('load (schema, data, indexes, foreign-key check)', p.load),
    phase('verify tables (re-export, rows and sha256)', p.verifyTables),
    phase('post-checks', p.postChecks),
    phase('**total**', p.total),
    '',
  ]
}

function tablesTable(report: DrillReport): string[] {
  if (report.tables.length === 0) return []
  const sha = (t: DrillReport['tables'][number]) => {
    if (t.sha256Match === null) return report.failedTables.includes(t.table) ? '**FAILED**' : '—'
    return t.sha256Match ? 'match' : '**DIFFERS**'
  }
  return [
    '### Tables',
    '',
    '| table | rows (backup) | rows (restored) | sha256 |',
    '| --- | ---: | ---: | --- |',
    ...report.tables.map(
      (t) =>
        `| ${cell(t.table)} | ${formatCount(t.rowsExpected)} | ${t.rowsRestored === null ? '—' : formatCount(t.rowsRestored)} | ${sha(t)} |`,
    ),
    '',
  ]
}

function checksTable(report: DrillReport): string[] {
  if (report.checks.length === 0) return []
  return [
    '### Checks',
    '',
    '| check | result | detail |',
    '| --- | --- | --- |',
    ...report.checks.map((c) => `| ${cell(c.name)} | ${c.ok ? 'ok' : '**FAILED**'} | ${cell(c.detail)} |`),
    '',
  ]
}

function describePick(report: DrillReport): string {
  const { pick } = report
  if (pick.method === 'forced') return 'chosen with --backup'
  if (pick.method === 'newest') return 'the newest complete backup'
  return `picked at random among ${pick.candidates} complete backup${pick.candidates === 1 ? '' : 's'} of the last ${pick.windowDays} days (seed \`${pick.seed}\`)`
}

/** A Markdown table cell: pipes and newlines would break the row. */
export function cell(text: string): string {
  return text.replaceAll('|', '\\|').replace(/\r?\n/g, ' ')
}
