#!/usr/bin/env -S npx tsx
// npm run backup:restore — verify a backup, then load it into the target in one
// transaction and prove the result by re-export (docs/restore.md).
import { tmpdir } from 'node:os'
import { isAbsolute, resolve } from 'node:path'
import { decryptStream, loadIdentity } from '../lib/adapters/crypto/age.ts'
import { openStore } from '../lib/adapters/store/open-store.ts'
import { type ReportableResult, reportWhenDone } from '../lib/cli/after-job.ts'
import { runRestRestoreJob } from '../lib/cli/rest-jobs.ts'
import { main } from '../lib/cli/run-job.ts'
import { storeOpener } from '../lib/cli/wiring.ts'
import { formatBytes } from '../lib/core/format.ts'
import { chooseRestoreVia } from '../lib/core/rest-config.ts'
import { readRestoreConfig } from '../lib/core/restore-config.ts'
import { parseSelector } from '../lib/inventory/inventory.ts'
import { type RestoreResult, runRestore } from '../lib/restore/postgres-target.ts'
import { loadTrust } from '../lib/trust/signing-config.ts'

main({
  name: 'restore',
  usage: `
Usage: npm run backup:restore -- <backup> [options]

<backup> is a local archive (./backup-2026-11-25T020000Z.tar.gz), an s3:// URL or
store key, "latest", a date YYYY-MM-DD (the newest complete backup made on or
before the end of that day, UTC), or a backup id (backup-2026-11-25T020000Z).

The archive is verified completely (format, manifest, every checksum) and the
target checked before anything is written; the load runs in one transaction and
every restored table is re-exported and compared with the backup before COMMIT.
Any failure rolls back: the target stays exactly as it was.

Target:   TARGET_DATABASE_URL, or --target (never taken from DATABASE_URL)
          Through the API instead (no all-or-nothing, docs/api-mode.md): --via rest,
          or SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY when no target database is set
Store:    BACKUP_STORE (s3://bucket/prefix or file://path), or --store; not needed
          for a local archive file
Options:
      --target URL              the database to restore into
      --create-schema           apply the archive's schema.sql first (empty target)
      --truncate                replace the rows of tables that already hold some
      --confirm NAME            required when the target looks like production: the
                                backup's source, DATABASE_URL/SUPABASE_DB_URL, or a
                                database marked lifeboat.environment = 'production'
  -n, --schema PATTERN          restore only these schemas (repeatable)
  -N, --exclude-schema PATTERN  not these schemas
  -t, --table PATTERN           restore only these tables, [schema.]table (repeatable)
  -T, --exclude-table PATTERN   not these tables
      --no-verify               skip the after-load re-export and comparison
      --allow-unsigned          restore a backup whose signature cannot be checked (no
                                BACKUP_SIGNING_PUBLIC_KEYS, or no signature): loud, audited
      --identity KEY|FILE       age private key for .age archives (BACKUP_AGE_IDENTITY)
      --temp-dir DIR            where a stored archive is downloaded (LIFEBOAT_TEMP_DIR)
      --store URL               overrides BACKUP_STORE
      --via postgres|rest       force the database connection or the API
      --batch-size N            API mode: rows per insert request (default 1000)
      --json                    print one JSON summary line on stdout
      --quiet                   only warnings and errors on stderr
  -h, --help                    this help
Temporary disk: a stored archive is downloaded once (its stored size); a local
archive is read in place.
Exit codes: 0 restored and verified, 1 the restore failed (target unchanged),
2 bad usage or configuration (including a protected target without --confirm).
`,
  flags: {
    string: [
      'target',
      'confirm',
      'schema',
      'exclude-schema',
      'table',
      'exclude-table',
      'store',
      'temp-dir',
      'identity',
      'via',
      'batch-size',
    ],
    boolean: ['create-schema', 'truncate', 'verify', 'allow-unsigned'],
    alias: { n: 'schema', N: 'exclude-schema', t: 'table', T: 'exclude-table' },
    default: { verify: true },
  },
  async run(context) {
    const { args, positional, env, emit, signal } = context
    if (chooseRestoreVia(env, args) === 'rest') return runRestRestoreJob(context)
    const config = readRestoreConfig(env, args, positional)
    const identity = config.identity ? await loadIdentity(config.identity) : undefined
    const result = await runRestore(
      {
        emit,
        signal,
        tempDir: config.tempDir ?? tmpdir(),
        ...(config.store ? { store: openStore(config.store) } : {}),
        openS3Store: storeOpener(env),
        decrypt: (name) => decryptStream(identity, { name }),
        trust: await loadTrust(config.trust),
      },
      {
        what: localPath(config.what, env.INIT_CWD),
        target: config.target,
        targetSetting: config.targetSetting,
        createSchema: config.createSchema,
        truncate: config.truncate,
        confirm: config.confirm,
        selection: config.selection,
        verify: config.verify,
        production: config.production,
      },
    )
    const reportable: ReportableResult = {
      // maxRSS is in kilobytes: the whole process's peak, measured, not estimated.
      summary: { ...result, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) },
      text: renderResult(result),
      facts: {
        backupId: result.id,
        rows: result.rows,
        tables: result.tables.length,
        bytes: result.archiveBytes,
      },
      warnings: result.warnings,
      audit: {
        target: `${result.target.host}:${result.target.port}/${result.target.database}`,
        verified: result.verified,
        // An unsigned restore (--allow-unsigned) is on the record, with why it could not be checked.
        signature:
          result.signature.status === 'verified'
            ? `verified (key ${result.signature.keyId})`
            : `UNSIGNED: ${result.signature.reason}`,
      },
    }
    return reportable
  },
  after: reportWhenDone('restore', { alert: false }),
})

/** npm runs scripts in the package folder; a relative path means the folder npm was started in. */
function localPath(what: string, initCwd: string | undefined): string {
  if (!initCwd || isAbsolute(what) || parseSelector(what).kind !== 'file') return what
  return resolve(initCwd, what)
}

function renderResult(result: RestoreResult): string {
  const header = result.verified
    ? ['table', 'rows (backup)', 'rows (restored)', 'sha256']
    : ['table', 'rows (backup)', 'rows (loaded)']
  const rows = result.tables.map((t) =>
    result.verified
      ? [
          t.table,
          t.rowsExpected.toLocaleString('en'),
          (t.rowsRestored ?? 0).toLocaleString('en'),
          t.sha256Match ? 'ok' : 'DIFFERS',
        ]
      : [t.table, t.rowsExpected.toLocaleString('en'), t.rowsLoaded.toLocaleString('en')],
  )
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const format = (cells: string[]) =>
    cells
      .map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  const { target } = result
  const verdict = result.verified ? 'every table verified by re-export' : 'not verified (--no-verify)'
  return [
    format(header),
    ...rows.map(format),
    `restored ${result.id} into ${target.database} at ${target.host}:${target.port}: ${result.tables.length} tables, ${result.rows.toLocaleString('en')} rows, ${result.sequences} sequences from ${formatBytes(result.archiveBytes)} in ${result.seconds.total.toFixed(1)} s; ${verdict}`,
  ].join('\n')
}
