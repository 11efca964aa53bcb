// Benchmark: Lifeboat backup and restore against pg_dump / pg_restore on the same
// data, in one run: pgbench (scale 20 by default) and the demo's realistic schema
// (2 M metric rows). `npx tsx bench/run.ts [--scale 20] [--metrics-rows 2000000]
// [--only pgbench|sample] [--skip-restore]`. Prints seconds, output MB and peak RSS
// (VmHWM of the measured process) for each.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import pg from 'pg'
import { minimist } from 'zx'
import { startThrowawayPostgres } from '../lib/adapters/postgres/throwaway.ts'
import { createSampleData } from '../lib/demo/sample-data.ts'

const args = minimist(process.argv.slice(2), {
  string: ['scale', 'metrics-rows', 'only'],
  boolean: ['skip-restore'],
})
const scale = Number(args.scale ?? 20)
const metricsRows = Number(args['metrics-rows'] ?? 2_000_000)
const bin = (name: string) =>
  ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin']
    .map((dir) => join(dir, name))
    .find((path) => existsSync(path)) ?? name
const out = resolve('bench/out')

interface Measurement {
  name: string
  seconds: number
  outputMb: number | null
  peakRssMb: number
}

/** Runs a command, polling /proc for its peak resident set (VmHWM) until it exits. */
function measure(
  command: string,
  argv: string[],
  env: Record<string, string>,
): Promise<{ seconds: number; peakRssMb: number }> {
  return new Promise((done, fail) => {
    const began = process.hrtime.bigint()
    const child = spawn(command, argv, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    let peakKb = 0
    const poll = setInterval(() => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
        const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
        peakKb = Math.max(peakKb, hwm)
      } catch {
        // the process has just exited
      }
    }, 20)
    child.on('exit', (code) => {
      clearInterval(poll)
      const seconds = Number(process.hrtime.bigint() - began) / 1e9
      if (code !== 0) fail(new Error(`${command} ${argv.join(' ')} exited ${code}: ${stderr.slice(-2000)}`))
      else done({ seconds, peakRssMb: Math.round(peakKb / 1024) })
    })
  })
}

async function sizeMb(path: string): Promise<number> {
  const info = await stat(path)
  if (!info.isDirectory()) return info.size / 1024 / 1024
  let total = 0
  for (const entry of await readdir(path, { recursive: true })) {
    const file = join(path, entry.toString())
    const s = statSync(file)
    if (s.isFile()) total += s.size
  }
  return total / 1024 / 1024
}

rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
const postgres = await startThrowawayPostgres()
const url = new URL(postgres.url)
const pgEnv = {
  PGHOST: url.hostname,
  PGPORT: url.port,
  PGUSER: 'postgres',
  PGPASSWORD: decodeURIComponent(url.password),
}
const dbUrl = (db: string) => postgres.urlFor(db)
const results: Measurement[] = []
const record = (name: string, m: { seconds: number; peakRssMb: number }, outputMb: number | null) => {
  results.push({ name, ...m, outputMb })
  console.error(`${name}: ${m.seconds.toFixed(2)} s`)
}

const psql = (sql: string, db = 'postgres') => measure(bin('psql'), ['-q', '-d', db, '-c', sql], pgEnv)

/** Times every contender on one database; each writes into its own folder under bench/out. */
async function benchDatabase(label: string, db: string): Promise<void> {
  await psql('VACUUM ANALYZE', db)
  // Warm the server's cache so the first contender is not penalised.
  await measure(bin('pg_dump'), ['-Fc', '-f', join(out, `${db}-warmup.dump`), db], pgEnv)

  const dumpFc = join(out, `${db}.dump`)
  record(
    `${label}: pg_dump -Fc`,
    await measure(bin('pg_dump'), ['-Fc', '-f', dumpFc, db], pgEnv),
    await sizeMb(dumpFc),
  )
  const dumpDir = join(out, `${db}.dir`)
  record(
    `${label}: pg_dump -Fd -j 2`,
    await measure(bin('pg_dump'), ['-Fd', '-j', '2', '-f', dumpDir, db], pgEnv),
    await sizeMb(dumpDir),
  )
  for (const jobs of [1, 2]) {
    const store = join(out, `${db}-lifeboat-j${jobs}`)
    const m = await measure(
      process.execPath,
      ['--import', 'tsx', 'jobs/backup.ts', '--jobs', String(jobs), '--quiet'],
      {
        DATABASE_URL: dbUrl(db),
        BACKUP_STORE: `file://${store}`,
      },
    )
    record(`${label}: lifeboat backup --jobs ${jobs}`, m, await sizeMb(store))
  }
  if (args['skip-restore'] || !existsSync('jobs/restore.ts')) return

  await psql(`CREATE DATABASE ${db}_pg_restore`)
  record(
    `${label}: pg_restore (-Fc)`,
    await measure(bin('pg_restore'), ['-d', `${db}_pg_restore`, dumpFc], pgEnv),
    null,
  )
  await psql(`CREATE DATABASE ${db}_pg_restore_j2`)
  record(
    `${label}: pg_restore -j 2 (-Fd)`,
    await measure(bin('pg_restore'), ['-j', '2', '-d', `${db}_pg_restore_j2`, dumpDir], pgEnv),
    null,
  )
  const store = join(out, `${db}-lifeboat-j1`)
  for (const verify of [true, false]) {
    const target = `${db}_lifeboat${verify ? '' : '_nv'}`
    await psql(`CREATE DATABASE ${target}`)
    const flags = ['latest', '--create-schema', '--quiet', ...(verify ? [] : ['--no-verify'])]
    record(
      `${label}: lifeboat restore --create-schema${verify ? ' (with after-load re-export check)' : ' --no-verify'}`,
      await measure(process.execPath, ['--import', 'tsx', 'jobs/restore.ts', ...flags], {
        BACKUP_STORE: `file://${store}`,
        TARGET_DATABASE_URL: dbUrl(target),
      }),
      null,
    )
  }
}

try {
  if (args.only !== 'sample') {
    await psql('CREATE DATABASE bench')
    console.error(`building pgbench data, scale ${scale} (${scale * 100_000} accounts) …`)
    await measure(bin('pgbench'), ['-i', '-q', '-s', String(scale), 'bench'], pgEnv)
    await benchDatabase(`pgbench s${scale}`, 'bench')
  }
  if (args.only !== 'pgbench') {
    await psql('CREATE DATABASE sample')
    console.error(`building the demo schema with ${metricsRows} metric rows …`)
    const client = new pg.Client({ connectionString: dbUrl('sample') })
    client.on('error', () => {})
    await client.connect()
    await createSampleData(client, { metricsRows })
    await client.end()
    await benchDatabase(`sample ${metricsRows / 1e6}M`, 'sample')
  }
} finally {
  await postgres.stop()
}

const cpu = cpus()[0]?.model ?? 'unknown CPU'
console.log(
  `\nMachine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
)
console.log(
  `Data: pgbench scale ${scale} (${(scale * 100_000).toLocaleString('en')} rows in pgbench_accounts); the demo schema with ${metricsRows.toLocaleString('en')} metric rows\n`,
)
console.log('| command | seconds | output MB | peak RSS MB |')
console.log('| --- | ---: | ---: | ---: |')
for (const r of results) {
  console.log(
    `| ${r.name} | ${r.seconds.toFixed(2)} | ${r.outputMb === null ? '' : r.outputMb.toFixed(1)} | ${r.peakRssMb} |`,
  )
}
