#!/usr/bin/env -S npx tsx
// lifeboat monitor (npm run backup:monitor) — freshness against the RPO and anomalies, from sidecars only.
import { openStore } from '../lib/adapters/store/open-store.ts'
import { type ReportableResult, reportWhenDone } from '../lib/cli/after-job.ts'
import { isMainModule, type JobSpec, main } from '../lib/cli/run-job.ts'
import { readStoreConfig, SettingsReader } from '../lib/core/config.ts'
import { plural } from '../lib/core/format.ts'
import { readAnomalySettings } from '../lib/monitor/anomalies.ts'
import { formatHours, readFreshnessSettings, readNow } from '../lib/monitor/freshness.ts'
import { assertFresh, runMonitor } from '../lib/monitor/monitor.ts'
import { SETTINGS } from '../lib/settings/settings.ts'

export const job: JobSpec = {
  name: 'monitor',
  async run({ args, env, emit }) {
    const reader = new SettingsReader(env, args)
    const storeConfig = readStoreConfig(reader)
    const freshness = readFreshnessSettings(reader)
    const anomalies = readAnomalySettings(reader)
    const now = readNow(reader)
    const replicaUrl = reader.optional(SETTINGS.replicaStore)
    const replicaLagHours = reader.integer(SETTINGS.replicaLagHours)
    reader.finish()
    const replica = replicaUrl ? openReplicaStore(env, replicaUrl) : undefined
    const result = await runMonitor(
      { store: openStore(storeConfig!), emit, ...(replica ? { replica } : {}) },
      { ...freshness, now, anomalies, replicaLagHours },
    )
    for (const warning of result.warnings) emit({ type: 'warning', message: warning })
    assertFresh(result)
    const lines = [`fresh: ${result.freshness.message}`]
    if (result.anomalies.length === 0) {
      lines.push(
        result.baseline === 0
          ? 'anomalies: none (no earlier backup to compare with)'
          : `anomalies: none against the previous ${plural(result.baseline, 'backup')}`,
      )
    } else lines.push(...result.anomalies.map((a) => `anomaly: ${a.message}`))
    if (result.incomplete.length > 0) {
      lines.push(
        `${result.incomplete.length} archive(s) without a sidecar (unfinished uploads): ${result.incomplete.join(', ')}`,
      )
    }
    const reportable: ReportableResult = {
      summary: { ...result },
      text: lines.join('\n'),
      warnings: result.warnings,
      facts: {
        ...(result.freshness.newestId ? { backupId: result.freshness.newestId } : {}),
        details: {
          'newest backup age': formatHours(result.freshness.ageHours ?? 0),
          limit: formatHours(result.freshness.limitHours),
          anomalies: result.anomalies.length,
        },
      },
      audit: { completeBackups: result.completeBackups, anomalies: result.anomalies.map((a) => a.message) },
    }
    return reportable
  },
  after: reportWhenDone('monitor'),
}

/** The replica's store: the same settings, its own URL and region. */
function openReplicaStore(env: Record<string, string | undefined>, url: string) {
  const reader = new SettingsReader({
    ...env,
    BACKUP_STORE: url,
    AWS_REGION: env.BACKUP_REPLICA_REGION || env.AWS_REGION || env.AWS_DEFAULT_REGION,
  })
  const config = readStoreConfig(reader)
  reader.finish()
  return openStore(config!)
}

if (isMainModule(import.meta.url)) main(job)
