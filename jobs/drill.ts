#!/usr/bin/env -S npx tsx
// lifeboat drill (npm run backup:drill) — the monthly restore drill: a random recent backup restored
// into staging or a throwaway PostgreSQL, proven, timed against the RTO (docs/drills.md).
import { tmpdir } from 'node:os'
import { decryptStream, loadIdentity } from '../lib/adapters/crypto/age.ts'
import { drillStores, type FailedDrill, finishDrill, reportDrillWhenDone } from '../lib/cli/drill-job.ts'
import { isMainModule, type JobSpec, main } from '../lib/cli/run-job.ts'
import { drillStorageOptions } from '../lib/cli/storage-jobs.ts'
import { readDrillConfig } from '../lib/core/drill-config.ts'
import { runDrill } from '../lib/drills/drill.ts'
import { loadTrust } from '../lib/trust/signing-keys.ts'

const failed: FailedDrill = {}

export const job: JobSpec = {
  name: 'drill',
  async run(context) {
    const { args, env, emit, host, signal } = context
    const config = readDrillConfig(env, args, [], host)
    const identity = config.identity ? await loadIdentity(config.identity) : undefined
    const run = await runDrill(
      {
        ...drillStores(config),
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
        storage: await drillStorageOptions(config),
      },
    )
    return finishDrill(run, context, failed)
  },
  after: reportDrillWhenDone('drill', failed),
}

if (isMainModule(import.meta.url)) main(job)
