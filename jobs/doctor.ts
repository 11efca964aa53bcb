#!/usr/bin/env -S npx tsx
// npm run backup:doctor — checks the configured source, store, keys and alert channels
// and prints a checklist with a fix for each problem (docs/doctor.md).
import { RestClient } from '../lib/adapters/rest/client.ts'
import { createRetryingFetch } from '../lib/adapters/rest/http.ts'
import { openStore } from '../lib/adapters/store/open-store.ts'
import { main } from '../lib/cli/run-job.ts'
import { SettingsReader } from '../lib/core/config.ts'
import { readDoctorConfig } from '../lib/core/doctor-config.ts'
import { doctorExitCode, renderChecklist } from '../lib/doctor/checks.ts'
import { runDoctor } from '../lib/doctor/probes.ts'

main({
  name: 'doctor',
  usage: `
Usage: npm run backup:doctor -- [options]

Checks, for the configured source and store, what would make a backup fail, and
explains each problem with a fix:
  source    settings, pooler mode (the transaction pooler is refused), DNS and IPv4/IPv6
            reachability, login, pg_dump vs server version, SELECT on every selected
            table, row-level security, statement/idle timeouts; in API-only mode the
            API answers the service role key
  store     list, write, read back and delete a probe object
            (database-backups/.lifeboat-doctor-probe.manifest.json)
  keys      BACKUP_AGE_RECIPIENTS valid; BACKUP_AGE_IDENTITY (if set) matches them
  alerts    at least one channel configured
The backup job runs the cheap part of these checks first (preflight).

Settings: the same as the backup job (DATABASE_URL or SUPABASE_DB_URL, or SUPABASE_URL
          + SUPABASE_SERVICE_ROLE_KEY; BACKUP_STORE; BACKUP_AGE_*; alert variables)
Options:
  -n, --schema PATTERN          check only these schemas (repeatable)
  -N, --exclude-schema PATTERN  not these schemas
  -t, --table PATTERN           check only these tables
  -T, --exclude-table PATTERN   not these tables
      --source postgres|rest    check the direct connection or the API
      --auth-users              API mode: also check the auth admin API
      --store URL               overrides BACKUP_STORE
      --json                    print one JSON line with every check
  -h, --help                    this help
Timeouts: DOCTOR_TIMEOUT_MS per network probe (default 5000).
Exit codes: 0 nothing would stop a backup (warnings allowed), 1 a check failed,
2 bad usage.
`,
  flags: {
    string: ['schema', 'exclude-schema', 'table', 'exclude-table', 'store', 'source'],
    boolean: ['auth-users'],
    alias: { n: 'schema', N: 'exclude-schema', t: 'table', T: 'exclude-table' },
  },
  async run({ args, env }) {
    const config = readDoctorConfig(env, args)
    const reader = new SettingsReader(env, args)
    const timeoutMs = reader.integer(undefined, 'DOCTOR_TIMEOUT_MS', 5_000, 1)
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
      env: process.env,
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
})
