// What a backup job does around its engine, whatever the source: settings for the
// anomaly check, the doctor's cheap preflight, then, after the backup, the anomaly
// check on it and the result a person (or --json, alerts and the audit) reads.
import { openStore } from '../adapters/store/open-store.ts'
import type { Store } from '../adapters/store/store.ts'
import type { Manifest } from '../archive/manifest.ts'
import { SettingsReader, type StoreConfig } from '../core/config.ts'
import { readDoctorConfig } from '../core/doctor-config.ts'
import { formatBytes, plural } from '../core/format.ts'
import { preflight } from '../doctor/probes.ts'
import { readAnomalySettings } from '../monitor/anomalies.ts'
import { checkNewBackup } from '../monitor/monitor.ts'
import type { ReportableResult } from './after-job.ts'
import { backupMarkdown } from './job-markdown.ts'
import type { JobContext } from './run-job.ts'

export interface PreparedBackup {
  store: Store
  anomalyOptions: ReturnType<typeof readAnomalySettings>
}

/** Reads the anomaly settings and runs the preflight checks before anything is written. */
export async function prepareBackup(
  { args, env, emit, host }: JobContext,
  storeConfig: StoreConfig,
): Promise<PreparedBackup> {
  const settings = new SettingsReader(env, args)
  const anomalyOptions = readAnomalySettings(settings)
  settings.finish()
  const store = openStore(storeConfig)
  const doctor = readDoctorConfig(env, args, host)
  const checks = await preflight({ settings: doctor.settings, store, identity: doctor.identity })
  emit({ type: 'step', message: `preflight: ${plural(checks.length, 'check')} passed` })
  return { store, anomalyOptions }
}

export interface FinishedBackup {
  id: string
  location: string
  manifest: Manifest
  archiveBytes: number
  seconds: number
  warnings: readonly string[]
}

/** Runs the anomaly check on the new backup and builds the job's result. */
export async function backupResult(
  { emit }: JobContext,
  prepared: PreparedBackup,
  result: FinishedBackup,
  extra: {
    summary?: Record<string, unknown>
    details?: Record<string, string | number>
    describe?: string
  } = {},
): Promise<ReportableResult> {
  const { totals } = result.manifest
  // The same anomaly check as backup:monitor, on the backup just made (docs/lifecycle.md).
  const check = await checkNewBackup(prepared.store, result.manifest, prepared.anomalyOptions)
  for (const message of check.warnings) emit({ type: 'warning', message })
  const warnings = [...result.warnings, ...check.warnings]
  return {
    summary: {
      id: result.id,
      location: result.location,
      ...extra.summary,
      tables: totals.tables,
      rows: totals.rows,
      dataBytes: totals.bytes,
      archiveBytes: result.archiveBytes,
      encrypted: result.manifest.encrypted,
      seconds: result.seconds,
      // maxRSS is in kilobytes: the whole process's peak, measured, not estimated.
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      warnings,
      anomalies: check.anomalies,
    },
    facts: {
      backupId: result.id,
      location: result.location,
      bytes: result.archiveBytes,
      rows: totals.rows,
      tables: totals.tables,
      ...(extra.details ? { details: extra.details } : {}),
    },
    warnings,
    text: `backup ${result.id}${extra.describe ?? ''}: ${plural(totals.tables, 'table')}, ${plural(totals.rows, 'row')}, ${formatBytes(result.archiveBytes)} at ${result.location} (${result.seconds.toFixed(1)} s)`,
    markdown: backupMarkdown({ ...result, warnings }),
  }
}
