#!/usr/bin/env -S npx tsx
// npm run backup:database — back up the database into the store.
import { tmpdir } from 'node:os'
import { runBackup } from '../lib/backup/postgres-source.ts'
import { reportWhenDone } from '../lib/cli/after-job.ts'
import { backupResult, prepareBackup } from '../lib/cli/backup-job.ts'
import { main } from '../lib/cli/run-job.ts'
import { buildEncryption, schemaSqlGenerator } from '../lib/cli/wiring.ts'
import { readBackupConfig } from '../lib/core/backup-config.ts'
import { chooseSource } from '../lib/core/rest-config.ts'

main({
  name: 'backup',
  usage: `
Usage: npm run backup:database -- [options]

Backs up every table of the source database (one consistent snapshot) into an
archive (format v1) in the store, then writes its manifest sidecar.

Source:   DATABASE_URL or SUPABASE_DB_URL (direct connection or session pooler:
          recommended), or API-only: SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY when no
          database URL is set, or with --source rest (docs/api-mode.md)
Store:    BACKUP_STORE (s3://bucket/prefix or file://path), or --store
Options:
  -n, --schema PATTERN          only these schemas (repeatable)
  -N, --exclude-schema PATTERN  not these schemas (repeatable)
  -t, --table PATTERN           only these tables, [schema.]table (repeatable)
  -T, --exclude-table PATTERN   not these tables (repeatable)
  -j, --jobs N                  parallel connections sharing the snapshot (default 1; BACKUP_JOBS);
                                tables over --split-min-mb with an integer primary key
                                are split into key ranges across them
      --split-min-mb N          split tables estimated larger than this (default 64;
                                BACKUP_SPLIT_MIN_MB)
      --compress N              gzip level 0-9 (default 6; BACKUP_GZIP_LEVEL)
      --store URL               overrides BACKUP_STORE
      --temp-dir PATH           where data files wait, gzipped, to be packed (default the
                                OS temp folder; LIFEBOAT_TEMP_DIR)
      --source postgres|rest    force the direct connection or the API
      --batch-size N            API mode: rows per request (default 1000; REST_BATCH_SIZE)
      --auth-users              API mode: also export auth users (admin API; BACKUP_AUTH_USERS)
      --json                    print one JSON summary line on stdout
      --quiet                   only warnings and errors on stderr
  -h, --help                    this help
Encryption: set BACKUP_AGE_RECIPIENTS (age1… public keys) to write .tar.gz.age.
Anomalies: row counts and size are compared with the previous 7 sidecars
  (ANOMALY_ROW_DROP 0.2, ANOMALY_SIZE_CHANGE 0.5); findings are warnings.
Preflight: settings, pooler mode, the store and the keys are checked first
  (npm run backup:doctor runs every check).
Exit codes: 0 ok, 1 the backup failed, 2 bad usage or configuration.
`,
  flags: {
    string: [
      'schema',
      'exclude-schema',
      'table',
      'exclude-table',
      'jobs',
      'split-min-mb',
      'compress',
      'store',
      'temp-dir',
      'source',
      'batch-size',
    ],
    boolean: ['auth-users'],
    alias: { n: 'schema', N: 'exclude-schema', t: 'table', T: 'exclude-table', j: 'jobs' },
  },
  async run(context) {
    const { args, env, emit, signal } = context
    if (chooseSource(env, args) === 'rest') {
      // The API client (supabase-js) is loaded only for an API-mode backup.
      const { runRestBackupJob } = await import('../lib/cli/rest-jobs.ts')
      return runRestBackupJob(context)
    }
    const config = readBackupConfig(env, args)
    const prepared = await prepareBackup(context, config.store)
    const result = await runBackup(
      {
        store: prepared.store,
        emit,
        signal,
        deadlineMs: config.deadlineMs,
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
        splitMinBytes: config.splitMinBytes,
        gzipLevel: config.gzipLevel,
      },
    )
    return backupResult(context, prepared, result)
  },
  after: reportWhenDone('backup'),
})
