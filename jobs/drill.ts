#!/usr/bin/env -S npx tsx
// npm run backup:drill — the monthly restore drill: a random recent backup restored
// into staging or a throwaway PostgreSQL, proven, timed against the RTO (docs/drills.md).
import { tmpdir } from 'node:os'
import { decryptStream, loadIdentity } from '../lib/adapters/crypto/age.ts'
import { openStore } from '../lib/adapters/store/open-store.ts'
import { type FailedDrill, finishDrill, reportDrillWhenDone } from '../lib/cli/drill-job.ts'
import { main } from '../lib/cli/run-job.ts'
import { readDrillConfig } from '../lib/core/drill-config.ts'
import { runDrill } from '../lib/drills/drill.ts'
import { loadTrust } from '../lib/trust/signing-config.ts'

const failed: FailedDrill = {}

main({
  name: 'drill',
  usage: `
Usage: npm run backup:drill -- [options]

Picks a random complete backup of the last 30 days, restores it (verify the archive,
load in one transaction, re-export and compare every table), then checks foreign keys
and sequences, measures every phase against the RTO target, writes the report to
drills/<id>.json in the store and prints it as Markdown. Production is never a target.

Target:   STAGING_DATABASE_URL (or --target): an empty database, or one that holds the
          archive's tables (then --truncate replaces their rows); unset: a throwaway
          PostgreSQL the drill starts and removes
Store:    BACKUP_STORE (s3://bucket/prefix or file://path), or --store
Options:
      --backup ID|latest|DATE   drill this backup instead of a random one
      --seed TEXT               makes the random pick reproducible (DRILL_SEED)
      --days N                  the pick's window in days (default 30; DRILL_WINDOW_DAYS)
      --rto-target DURATION     4h, 90m, 30s or seconds (default 4h; RTO_TARGET)
      --target URL              the scratch database (STAGING_DATABASE_URL)
      --truncate                replace the rows of a staging database that holds them
      --identity KEY|FILE       age private key for .age archives (BACKUP_AGE_IDENTITY)
      --temp-dir DIR            where the archive is downloaded (LIFEBOAT_TEMP_DIR)
      --store URL               overrides BACKUP_STORE
      --json                    print the report as one JSON line on stdout
      --quiet                   only warnings and errors on stderr
  -h, --help                    this help
In GitHub Actions the Markdown report is added to the job summary ($GITHUB_STEP_SUMMARY).
Exit codes: 0 the drill passed (RTO exceeded is a warning), 1 it failed (the report
names the failing tables), 2 bad usage or configuration, or a production target.
`,
  flags: {
    string: ['backup', 'seed', 'days', 'rto-target', 'target', 'identity', 'temp-dir', 'store'],
    boolean: ['truncate'],
  },
  async run(context) {
    const { args, positional, env, emit, signal } = context
    const config = readDrillConfig(env, args, positional)
    const identity = config.identity ? await loadIdentity(config.identity) : undefined
    const run = await runDrill(
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
        kind: 'drill',
        backup: config.backup,
        seed: config.seed,
        days: config.days,
        now: config.now,
        target: config.target
          ? {
              kind: 'database',
              url: config.target.url,
              setting: config.target.setting,
              truncate: config.truncate,
            }
          : { kind: 'throwaway' },
        rtoTargetSeconds: config.rtoTargetSeconds,
        production: config.production,
      },
    )
    return finishDrill(run, context, failed)
  },
  after: reportDrillWhenDone('drill', failed),
})
