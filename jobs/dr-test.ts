#!/usr/bin/env -S npx tsx
// npm run dr:test — the quarterly disaster-recovery test: the newest backup into a new
// empty database, verified and smoke-checked, with RPO and RTO achieved (docs/drills.md).
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { decryptStream, loadIdentity } from '../lib/adapters/crypto/age.ts'
import { openStore } from '../lib/adapters/store/open-store.ts'
import { type FailedDrill, finishDrill, reportDrillWhenDone } from '../lib/cli/drill-job.ts'
import { main } from '../lib/cli/run-job.ts'
import { readDrTestConfig } from '../lib/core/drill-config.ts'
import { LifeboatError } from '../lib/core/errors.ts'
import { runDrTest } from '../lib/drills/dr-test.ts'
import { parseSmokeChecks, type SmokeCheck } from '../lib/drills/smoke-checks.ts'
import { loadTrust } from '../lib/trust/signing-config.ts'

const failed: FailedDrill = {}

main({
  name: 'dr-test',
  usage: `
Usage: npm run dr:test -- [options]

From nothing but the store and the credentials: the newest complete backup is
restored into a new empty database (schema.sql, then the data, verified by
re-export), foreign keys and sequences are checked, then the smoke checks run.
Reports the RPO achieved (the backup's age at restore) and the RTO achieved, stores
the report in drills/<id>.json and alerts like a drill.

Target:   DR_TEST_DATABASE_URL (or --target): an existing empty database; else
          STAGING_DATABASE_URL: a server on which a new database is created for the
          test and dropped after it (needs CREATEDB); else a throwaway PostgreSQL
Checks:   DR_TEST_CHECKS (or --checks): a SQL file of statements separated by ";",
          each returning one boolean (true = pass); a comment line above a statement
          names it. They run read-only, each in a transaction that is rolled back.
Store:    BACKUP_STORE (s3://bucket/prefix or file://path), or --store
Options:
      --checks FILE             the smoke checks
      --target URL              an empty database (DR_TEST_DATABASE_URL)
      --keep                    keep the database created on the staging server
      --rto-target DURATION     4h, 90m, 30s or seconds (default 4h; RTO_TARGET)
      --rpo-hours N             the RPO in hours (default 24; RPO_HOURS)
      --identity KEY|FILE       age private key for .age archives (BACKUP_AGE_IDENTITY)
      --temp-dir DIR            where the archive is downloaded (LIFEBOAT_TEMP_DIR)
      --store URL               overrides BACKUP_STORE
      --json                    print the report as one JSON line on stdout
      --quiet                   only warnings and errors on stderr
  -h, --help                    this help
Exit codes: 0 passed (RPO or RTO missed are warnings), 1 the restore or a check
failed, 2 bad usage or configuration, or a production target.
`,
  flags: {
    string: ['checks', 'target', 'rto-target', 'rpo-hours', 'identity', 'temp-dir', 'store'],
    boolean: ['keep'],
  },
  async run(context) {
    const { args, positional, env, emit, signal } = context
    const config = readDrTestConfig(env, args, positional)
    const smokeChecks = config.checks ? await readChecks(config.checks) : undefined
    const identity = config.identity ? await loadIdentity(config.identity) : undefined
    const run = await runDrTest(
      {
        store: openStore(config.store),
        emit,
        signal,
        clock: () => new Date(),
        tempDir: config.tempDir ?? tmpdir(),
        decrypt: (name) => decryptStream(identity, { name }),
        trust: await loadTrust(config.trust),
      },
      {
        target: config.target?.kind === 'server' ? { ...config.target, keep: config.keep } : config.target,
        rtoTargetSeconds: config.rtoTargetSeconds,
        rpoTargetSeconds: config.rpoTargetSeconds,
        smokeChecks,
        now: config.now,
        production: config.production,
      },
    )
    return finishDrill(run, context, failed)
  },
  after: reportDrillWhenDone('dr-test', failed),
})

/** Read and parsed before anything else runs: a broken checks file is a usage error. */
async function readChecks(path: string): Promise<SmokeCheck[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      `DR_TEST_CHECKS (--checks) ${path}: ${(error as Error).message}`,
    )
  }
  const checks = parseSmokeChecks(text, path)
  if (checks.length === 0)
    throw new LifeboatError('CONFIG_INVALID', `${path} holds no SQL statement to check`)
  return checks
}
