// Benchmark: Lifeboat backup and restore against pg_dump / pg_restore on the same
// pgbench data, in one run. `npx tsx bench/run.ts [--scale 20] [--skip-restore]`.
// Prints seconds, output MB and peak RSS (VmHWM of the measured process) for each.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { minimist } from 'zx'
import { startThrowawayPostgres } from '../lib/adapters/postgres/throwaway.ts'

const args = minimist(process.argv.slice(2), { string: ['scale'], boolean: ['skip-restore'] })
const scale = Number(args.scale ?? 20)
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
function measure(command: string, argv: string[], env: Record<string, string>): Promise<{ seconds: number; peakRssMb: number }> {
  return new Promise((done, fail) => {
    const began = process.hrtime.bigint()
    const child = spawn(command, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
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
const pgEnv = { PGHOST: url.hostname, PGPORT: url.port, PGUSER: 'postgres', PGPASSWORD: decodeURIComponent(url.password) }
const dbUrl = (db: string) => postgres.urlFor(db)
const results: Measurement[] = []
const record = (name: string, m: { seconds: number; peakRssMb: number }, outputMb: number | null) => {
  results.push({ name, ...m, outputMb })
  console.error(`${name}: ${m.seconds.toFixed(2)} s`)
}

try {
  const psql = (sql: string, db = 'postgres') => measure(bin('psql'), ['-q', '-d', db, '-c', sql], pgEnv)
  await psql('CREATE DATABASE bench')
  console.error(`building pgbench data, scale ${scale} (${scale * 100_000} accounts) …`)
  await measure(bin('pgbench'), ['-i', '-q', '-s', String(scale), 'bench'], pgEnv)
  await psql('VACUUM ANALYZE', 'bench')

  // Warm the server's cache so the first contender is not penalised.
  await measure(bin('pg_dump'), ['-Fc', '-f', join(out, 'warmup.dump'), 'bench'], pgEnv)

  const dumpFc = join(out, 'bench.dump')
  record('pg_dump -Fc', await measure(bin('pg_dump'), ['-Fc', '-f', dumpFc, 'bench'], pgEnv), await sizeMb(dumpFc))
  const dumpDir = join(out, 'bench.dir')
  record('pg_dump -Fd -j 2', await measure(bin('pg_dump'), ['-Fd', '-j', '2', '-f', dumpDir, 'bench'], pgEnv), await sizeMb(dumpDir))

  for (const jobs of [1, 2]) {
    const store = join(out, `lifeboat-j${jobs}`)
    const m = await measure(process.execPath, ['--import', 'tsx', 'jobs/backup.ts', '--jobs', String(jobs), '--quiet'], {
      DATABASE_URL: dbUrl('bench'),
      BACKUP_STORE: `file://${store}`,
    })
    record(`lifeboat backup --jobs ${jobs}`, m, await sizeMb(store))
  }

  if (!args['skip-restore'] && existsSync('jobs/restore.ts')) {
    await psql('CREATE DATABASE restore_pg')
    record(
      'pg_restore (-Fc, into an empty database)',
      await measure(bin('pg_restore'), ['-d', 'restore_pg', dumpFc], pgEnv),
      null,
    )
    await psql('CREATE DATABASE restore_pg_j2')
    record(
      'pg_restore -j 2 (-Fd)',
      await measure(bin('pg_restore'), ['-j', '2', '-d', 'restore_pg_j2', dumpDir], pgEnv),
      null,
    )
    await psql('CREATE DATABASE restore_lifeboat')
    const store = join(out, 'lifeboat-j1')
    record(
      'lifeboat restore --create-schema (verify + load + re-export check)',
      await measure(
        process.execPath,
        ['--import', 'tsx', 'jobs/restore.ts', 'latest', '--create-schema', '--quiet'],
        { BACKUP_STORE: `file://${store}`, TARGET_DATABASE_URL: dbUrl('restore_lifeboat') },
      ),
      null,
    )
    await psql('CREATE DATABASE restore_lifeboat_nv')
    record(
      'lifeboat restore --create-schema --no-verify',
      await measure(
        process.execPath,
        ['--import', 'tsx', 'jobs/restore.ts', 'latest', '--create-schema', '--no-verify', '--quiet'],
        { BACKUP_STORE: `file://${store}`, TARGET_DATABASE_URL: dbUrl('restore_lifeboat_nv') },
      ),
      null,
    )
  }
} finally {
  await postgres.stop()
}

const cpu = cpus()[0]?.model ?? 'unknown CPU'
console.log(`\nMachine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`)
console.log(`Data: pgbench scale ${scale} (${(scale * 100_000).toLocaleString('en')} rows in pgbench_accounts)\n`)
console.log('| command | seconds | output MB | peak RSS MB |')
console.log('| --- | ---: | ---: | ---: |')
for (const r of results) {
  console.log(`| ${r.name} | ${r.seconds.toFixed(2)} | ${r.outputMb === null ? '' : r.outputMb.toFixed(1)} | ${r.peakRssMb} |`)
}
