#!/usr/bin/env -S npx tsx
// lifeboat restore (npm run backup:restore) — verify a backup, then load it into the target in one
// transaction and prove the result by re-export (docs/restore.md).
import { tmpdir } from 'node:os'
import { isAbsolute, resolve } from 'node:path'
import { decryptStream, loadIdentity } from '../lib/adapters/crypto/age.ts'
import { openStore } from '../lib/adapters/store/open-store.ts'
import { type ReportableResult, reportWhenDone } from '../lib/cli/after-job.ts'
import { restoreMarkdown } from '../lib/cli/job-markdown.ts'
import { isMainModule, type JobSpec, main } from '../lib/cli/run-job.ts'
import { storeOpener } from '../lib/cli/wiring.ts'
import { LifeboatError } from '../lib/core/errors.ts'
import { formatBytes, plural } from '../lib/core/format.ts'
import { chooseRestoreVia } from '../lib/core/rest-config.ts'
import { readRestoreConfig } from '../lib/core/restore-config.ts'
import { parseSelector } from '../lib/inventory/inventory.ts'
import { type RestoreResult, runRestore } from '../lib/restore/postgres-target.ts'
import { proofVerdict } from '../lib/restore/target.ts'
import { loadTrust } from '../lib/trust/signing-config.ts'

export const job: JobSpec = {
  name: 'restore',
  async run(context) {
    const { args, positional, env, emit, host, signal } = context
    if (chooseRestoreVia(env, args) === 'rest') {
      // The API client is loaded only for a restore through the API.
      const { runRestRestoreJob } = await import('../lib/cli/rest-jobs.ts')
      return runRestRestoreJob(context)
    }
    const config = readRestoreConfig(env, args, positional, host)
    if (config.dryRun) {
      // The preview is built into the restore engine's phases (issue 17); until then, refuse.
      throw new LifeboatError('USAGE', '--dry-run is not available yet for a database restore')
    }
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
      markdown: restoreMarkdown(result),
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
}

if (isMainModule(import.meta.url)) main(job)

/** npm runs scripts in the package folder; a relative path means the folder npm was started in. */
function localPath(what: string, initCwd: string | undefined): string {
  if (!initCwd || isAbsolute(what) || parseSelector(what).kind !== 'file') return what
  return resolve(initCwd, what)
}

function renderResult(result: RestoreResult): string {
  const header = result.verified
    ? ['table', 'rows (backup)', 'rows (restored)', 'check']
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
  const verdict = proofVerdict(result.verified, result.tables)
  return [
    format(header),
    ...rows.map(format),
    `restored ${result.id} into ${target.database} at ${target.host}:${target.port}: ${plural(result.tables.length, 'table')}, ${plural(result.rows, 'row')}, ${plural(result.sequences, 'sequence')} from ${formatBytes(result.archiveBytes)} in ${result.seconds.total.toFixed(1)} s; ${verdict}`,
  ].join('\n')
}
