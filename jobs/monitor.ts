#!/usr/bin/env -S npx tsx
// npm run backup:monitor — freshness against the RPO and anomalies, from sidecars only.
import { openStore } from '../lib/adapters/store/open-store.ts'
import { type ReportableResult, reportWhenDone } from '../lib/cli/after-job.ts'
import { main } from '../lib/cli/run-job.ts'
import { readStoreConfig, SettingsReader } from '../lib/core/config.ts'
import { LifeboatError } from '../lib/core/errors.ts'
import { readAnomalySettings } from '../lib/monitor/anomalies.ts'
import { formatHours, readFreshnessSettings, readNow } from '../lib/monitor/freshness.ts'
import { assertFresh, runMonitor } from '../lib/monitor/monitor.ts'

main({
  name: 'monitor',
  usage: `
Usage: npm run backup:monitor -- [options]

Reads only the store's listing and manifest sidecars (no archive is downloaded):
  freshness  the newest complete backup must be younger than RPO_HOURS (24) plus
             RPO_GRACE_MINUTES (60); otherwise the job fails (MONITOR_FAILED).
  anomalies  against the median of the previous 7 backups: a table whose rows
             drop by more than ANOMALY_ROW_DROP (0.2 = 20%), a table that
             disappears, a total data size that moves by more than
             ANOMALY_SIZE_CHANGE (0.5 = 50%). Anomalies are warnings (exit 0).

Replica:  with BACKUP_REPLICA_STORE (+ BACKUP_REPLICA_REGION), every complete
          backup older than REPLICA_LAG_HOURS (6) must be complete in the replica
          too; one that is not is a warning (docs/infrastructure.md "Second copy").

Store:    BACKUP_STORE (s3://bucket/prefix or file://path), or --store
Options:
      --rpo-hours N        overrides RPO_HOURS
      --grace-minutes N    overrides RPO_GRACE_MINUTES
      --store URL          overrides BACKUP_STORE
      --json               print one JSON summary line on stdout
      --quiet              only warnings and errors on stderr
  -h, --help               this help
Exit codes: 0 fresh (with or without warnings), 1 stale or no backup, 2 bad usage
or configuration.
`,
  flags: { string: ['store', 'rpo-hours', 'grace-minutes'] },
  async run({ args, positional, env, emit }) {
    if (positional.length > 0) throw new LifeboatError('USAGE', `unexpected argument ${positional.join(' ')}`)
    const reader = new SettingsReader(env, args)
    const storeConfig = readStoreConfig(reader)
    const freshness = readFreshnessSettings(reader)
    const anomalies = readAnomalySettings(reader)
    const now = readNow(reader)
    const replicaUrl = reader.optional(undefined, 'BACKUP_REPLICA_STORE')
    const replicaLagHours = reader.integer(undefined, 'REPLICA_LAG_HOURS', 6, 1)
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
          : `anomalies: none against the previous ${result.baseline} backups`,
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
})

/** The replica's store: the same settings, its own URL and region. */
function openReplicaStore(env: Record<string, string | undefined>, url: string) {
  const reader = new SettingsReader({
    ...env,
    BACKUP_STORE: url,
    AWS_REGION: env.BACKUP_REPLICA_REGION || env.AWS_REGION,
  })
  const config = readStoreConfig(reader)
  reader.finish()
  return openStore(config!)
}
