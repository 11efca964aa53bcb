#!/usr/bin/env -S npx tsx
// npm run demo — the whole round trip on a throwaway PostgreSQL and a local folder.
import { resolve } from 'node:path'
import { main } from '../lib/cli/run-job.ts'
import { schemaSqlGenerator } from '../lib/cli/wiring.ts'
import { LifeboatError } from '../lib/core/errors.ts'
import { formatBytes } from '../lib/core/format.ts'
import { runDemo } from '../lib/demo/run-demo.ts'

main({
  name: 'demo',
  usage: `
Usage: npm run demo -- [options]

Starts a throwaway PostgreSQL 15, fills it with sample data (organizations,
buildings, devices, a metrics time series, conversations, permissions, supply
chain, network insights, auth.users), backs it up into a local folder, verifies
the archive, restores it into a second database and proves every table equal.
Nothing outside this folder is touched; the PostgreSQL is removed at the end.

Options:
  --store DIR         where the backups go (default ./backups)
  --metrics-rows N    size of the metrics time series (default 100000)
  --json              print one JSON summary line on stdout
  -h, --help          this help
`,
  flags: { string: ['store', 'metrics-rows'] },
  async run({ args, emit }) {
    const storeDir = resolve(String(args.store ?? 'backups'))
    const metricsRows = Number(args['metrics-rows'] ?? 100_000)
    if (!Number.isInteger(metricsRows) || metricsRows < 0) {
      throw new LifeboatError('CONFIG_INVALID', '--metrics-rows must be a whole number')
    }
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
      `Backup ${result.id}: ${result.tables} tables, ${result.rows.toLocaleString('en')} rows, ${formatBytes(result.archiveBytes)}`,
      `  archive: ${result.archive}`,
      `  verified: every file matches its sha256 (${result.seconds.verify.toFixed(1)} s)`,
    ]
    lines.push(
      `  restored into a second database in ${result.seconds.restore.toFixed(1)} s; every table identical`,
      '  (re-export sha256 = manifest, and source rows = restored rows, compared by each server):',
    )
    for (const t of result.restored) lines.push(`    ok  ${t.table} (${t.rows.toLocaleString('en')} rows)`)
    lines.push(
      '',
      'Look inside it yourself:',
      `  mkdir -p /tmp/lifeboat-demo && tar -xzf ${result.archive} -C /tmp/lifeboat-demo`,
    )
    lines.push(`  cd /tmp/lifeboat-demo/${result.id} && sha256sum -c SHA256SUMS`)
    return { summary: { ...result }, text: lines.join('\n') }
  },
})
