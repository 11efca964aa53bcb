#!/usr/bin/env -S npx tsx
// npm run backup:database — back up the database into the store.
import { tmpdir } from 'node:os'
import { openStore } from '../lib/adapters/store/open-store.ts'
import { type ReportableResult, reportWhenDone } from '../lib/cli/after-job.ts'
import { formatBytes } from '../lib/cli/progress.ts'
import { main } from '../lib/cli/run-job.ts'
import { buildEncryption, schemaSqlGenerator } from '../lib/cli/wiring.ts'
import { readAnomalySettings } from '../lib/core/anomalies.ts'
import { readBackupConfig } from '../lib/core/backup-config.ts'
import { SettingsReader } from '../lib/core/config.ts'
import { runBackup } from '../lib/engine/backup.ts'
import { checkNewBackup } from '../lib/engine/monitor.ts'

main({
  name: 'backup',
  usage: `
Usage: npm run backup:database -- [options]

Backs up every table of the source database (one consistent snapshot) into an
archive (format v1) in the store, then writes its manifest sidecar.

Source:   DATABASE_URL or SUPABASE_DB_URL (direct connection or session pooler)
Store:    BACKUP_STORE (s3://bucket/prefix or file://path), or --store
Options:
  -n, --schema PATTERN          only these schemas (repeatable)
  -N, --exclude-schema PATTERN  not these schemas (repeatable)
  -t, --table PATTERN           only these tables, [schema.]table (repeatable)
  -T, --exclude-table PATTERN   not these tables (repeatable)
  -j, --jobs N                  parallel connections sharing the snapshot (default 1; BACKUP_JOBS)
      --compress N              gzip level 0-9 (default 6; BACKUP_GZIP_LEVEL)
      --store URL               overrides BACKUP_STORE
      --json                    print one JSON summary line on stdout
      --quiet                   only warnings and errors on stderr
  -h, --help                    this help
Encryption: set BACKUP_AGE_RECIPIENTS (age1… public keys) to write .tar.gz.age.
Anomalies: row counts and size are compared with the previous 7 sidecars
  (ANOMALY_ROW_DROP 0.2, ANOMALY_SIZE_CHANGE 0.5); findings are warnings.
Exit codes: 0 ok, 1 the backup failed, 2 bad usage or configuration.
`,
  flags: {
    string: ['schema', 'exclude-schema', 'table', 'exclude-table', 'jobs', 'compress', 'store', 'temp-dir'],
    alias: { n: 'schema', N: 'exclude-schema', t: 'table', T: 'exclude-table', j: 'jobs' },
  },
  async run({ args, env, emit }) {
    const config = readBackupConfig(env, args)
    const anomalySettings = new SettingsReader(env, args)
    const anomalyOptions = readAnomalySettings(anomalySettings)
    anomalySettings.finish()
    const store = openStore(config.store)
    const result = await runBackup(
      {
        store,
        emit,
        now: () => new Date(),
        tempDir: config.tempDir ?? tmpdir(),
        ...buildEncryption(config.recipients),
        generateSchemaSql: schemaSqlGenerator(),
      },
      {
        source: config.source.url,
        sourceSetting: config.source.setting,
        selection: config.selection,
        jobs: config.jobs,
        gzipLevel: config.gzipLevel,
      },
    )
    const { totals } = result.manifest
    // The same anomaly check as backup:monitor, on the backup just made (docs/lifecycle.md).
    const check = await checkNewBackup(store, result.manifest, anomalyOptions)
    for (const message of check.warnings) emit({ type: 'warning', message })
    const warnings = [...result.warnings, ...check.warnings]
    const reportable: ReportableResult = {
      summary: {
        id: result.id,
        location: result.location,
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
      },
      warnings,
      text: `backup ${result.id}: ${totals.tables} tables, ${totals.rows.toLocaleString('en')} rows, ${formatBytes(result.archiveBytes)} at ${result.location} (${result.seconds.toFixed(1)} s)`,
    }
    return reportable
  },
  after: reportWhenDone('backup'),
})
