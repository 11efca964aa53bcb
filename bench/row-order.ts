// A/B of the backup's row order: `key` (ORDER BY the primary key, the default) against
// `none` (rows as the server reads them, proven by row digests), same data, runs taken
// in turn: wall seconds and the CPU the server spent. bench/README.md, "Row order".
//   npx tsx bench/row-order.ts [--scale 10] [--metrics-rows 500000] [--runs 3]
import { readFileSync, rmSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import pg from 'pg'
import { minimist } from 'zx'
import { startThrowawayPostgres } from '../lib/adapters/postgres/throwaway.ts'
import { FileStore } from '../lib/adapters/store/file-store.ts'
import { runBackup } from '../lib/backup/postgres-source.ts'
import { Secret } from '../lib/core/secret.ts'
import { selectEverything } from '../lib/core/selection.ts'
import { createSampleData } from '../lib/demo/sample-data.ts'
import { measure, median } from './measure.ts'

const args = minimist(process.argv.slice(2), { string: ['scale', 'metrics-rows', 'runs'], boolean: ['help'] })
if (args.help) {
  console.log('usage: npx tsx bench/row-order.ts [--scale N (pgbench)] [--metrics-rows N (demo)] [--runs N]')
  process.exit(0)
}
const scale = Number(args.scale ?? 10)
const metricsRows = Number(args['metrics-rows'] ?? 500_000)
const runs = Number(args.runs ?? 3)
const out = resolve('bench/out-row-order')

/** utime + stime + cutime + cstime of a process (the postmaster collects exited backends). */
const cpuOf = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100
}

const postgres = await startThrowawayPostgres()
try {
  const client = new pg.Client({ connectionString: postgres.url })
  client.on('error', () => {})
  await client.connect()
  const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
  const postmaster = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1])
  await client.query('CREATE DATABASE bench')
  await client.query('CREATE DATABASE sample')
  await client.end()
  const url = new URL(postgres.url)
  await measure('/usr/lib/postgresql/15/bin/pgbench', ['-i', '-q', '-s', String(scale), 'bench'], {
    PGHOST: url.hostname,
    PGPORT: url.port,
    PGUSER: 'postgres',
    PGPASSWORD: decodeURIComponent(url.password),
  })
  const sample = new pg.Client({ connectionString: postgres.urlFor('sample') })
  sample.on('error', () => {})
  await sample.connect()
  await createSampleData(sample, { metricsRows })
  await sample.query('VACUUM ANALYZE')
  await sample.end()
  console.log(`load average ${loadavg()[0]!.toFixed(1)} at the start`)
  console.log('| data | rowOrder | wall s (median) | server CPU s (median) |')
  console.log('| --- | --- | ---: | ---: |')
  for (const [label, db] of [
    [`pgbench s${scale}`, 'bench'],
    [`demo ${metricsRows / 1e6}M`, 'sample'],
  ] as const) {
    const samples = { key: [] as number[][], none: [] as number[][] }
    for (let run = 0; run < runs; run++) {
      for (const rowOrder of ['key', 'none'] as const) {
        const folder = join(out, `${db}-${rowOrder}-${run}`)
        const before = cpuOf(postmaster)
        const began = performance.now()
        await runBackup(
          { store: new FileStore(folder), emit: () => {}, now: () => new Date(), tempDir: out },
          {
            source: new Secret(postgres.urlFor(db)),
            sourceSetting: 'DATABASE_URL',
            selection: selectEverything,
            jobs: 1,
            gzipLevel: 6,
            rowOrder,
          },
        )
        const wall = (performance.now() - began) / 1000
        await new Promise((done) => setTimeout(done, 100))
        samples[rowOrder].push([wall, cpuOf(postmaster) - before])
        rmSync(folder, { recursive: true, force: true })
      }
    }
    for (const rowOrder of ['key', 'none'] as const) {
      const s = samples[rowOrder]
      console.log(
        `| ${label} | ${rowOrder} | ${median(s.map((x) => x[0]!)).toFixed(2)} | ${median(s.map((x) => x[1]!)).toFixed(2)} |`,
      )
    }
  }
  console.log(`load average ${loadavg()[0]!.toFixed(1)} at the end`)
} finally {
  await postgres.stop()
  rmSync(out, { recursive: true, force: true })
}
