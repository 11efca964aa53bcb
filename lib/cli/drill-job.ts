// The edge the drill and the DR test share: the report as Markdown on stdout and in the
// GitHub job summary, a failed run turned into the job's error (exit 1, or 2 for a
// refused target), and the drill's facts handed to the alert path even when it failed.
import process from 'node:process'
import { openStore } from '../adapters/store/open-store.ts'
import { readOnlyStore } from '../adapters/store/read-only-store.ts'
import type { Store } from '../adapters/store/store.ts'
import type { StoreConfig } from '../core/config.ts'
import { ExitCode, LifeboatError } from '../core/errors.ts'
import { formatBytes } from '../core/format.ts'
import { redact } from '../core/secret.ts'
import type { DrillRun } from '../drills/drill.ts'
import { formatSeconds } from '../drills/report.ts'
import { renderDrillMarkdown } from '../drills/report-markdown.ts'
import { describeDrillStorage } from '../drills/storage-report.ts'
import { type ReportableResult, recordStoreFromSettings, reportWhenDone } from './after-job.ts'
import type { JobContext, JobSpec } from './run-job.ts'
import { appendStepSummary } from './step-summary.ts'

/**
 * The store a drill reads its backup from, and the one it writes its records to when
 * that is another (LIFEBOAT_RECORD_STORE): then the first is opened read-only.
 */
export function drillStores(config: { store: StoreConfig; records: StoreConfig | undefined }): {
  store: Store
  records: Store | undefined
} {
  if (!config.records) return { store: openStore(config.store), records: undefined }
  return { store: readOnlyStore(openStore(config.store)), records: openStore(config.records) }
}

/** Filled by `finishDrill` when the run failed: the alert path still gets backup id and report. */
export interface FailedDrill {
  result?: ReportableResult
}

export async function finishDrill(
  run: DrillRun,
  context: JobContext,
  failed: FailedDrill,
): Promise<ReportableResult> {
  const { report } = run
  const markdown = renderDrillMarkdown(report, run.storeError ? {} : { location: run.location })
  // A failed drill's report goes to the job summary too, before the error the harness adds.
  if (run.error || run.storeError) await appendStepSummary(context.env, markdown, context.log)
  if (run.storeError)
    context.log(`warning: the report could not be written to ${run.location}: ${run.storeError}`)
  else context.log(`report written to ${run.location}`)
  const facts = factsOf(run)

  if (run.error || run.storeError) {
    if (!context.json) process.stdout.write(`${redact(markdown)}\n`)
    failed.result = { summary: {}, facts, warnings: [] }
  }
  if (run.error) {
    // A refused or misconfigured target is a usage problem (exit 2), not a failed drill.
    if (run.error.exitCode === ExitCode.usage) throw run.error
    const tables = report.failedTables.length > 0 ? `; failed tables: ${report.failedTables.join(', ')}` : ''
    const where = run.storeError ? '' : `; report: ${run.location}`
    throw new LifeboatError(
      'DRILL_FAILED',
      `${report.kind} ${report.id} of ${report.backupId ?? '(no backup chosen)'} failed${run.error.code === 'DRILL_FAILED' ? '' : ` [${run.error.code}]`}: ${run.error.message}${tables}${where}`,
      { cause: run.error, details: run.error.details },
    )
  }
  if (run.storeError) {
    throw new LifeboatError(
      'STORE_IO',
      `the ${report.kind} ${report.outcome === 'success' ? 'passed' : 'passed with warnings'}, but its report could not be written to ${run.location}: ${run.storeError}`,
    )
  }
  return {
    summary: { ...report, reportLocation: run.location },
    text: markdown,
    markdown,
    facts,
    warnings: report.warnings,
  }
}

function factsOf(run: DrillRun): NonNullable<ReportableResult['facts']> {
  const { report } = run
  const details: Record<string, string | number> = {}
  if (!run.storeError) details.report = run.location
  const stores = report.stores
  if (stores && stores.backups !== stores.records) details['backups read from'] = stores.backups
  if (report.target)
    details.target = `${report.target.kind} ${report.target.host}:${report.target.port}/${report.target.database}`
  details['RTO target'] = formatSeconds(report.rto.targetSeconds)
  if (report.rto.measuredSeconds !== null) details['restore time'] = formatSeconds(report.rto.measuredSeconds)
  if (report.projection) {
    details['projected for production'] =
      `${formatSeconds(report.projection.projectedSeconds)} (${formatBytes(report.projection.productionBytes)})`
  }
  if (report.rpo) details['RPO achieved'] = formatSeconds(report.rpo.achievedSeconds)
  if (report.failedTables.length > 0) details['failed tables'] = report.failedTables.join(', ')
  if (report.storage) {
    const s = report.storage
    details['storage files'] = describeDrillStorage(s).replaceAll('**', '')
    if (s.objectsChecked !== null) details['storage objects checked'] = s.objectsChecked
    if (s.seconds !== null) details['storage seconds'] = s.seconds
  }
  if (report.recommendation) details.recommendation = report.recommendation
  return {
    ...(report.backupId ? { backupId: report.backupId } : {}),
    ...(report.sizes
      ? { rows: report.sizes.rows, tables: report.sizes.tables, bytes: report.sizes.archiveBytes }
      : {}),
    details,
  }
}

/** reportWhenDone, with the failed drill's facts when the job threw. */
export function reportDrillWhenDone(
  job: 'drill' | 'dr-test',
  failed: FailedDrill,
): NonNullable<JobSpec['after']> {
  const report = reportWhenDone(job, { records: recordStoreFromSettings })
  return (context, outcome) =>
    report(context, outcome.result || !failed.result ? outcome : { ...outcome, result: failed.result })
}
