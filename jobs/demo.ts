#!/usr/bin/env -S npx tsx
// lifeboat demo (npm run demo) — the whole round trip on a throwaway PostgreSQL and a local folder.
import { resolve } from 'node:path'
import { isMainModule, type JobSpec, main } from '../lib/cli/run-job.ts'
import { schemaSqlGenerator } from '../lib/cli/wiring.ts'
import { SettingsReader } from '../lib/core/config.ts'
import { LifeboatError } from '../lib/core/errors.ts'
import { formatBytes, formatCount, plural } from '../lib/core/format.ts'
import { runDemo } from '../lib/demo/run-demo.ts'
import { SETTINGS } from '../lib/settings/settings.ts'

export const job: JobSpec = {
  name: 'demo',
  async run({ args, env, emit }) {
    const reader = new SettingsReader(env, args)
    const storeDir = resolve(reader.optional(SETTINGS.demoStore)!)
    const metricsRows = reader.integer(SETTINGS.metricsRows)
    reader.finish()
    const result = await runDemo({ storeDir, metricsRows, emit, generateSchemaSql: schemaSqlGenerator() })
    if (!result.verified)
      throw new LifeboatError('VERIFY_FAILED', `the demo archive ${result.archive} failed verification`)
    const differing = result.restored.filter((t) => !t.identical || !t.reexportMatches)
    if (differing.length > 0) {
      throw new LifeboatError(
        'RESTORE_FAILED',
        `restored tables differ: ${differing.map((t) => t.table).join(', ')}`,
      )
    }
    const lines = [
      '',
      `Backup ${result.id}: ${plural(result.tables, 'table')}, ${plural(result.rows, 'row')}, ${formatBytes(result.archiveBytes)}`,
      `  archive: ${result.archive}`,
      `  verified: every file matches its sha256 (${result.seconds.verify.toFixed(1)} s)`,
    ]
    lines.push(
      `  restored into a second database in ${result.seconds.restore.toFixed(1)} s; every table identical`,
      '  (re-export sha256 = manifest, and source rows = restored rows, compared by each server):',
    )
    for (const t of result.restored) lines.push(`    ok  ${t.table} (${formatCount(t.rows)} rows)`)
    lines.push(
      '',
      'Look inside it yourself:',
      `  mkdir -p /tmp/lifeboat-demo && tar -xzf ${result.archive} -C /tmp/lifeboat-demo`,
    )
    lines.push(`  cd /tmp/lifeboat-demo/${result.id} && sha256sum -c SHA256SUMS`)
    return { summary: { ...result }, text: lines.join('\n') }
  },
}

if (isMainModule(import.meta.url)) main(job)
