// What every scheduled job does when it ends, whatever happened: report the outcome
// through the alert path (and record it in the audit trail). Never changes the exit code.
import { SettingsReader, readStoreConfig } from '../core/config.ts'
import type { JobName, OutcomeFacts } from '../core/outcome.ts'
import { buildOutcome } from '../core/outcome.ts'
import { openStore } from '../adapters/store/open-store.ts'
import type { Store } from '../adapters/store/store.ts'
import { reportOutcome } from '../engine/report-outcome.ts'
import type { JobContext, JobResult, JobSpec } from './run-job.ts'

/** The facts a job's result offers the alert path and the audit trail. */
export interface ReportableResult extends JobResult {
  facts?: OutcomeFacts
  warnings?: readonly string[]
}

/** The store the job was configured with, if its settings are usable at all. */
export function storeFromSettings(context: JobContext): Store | undefined {
  try {
    const reader = new SettingsReader(context.env, context.args)
    const config = readStoreConfig(reader)
    reader.finish()
    return config ? openStore(config) : undefined
  } catch {
    return undefined
  }
}

export function reportWhenDone(job: JobName): NonNullable<JobSpec['after']> {
  return async (context, { result, error, startedAt }) => {
    const reportable = result as ReportableResult | undefined
    const store = storeFromSettings(context)
    const outcome = buildOutcome({
      job,
      startedAt,
      finishedAt: new Date(),
      ...(error ? { error } : {}),
      warnings: reportable?.warnings ?? [],
      ...(reportable?.facts ?? {}),
    })
    const report = await reportOutcome({ env: context.env, ...(store ? { store } : {}), log: context.log }, outcome)
    for (const channel of report.channels) {
      if (channel.status === 'failed') context.log(`warning: ${channel.channel} alert failed: ${channel.error ?? 'unknown'}`)
    }
  }
}
