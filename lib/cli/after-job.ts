// What every scheduled job does when it ends, whatever happened: report the outcome
// through the alert path (and record it in the audit trail). Never changes the exit code.
import { hostname, userInfo } from 'node:os'
import { openStore } from '../adapters/store/open-store.ts'
import type { Store } from '../adapters/store/store.ts'
import type { JobName, OutcomeFacts } from '../alerts/outcome.ts'
import { buildOutcome } from '../alerts/outcome.ts'
import { reportOutcome } from '../alerts/report-outcome.ts'
import { auditDetails, describeActor } from '../audit/record.ts'
import { appendAudit } from '../audit/trail.ts'
import { readRecordStoreConfig, readStoreConfig, SettingsReader } from '../core/config.ts'
import { ExitCode } from '../core/errors.ts'
import type { JobContext, JobResult, JobSpec } from './run-job.ts'

/** The facts a job's result offers the alert path and the audit trail. */
export interface ReportableResult extends JobResult {
  facts?: OutcomeFacts
  warnings?: readonly string[]
  /** Extra plain values for the audit record (e.g. the ids a clean deleted). */
  audit?: Readonly<Record<string, unknown>>
}

/** A store that does not answer must not hold the job's exit for long. */
const AUDIT_TIMEOUT_MS = 15_000

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

/**
 * Where a drill or DR test keeps its audit event and status: LIFEBOAT_RECORD_STORE when set
 * (the store it restores from may be a read-only replica), else the store itself.
 */
export function recordStoreFromSettings(context: JobContext): Store | undefined {
  try {
    const reader = new SettingsReader(context.env, context.args)
    const config = readRecordStoreConfig(reader)
    reader.finish()
    return config ? openStore(config) : storeFromSettings(context)
  } catch {
    return undefined
  }
}

/**
 * The after-hook of a job: alert (scheduled jobs) and audit (every job). A restore a
 * person runs by hand is audited but does not page anyone: `{ alert: false }`.
 */
export function reportWhenDone(
  job: JobName,
  options: { alert?: boolean; records?: (context: JobContext) => Store | undefined } = {},
): NonNullable<JobSpec['after']> {
  const alert = options.alert ?? true
  const recordsTo = options.records ?? storeFromSettings
  return async (context, { result, error, startedAt }) => {
    const reportable = result as ReportableResult | undefined
    // The status (failure count) and the audit event go where the job keeps its records.
    const store = recordsTo(context)
    const outcome = buildOutcome({
      job,
      startedAt,
      finishedAt: new Date(),
      ...(error ? { error } : {}),
      warnings: reportable?.warnings ?? [],
      ...(reportable?.facts ?? {}),
    })
    // A usage or configuration error (exit 2) is not a failed run: no alert, no count
    // toward the page on the second consecutive failure (docs/alerts.md).
    if (alert && error?.exitCode !== ExitCode.usage) {
      const report = await reportOutcome(
        { env: context.env, ...(store ? { store } : {}), log: context.log },
        outcome,
      )
      for (const channel of report.channels) {
        if (channel.status === 'failed')
          context.log(`warning: ${channel.channel} alert failed: ${channel.error ?? 'unknown'}`)
      }
    }
    // Stopped by bad usage or configuration, the job did not run: no audit record either, so
    // `backup:report` never counts it as a failed run (docs/alerts.md).
    if (!store || error?.exitCode === ExitCode.usage) return
    // The audit trail (docs/lifecycle.md): a failure to record is a warning, never a new exit code.
    const { run: _run, details, ...facts } = reportable?.facts ?? {}
    const record = {
      version: 1 as const,
      event: job,
      at: new Date().toISOString(),
      startedAt: startedAt.toISOString(),
      outcome: outcome.status,
      ...(outcome.backupId ? { backupId: outcome.backupId } : {}),
      ...(error
        ? {
            error: {
              code: error.code,
              message: error.message,
              ...(error.details.length > 0 ? { details: error.details.slice(0, 50) } : {}),
            },
          }
        : {}),
      ...(outcome.warnings.length > 0 ? { warnings: outcome.warnings.slice(0, 50) } : {}),
      actor: describeActor(context.env, localUser()),
      details: auditDetails({ ...facts, ...details, ...reportable?.audit }),
    }
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${AUDIT_TIMEOUT_MS / 1000} s`)),
        AUDIT_TIMEOUT_MS,
      )
    })
    await Promise.race([appendAudit(store, record), timeout])
      .catch((failure) => context.log(`warning: audit record not written: ${(failure as Error).message}`))
      .finally(() => clearTimeout(timer))
  }
}

function localUser(): { user: string; host: string } {
  let user = process.env.USER ?? 'unknown'
  try {
    user = userInfo().username
  } catch {
    // no passwd entry (some containers): keep $USER
  }
  return { user, host: hostname() }
}
