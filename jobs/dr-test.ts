#!/usr/bin/env -S npx tsx
// lifeboat dr-test (npm run dr:test) — the quarterly disaster-recovery test: the newest backup into a new
// empty database, verified and smoke-checked, with RPO and RTO achieved (docs/drills.md).
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { decryptStream, loadIdentity } from '../lib/adapters/crypto/age.ts'
import { drillStores, type FailedDrill, finishDrill, reportDrillWhenDone } from '../lib/cli/drill-job.ts'
import { isMainModule, type JobSpec, main } from '../lib/cli/run-job.ts'
import { drillStorageOptions } from '../lib/cli/storage-jobs.ts'
import { readDrTestConfig } from '../lib/core/drill-config.ts'
import { LifeboatError } from '../lib/core/errors.ts'
import { runDrTest } from '../lib/drills/dr-test.ts'
import { parseSmokeChecks, type SmokeCheck } from '../lib/drills/smoke-checks.ts'
import { loadTrust } from '../lib/trust/signing-keys.ts'

const failed: FailedDrill = {}

export const job: JobSpec = {
  name: 'dr-test',
  async run(context) {
    const { args, env, emit, host, signal } = context
    const config = readDrTestConfig(env, args, [], host)
    const smokeChecks = config.checks ? await readChecks(config.checks) : undefined
    const identity = config.identity ? await loadIdentity(config.identity) : undefined
    const run = await runDrTest(
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
        target: config.target?.kind === 'server' ? { ...config.target, keep: config.keep } : config.target,
        rtoTargetSeconds: config.rtoTargetSeconds,
        rpoTargetSeconds: config.rpoTargetSeconds,
        smokeChecks,
        now: config.now,
        production: config.production,
        accessReview: config.accessReview,
        storage: await drillStorageOptions(config),
      },
    )
    return finishDrill(run, context, failed)
  },
  after: reportDrillWhenDone('dr-test', failed),
}

if (isMainModule(import.meta.url)) main(job)

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
