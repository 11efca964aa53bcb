#!/usr/bin/env -S npx tsx
// npm run backup:database — back up the database into the store.
import { tmpdir } from 'node:os'
import { readBackupConfig } from '../lib/core/backup-config.ts'
import { openStore } from '../lib/adapters/store/open-store.ts'
import { formatBytes } from '../lib/cli/progress.ts'
import { type ReportableResult, reportWhenDone } from '../lib/cli/after-job.ts'
import { main } from '../lib/cli/run-job.ts'
import { runBackup } from '../lib/engine/backup.ts'
import { buildEncryption, schemaSqlGenerator } from '../lib/cli/wiring.ts'

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
Exit codes: 0 ok, 1 the backup failed, 2 bad usage or configuration.
`,
  flags: {
    string: ['schema', 'exclude-schema', 'table', 'exclude-table', 'jobs', 'compress', 'store', 'temp-dir'],
    alias: { n: 'schema', N: 'exclude-schema', t: 'table', T: 'exclude-table', j: 'jobs' },
  },
  async run({ args, env, emit }) {
    const config = readBackupConfig(env, args)
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
        warnings: result.warnings,
      },
      facts: {
        backupId: result.id,
        location: result.location,
        bytes: result.archiveBytes,
        rows: totals.rows,
        tables: totals.tables,
      },
      warnings: result.warnings,
      text: `backup ${result.id}: ${totals.tables} tables, ${totals.rows.toLocaleString('en')} rows, ${formatBytes(result.archiveBytes)} at ${result.location} (${result.seconds.toFixed(1)} s)`,
    }
    return reportable
  },
  after: reportWhenDone('backup'),
})
