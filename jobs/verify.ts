#!/usr/bin/env -S npx tsx
// lifeboat verify (npm run backup:verify) — checks stored backups without a database (docs/lifecycle.md).
import { decryptStream, loadIdentity } from '../lib/adapters/crypto/age.ts'
import { openStore } from '../lib/adapters/store/open-store.ts'
import { type ReportableResult, reportWhenDone } from '../lib/cli/after-job.ts'
import { verifyMarkdown } from '../lib/cli/job-markdown.ts'
import { isMainModule, type JobSpec, main } from '../lib/cli/run-job.ts'
import { appendStepSummary } from '../lib/cli/step-summary.ts'
import { readAgeIdentity } from '../lib/core/age-config.ts'
import { readStoreConfig, SettingsReader } from '../lib/core/config.ts'
import { plural } from '../lib/core/format.ts'
import { readNow } from '../lib/monitor/freshness.ts'
import { readOrphanGraceHours } from '../lib/retention/retention.ts'
import { SETTINGS } from '../lib/settings/settings.ts'
import { loadTrust, readTrustSettings } from '../lib/trust/signing-config.ts'
import { assertBackupsVerified, describeVerification, verifyBackups } from '../lib/verify/verify-backups.ts'

export const job: JobSpec = {
  name: 'verify',
  async run({ args, positional, env, emit, log }) {
    const reader = new SettingsReader(env, args)
    const storeConfig = readStoreConfig(reader)
    const identitySource = readAgeIdentity(reader)
    const trustSettings = readTrustSettings(reader)
    const orphanGraceHours = readOrphanGraceHours(reader)
    const now = readNow(reader)
    const quick = reader.boolean(SETTINGS.quick)
    reader.finish()
    const identity = identitySource && !quick ? await loadIdentity(identitySource) : undefined
    const store = openStore(storeConfig!)
    const report = await verifyBackups(
      {
        store,
        emit,
        now,
        decrypt: (name) => decryptStream(identity, { name }),
        trust: await loadTrust(trustSettings),
      },
      { selection: positional[0] ?? 'latest', quick, orphanGraceHours },
    )
    const failed = report.backups.filter((b) => b.verdict === 'failed')
    for (const backup of failed) {
      for (const problem of backup.problems) log(`${backup.id}: ${problem}`)
    }
    // The table of what failed goes to the job summary; the harness adds the error.
    if (!report.ok) await appendStepSummary(env, verifyMarkdown(report), log)
    // Throwing sends VERIFY_FAILED down the alert path and into the audit record.
    assertBackupsVerified(report)
    const verified = report.backups.filter((b) => b.verdict === 'ok')
    const result: ReportableResult = {
      summary: { ...report },
      markdown: verifyMarkdown(report),
      text: [
        ...report.backups.map(describeVerification),
        `${verified.length} of ${plural(report.backups.length, 'backup')} ${quick ? 'checked (quick)' : 'verified'} in ${report.store}`,
      ].join('\n'),
      facts: {
        ...(report.backups.length === 1 ? { backupId: report.backups[0]!.id } : {}),
        details: { mode: quick ? 'quick' : 'full', backups: report.backups.length },
      },
      audit: {
        checked: report.backups.map((b) => `${b.id}: ${b.verdict}`),
        signatures: report.backups.map((b) => `${b.id}: ${b.signature ?? 'not read'}`),
      },
    }
    return result
  },
  after: reportWhenDone('verify'),
}

if (isMainModule(import.meta.url)) main(job)
