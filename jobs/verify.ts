#!/usr/bin/env -S npx tsx
// npm run backup:verify — checks stored backups without a database (docs/lifecycle.md).
import { decryptStream, loadIdentity } from '../lib/adapters/crypto/age.ts'
import { openStore } from '../lib/adapters/store/open-store.ts'
import { type ReportableResult, reportWhenDone } from '../lib/cli/after-job.ts'
import { main } from '../lib/cli/run-job.ts'
import { readAgeIdentity } from '../lib/core/age-config.ts'
import { readStoreConfig, SettingsReader } from '../lib/core/config.ts'
import { LifeboatError } from '../lib/core/errors.ts'
import { readNow } from '../lib/monitor/freshness.ts'
import { readOrphanGraceHours } from '../lib/retention/retention.ts'
import { loadTrust, readTrustSettings } from '../lib/trust/signing-config.ts'
import { assertBackupsVerified, describeVerification, verifyBackups } from '../lib/verify/verify-backups.ts'

main({
  name: 'verify',
  usage: `
Usage: npm run backup:verify -- [id | latest | all] [options]

Streams each archive from the store and checks it without a database: format
version, manifest, SHA256SUMS, every file's sha256, size and row count, and the
stored object's size and sha256 against its manifest sidecar. Names every failing
file. Default: latest (the newest backup, skipping an upload still in progress).

Store:    BACKUP_STORE (s3://bucket/prefix or file://path), or --store
Options:
      --quick               only check that archive and sidecar exist and sizes match
      --identity KEY|FILE   age private key for .age archives (BACKUP_AGE_IDENTITY)
      --allow-unsigned      accept sidecars whose signature cannot be checked (no
                            BACKUP_SIGNING_PUBLIC_KEYS, or no signature): noted per backup
      --store URL           overrides BACKUP_STORE
      --json                print one JSON summary line on stdout
      --quiet               only warnings and errors on stderr
  -h, --help                this help
Settings: ORPHAN_GRACE_HOURS (24): an archive without a sidecar younger than this
  may still be uploading and is skipped; older, it is a failure.
Exit codes: 0 every backup verified, 1 a backup failed (VERIFY_FAILED names the
files; DECRYPT_FAILED when only the key is wrong), 2 bad usage or configuration.
`,
  flags: { string: ['store', 'identity'], boolean: ['quick', 'allow-unsigned'] },
  async run({ args, positional, env, emit, log }) {
    if (positional.length > 1)
      throw new LifeboatError('USAGE', `one backup at a time: got ${positional.join(' ')}`)
    const reader = new SettingsReader(env, args)
    const storeConfig = readStoreConfig(reader)
    const identitySource = readAgeIdentity(reader)
    const trustSettings = readTrustSettings(reader)
    const orphanGraceHours = readOrphanGraceHours(reader)
    const now = readNow(reader)
    reader.finish()
    const quick = Boolean(args.quick)
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
    // Throwing sends VERIFY_FAILED down the alert path and into the audit record.
    assertBackupsVerified(report)
    const verified = report.backups.filter((b) => b.verdict === 'ok')
    const result: ReportableResult = {
      summary: { ...report },
      text: [
        ...report.backups.map(describeVerification),
        `${verified.length} of ${report.backups.length} backup${report.backups.length === 1 ? '' : 's'} ${quick ? 'checked (quick)' : 'verified'} in ${report.store}`,
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
})
