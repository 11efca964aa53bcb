#!/usr/bin/env -S npx tsx
// lifeboat doctor (npm run backup:doctor) — checks the configured source, store, keys and alert channels
// and prints a checklist with a fix for each problem (docs/doctor.md).
import { RestClient } from '../lib/adapters/rest/client.ts'
import { createRetryingFetch } from '../lib/adapters/rest/http.ts'
import { openStore } from '../lib/adapters/store/open-store.ts'
import { isMainModule, type JobSpec, main } from '../lib/cli/run-job.ts'
import { SettingsReader } from '../lib/core/config.ts'
import { readDoctorConfig } from '../lib/core/doctor-config.ts'
import { doctorExitCode, renderChecklist } from '../lib/doctor/checks.ts'
import { runDoctor } from '../lib/doctor/probes.ts'
import { SETTINGS } from '../lib/settings/settings.ts'

export const job: JobSpec = {
  name: 'doctor',
  async run({ args, env, host }) {
    const config = readDoctorConfig(env, args, host)
    const reader = new SettingsReader(env, args)
    const timeoutMs = reader.integer(SETTINGS.doctorTimeoutMs)
    reader.finish()
    const store = config.store ? openStore(config.store) : undefined
    const client = config.api
      ? new RestClient({
          url: config.api.url,
          key: config.api.key,
          fetch: createRetryingFetch({ attempts: 2, baseDelayMs: 500, timeoutMs: timeoutMs * 2 }).fetch,
        })
      : undefined
    const { checks } = await runDoctor(config, {
      ...(store ? { store } : {}),
      ...(client ? { client } : {}),
      env,
      timeoutMs,
    })
    const exitCode = doctorExitCode(checks)
    return {
      summary: {
        healthy: exitCode === 0,
        failures: checks.filter((c) => c.status === 'fail').length,
        warnings: checks.filter((c) => c.status === 'warn').length,
        checks,
      },
      text: renderChecklist(checks),
      exitCode,
    }
  },
}

if (isMainModule(import.meta.url)) main(job)
