// The API-only paths of the backup and restore jobs (chosen by --source/--via, or when
// only SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY are set): settings -> adapters ->
// engine -> printable result, as jobs/backup.ts and jobs/restore.ts do for the database.
import { tmpdir } from 'node:os'
import { decryptStream, loadIdentity } from '../adapters/crypto/age.ts'
import { RestClient } from '../adapters/rest/client.ts'
import { createRetryingFetch } from '../adapters/rest/http.ts'
import { openStore } from '../adapters/store/open-store.ts'
import { runRestBackup } from '../backup/rest-source.ts'
import type { EmitEvent } from '../core/events.ts'
import { formatCount, plural } from '../core/format.ts'
import { type RestRetrySettings, readRestBackupConfig, readRestRestoreConfig } from '../core/rest-config.ts'
import type { Secret } from '../core/secret.ts'
import { type RestRestoreResult, runRestRestore } from '../restore/rest-target.ts'
import { loadSigningKey, loadTrust } from '../trust/signing-keys.ts'
import type { ReportableResult } from './after-job.ts'
import { backupResult, prepareBackup } from './backup-job.ts'
import { storageText } from './restore-report.ts'
import type { JobContext, JobResult } from './run-job.ts'
import {
  backupStorage,
  filesAfterDatabase,
  guardFilesTarget,
  restoreBackupFiles,
  type StorageRestoreRequest,
} from './storage-jobs.ts'
import { buildEncryption, storeOpener } from './wiring.ts'

function apiClient(url: string, key: Secret, retry: RestRetrySettings, emit: EmitEvent) {
  const { fetch, stats } = createRetryingFetch({
    attempts: retry.attempts,
    baseDelayMs: retry.baseDelayMs,
    timeoutMs: retry.timeoutMs,
    onRetry: (info) =>
      emit({
        type: 'step',
        message: `${info.method} ${info.url}: ${info.reason}; retry ${info.attempt} in ${(info.delayMs / 1000).toFixed(1)} s`,
      }),
  })
  return { client: new RestClient({ url, key, fetch }), stats }
}

export async function runRestBackupJob(context: JobContext): Promise<ReportableResult> {
  const { args, env, emit, signal } = context
  const config = readRestBackupConfig(env, args)
  const prepared = await prepareBackup(context, config.store)
  const { client, stats } = apiClient(config.api.url, config.api.key, config.retry, emit)
  const tempDir = config.tempDir ?? tmpdir()
  const storage = await backupStorage(config.storage, {
    store: prepared.store,
    emit,
    signal,
    tempDir,
    recipients: config.recipients,
  })
  const result = await runRestBackup(
    {
      client,
      store: prepared.store,
      emit,
      signal,
      deadlineMs: config.deadlineMs,
      now: () => new Date(),
      tempDir,
      storage,
      stats,
      ...buildEncryption(config.recipients),
      signingKey: config.signingKey ? await loadSigningKey(config.signingKey) : undefined,
    },
    {
      selection: config.selection,
      schemas: config.schemas,
      batchSize: config.batchSize,
      authUsers: config.authUsers,
      gzipLevel: config.gzipLevel,
    },
  )
  return backupResult(context, prepared, result, {
    summary: {
      source: 'rest',
      consistent: false,
      window: result.manifest.source.window,
      requests: result.requests,
      retries: result.retries,
    },
    details: { source: 'API (not snapshot-consistent)', requests: result.requests, retries: result.retries },
    describe: ` (through the API, not snapshot-consistent; ${result.requests} requests, ${result.retries} retries)`,
  })
}

export async function runRestRestoreJob({
  args,
  positional,
  env,
  emit,
  signal,
}: JobContext): Promise<JobResult> {
  const config = readRestRestoreConfig(env, args, positional)
  const identity = config.identity ? await loadIdentity(config.identity) : undefined
  const { client, stats } = apiClient(config.api.url, config.api.key, config.retry, emit)
  const store = config.store ? openStore(config.store) : undefined
  const decrypt = (name: string) => decryptStream(identity, { name })
  const trust = await loadTrust(config.trust)
  // The files do not care how the rows went in: the same restore as the direct path's.
  const files: StorageRestoreRequest = {
    store,
    emit,
    signal,
    decrypt,
    trust,
    selection: config.storageSelection,
    truncate: config.truncate,
    guard: { environment: config.productionStorage, confirm: config.confirmStorage },
  }
  await guardFilesTarget(config.storage, config.what, files)
  const result = await runRestRestore(
    {
      client,
      stats,
      emit,
      signal,
      tempDir: config.tempDir ?? tmpdir(),
      ...(store ? { store } : {}),
      openS3Store: storeOpener(env),
      decrypt,
      trust,
    },
    {
      what: config.what,
      truncate: config.truncate,
      confirm: config.confirm,
      selection: config.selection,
      verify: config.verify,
      batchSize: config.batchSize,
      production: config.production,
    },
  )
  const storage = await filesAfterDatabase(result.id, () =>
    restoreBackupFiles(config.storage, result.id, files),
  )
  return {
    summary: { via: 'rest', ...result, ...(storage ? { storage } : {}) },
    text: [renderRestRestore(result), ...(storage ? [storageText(storage)] : [])].join('\n'),
    ...(storage ? { warnings: storage.warnings } : {}),
  }
}

export function renderRestRestore(result: RestRestoreResult): string {
  const header = result.verified
    ? ['table', 'rows (backup)', 'rows (read back)', 'batches', 'check']
    : ['table', 'rows (backup)', 'rows (inserted)', 'batches']
  const rows = result.tables.map((t) => {
    const cells = [
      t.table,
      formatCount(t.rowsExpected),
      formatCount(result.verified ? (t.rowsRestored ?? 0) : t.rowsLoaded),
      String(t.batches),
    ]
    if (result.verified) cells.push(t.sha256Match ? 'ok' : 'DIFFERS')
    return cells
  })
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const format = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 1 && i <= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  const lines = [format(header), ...rows.map(format)]
  lines.push(
    `restored ${result.id} through the API into ${result.target.project}: ${plural(result.tables.length, 'table')}, ${plural(result.rows, 'row')} in ${result.seconds.total.toFixed(1)} s (${plural(result.requests, 'request')}); ${result.verified ? 'every table read back and compared' : 'not verified (--no-verify)'}`,
  )
  if (result.followUpSql.length > 0) {
    lines.push('', 'Run on the target (SQL editor) so new rows get fresh ids:', ...result.followUpSql)
  }
  return lines.join('\n')
}
