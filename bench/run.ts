// Benchmark: Lifeboat's backup, restore and verify against pg_dump / pg_restore on the
// same data, in one run, medians of several runs taken in turn: pgbench scale 20, the
// demo schema with 2 M metric rows, and pgbench scale 100 for seconds per million rows.
// Options: --help; bench/README.md has the results. Prints the Markdown tables.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { cpus, loadavg, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import pg from 'pg'
import { minimist } from 'zx'
import { connect, PINNED_SESSION_SETTINGS } from '../lib/adapters/postgres/connection.ts'
import { digestTables } from '../lib/adapters/postgres/table-digest.ts'
import { startThrowawayPostgres } from '../lib/adapters/postgres/throwaway.ts'
import { type Manifest, qualifiedName } from '../lib/archive/manifest.ts'
import { digestMismatch } from '../lib/archive/table-digest.ts'
import { Secret } from '../lib/core/secret.ts'
import { createSampleData } from '../lib/demo/sample-data.ts'
import { generateSigningKeyPair } from '../lib/trust/signature.ts'
import { npmScriptStart } from '../test/helpers/npm-scripts.ts'
import { assertGnuTime, type Measured, measure, median } from './measure.ts'

const args = minimist(process.argv.slice(2), {
  string: ['scale', 'big-scale', 'metrics-rows', 'runs', 'big-runs', 'only', 'bin', 'node-flags', 'env'],
  boolean: ['skip-big', 'skip-restore', 'tsx', 'help'],
})
if (args.help) {
  console.log(`usage: npx tsx bench/run.ts [options]

The full comparison (what bench/README.md's table comes from; about 15 minutes on two
idle cores with the default runs, run it alone on the machine):

  npx tsx bench/run.ts

  pgbench scale 20, the demo schema with 2 M metric rows, and pgbench scale 100 (seconds
  per million rows), 5 runs each (3 at scale 100), taken in turn: pg_dump -Fc against
  lifeboat backup, pg_restore against lifeboat restore --create-schema, lifeboat verify.
  Prints wall and engine seconds, the ratio to the peer, seconds per million rows, client
  and server CPU, output size, peak RSS against ${120} MB, verify MB/s, and the restore's
  parts. The jobs run as users run them (node bin/lifeboat.js <job>, as the npm scripts do).

Options:
  --scale N          pgbench scale of the first dataset (20)
  --big-scale N      pgbench scale of the linearity dataset (100); --skip-big leaves it out
  --metrics-rows N   metric rows of the demo schema (2000000)
  --runs N           runs per contender (5); --big-runs N at the big scale (3)
  --only pgbench|sample|big   one dataset
  --skip-restore     backups only
  --bin PATH         the launcher to run (bin/lifeboat.js); --tsx runs the TypeScript jobs instead
  --node-flags "…"   node flags for the Lifeboat jobs (default: the npm scripts' flags)
  --env "K=V …"      environment for the Lifeboat jobs (default: the npm scripts' MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=1048576)

A quick look while other work shares the machine: --skip-big --runs 1 --metrics-rows 500000`)
  process.exit(0)
}
const scale = Number(args.scale ?? 20)
const bigScale = Number(args['big-scale'] ?? 100)
const metricsRows = Number(args['metrics-rows'] ?? 2_000_000)
const runs = Number(args.runs ?? 5)
const bigRuns = Number(args['big-runs'] ?? 3)
/** As users start the jobs (the npm scripts) unless told otherwise, for A/B runs (bench/README.md, "Memory"). */
const npmStart = npmScriptStart('backup:database')
const nodeFlags =
  args['node-flags'] === undefined ? npmStart.flags : String(args['node-flags']).split(' ').filter(Boolean)
const startEnv: Record<string, string> =
  args.env === undefined
    ? npmStart.env
    : Object.fromEntries(
        String(args.env)
          .split(' ')
          .filter(Boolean)
          .map((pair) => pair.split(/=(.*)/s).slice(0, 2)),
      )
const TARGET_RSS_MB = 120
/** Backups are signed and restores check the signature, as a configured deployment does. */
const keys = generateSigningKeyPair()
const signing = { BACKUP_SIGNING_KEY: keys.secretKeyFile, BACKUP_SIGNING_PUBLIC_KEYS: keys.publicKeyFile }
const out = resolve('bench/out')

const bin = (name: string) =>
  ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin']
    .map((dir) => join(dir, name))
    .find((path) => existsSync(path)) ?? name

type Job = 'backup' | 'restore' | 'verify'

/** The launcher users run (`--bin`, default bin/lifeboat.js, as the npm scripts), or the TypeScript jobs (`--tsx`). */
function lifeboat(job: Job): { command: string; argv: string[]; runner: string } {
  if (args.tsx)
    return {
      command: process.execPath,
      argv: [...nodeFlags, '--import', 'tsx', `jobs/${job}.ts`],
      runner: 'node --import tsx jobs',
    }
  const launcher = String(args.bin ?? 'bin/lifeboat.js')
  return {
    command: process.execPath,
    argv: [...nodeFlags, resolve(launcher), job],
    runner: `node ${launcher} ${job}`,
  }
}

interface Row {
  dataset: string
  command: string
  samples: Measured[]
  /** Seconds the job's engine reported (its --json summary), per run. */
  engine?: number[]
  outputMb?: number
  /** The row this one is compared with (its median wall time). */
  peer?: Row
  rowsMillions?: number
  /** Uncompressed data bytes, for MB/s. */
  dataBytes?: number
  lifeboat: boolean
}

const rows: Row[] = []
/** Parts of the restore, and what would replace them, in seconds per run. */
const phaseRows: { dataset: string; phase: string; seconds: number[] }[] = []

/** Seconds the server takes to compute every restored table's row digest (what replaces the re-export). */
async function digestSeconds(url: string, store: string): Promise<number> {
  const folder = join(store, 'database-backups')
  const sidecar = (await readdir(folder)).find((f) => f.endsWith('.manifest.json'))!
  const manifest = JSON.parse(readFileSync(join(folder, sidecar), 'utf8')) as Manifest
  const client = await connect(new Secret(url), { settings: PINNED_SESSION_SETTINGS })
  try {
    const began = performance.now()
    const measured = await digestTables(client, manifest.tables)
    const problems = manifest.tables.flatMap((t) => digestMismatch(t, measured.get(qualifiedName(t))!) ?? [])
    if (problems.length > 0) throw new Error(`row digests differ after the restore: ${problems.join('; ')}`)
    return (performance.now() - began) / 1000
  } finally {
    await client.end()
  }
}

async function sizeMb(path: string): Promise<number> {
  if (!statSync(path).isDirectory()) return statSync(path).size / 2 ** 20
  let total = 0
  for (const entry of await readdir(path, { recursive: true })) {
    const file = join(path, entry.toString())
    if (statSync(file).isFile()) total += statSync(file).size
  }
  return total / 2 ** 20
}

const postgres = await startThrowawayPostgres()
const url = new URL(postgres.url)
const pgEnv = {
  PGHOST: url.hostname,
  PGPORT: url.port,
  PGUSER: 'postgres',
  PGPASSWORD: decodeURIComponent(url.password),
}
const psql = (sql: string, db = 'postgres') => measure(bin('psql'), ['-X', '-q', '-d', db, '-c', sql], pgEnv)

/** The server's postmaster: the parent of any backend, read while that backend is alive. */
async function postmasterPid(): Promise<number> {
  const client = new pg.Client({ connectionString: postgres.url })
  client.on('error', () => {})
  await client.connect()
  try {
    const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
    return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1])
  } finally {
    await client.end()
  }
}

/** Every contender on one database, `count` runs each, taken in turn so drift hits all alike. */
async function benchDatabase(dataset: string, db: string, count: number, rowsMillions: number) {
  const server = await postmasterPid()
  await psql('VACUUM ANALYZE', db)
  await measure(bin('pg_dump'), ['-Fc', '-f', join(out, `${db}-warmup.dump`), db], pgEnv)
  const store = join(out, `${db}-store`)
  const dump = join(out, `${db}.dump`)
  const lifeboatEnv = { ...startEnv, ...signing, BACKUP_STORE: `file://${store}` }
  const backup = lifeboat('backup')
  const dumpRow: Row = { dataset, command: 'pg_dump -Fc', samples: [], lifeboat: false, rowsMillions }
  const backupRow: Row = {
    dataset,
    command: `lifeboat backup (${backup.runner})`,
    samples: [],
    engine: [],
    peer: dumpRow,
    lifeboat: true,
    rowsMillions,
  }
  rows.push(dumpRow, backupRow)
  for (let run = 0; run < count; run++) {
    dumpRow.samples.push(await measure(bin('pg_dump'), ['-Fc', '-f', dump, db], pgEnv, server))
    rmSync(store, { recursive: true, force: true })
    const m = await measure(
      backup.command,
      [...backup.argv, '--json', '--quiet'],
      { ...lifeboatEnv, DATABASE_URL: postgres.urlFor(db) },
      server,
    )
    backupRow.samples.push(m)
    const summary = JSON.parse(m.stdout.trim().split('\n').at(-1)!)
    backupRow.engine!.push(summary.seconds)
    backupRow.dataBytes = summary.dataBytes
    log(dataset, 'pg_dump', dumpRow, 'backup', backupRow)
  }
  dumpRow.outputMb = await sizeMb(dump)
  backupRow.outputMb = await sizeMb(store)
  if (args['skip-restore']) return

  const restore = lifeboat('restore')
  const pgRestoreRow: Row = {
    dataset,
    command: 'pg_restore (-Fc)',
    samples: [],
    lifeboat: false,
    rowsMillions,
  }
  const restoreRow: Row = {
    dataset,
    command: `lifeboat restore --create-schema (${restore.runner})`,
    samples: [],
    engine: [],
    peer: pgRestoreRow,
    lifeboat: true,
    rowsMillions,
  }
  rows.push(pgRestoreRow, restoreRow)
  const phases = { verifyArchive: [] as number[], verifyTables: [] as number[], digest: [] as number[] }
  for (let run = 0; run < count; run++) {
    await psql(`DROP DATABASE IF EXISTS ${db}_pgr`)
    await psql(`CREATE DATABASE ${db}_pgr`)
    pgRestoreRow.samples.push(await measure(bin('pg_restore'), ['-d', `${db}_pgr`, dump], pgEnv, server))
    await psql(`DROP DATABASE ${db}_pgr`)
    await psql(`DROP DATABASE IF EXISTS ${db}_lbr`)
    await psql(`CREATE DATABASE ${db}_lbr`)
    const m = await measure(
      restore.command,
      [...restore.argv, 'latest', '--create-schema', '--json', '--quiet'],
      { ...lifeboatEnv, TARGET_DATABASE_URL: postgres.urlFor(`${db}_lbr`) },
      server,
    )
    restoreRow.samples.push(m)
    const seconds = JSON.parse(m.stdout.trim().split('\n').at(-1)!).seconds
    restoreRow.engine!.push(seconds.total)
    phases.verifyArchive.push(seconds.verifyArchive)
    phases.verifyTables.push(seconds.verifyTables)
    phases.digest.push(await digestSeconds(postgres.urlFor(`${db}_lbr`), store))
    await psql(`DROP DATABASE ${db}_lbr`)
    log(dataset, 'pg_restore', pgRestoreRow, 'restore', restoreRow)
  }

  phaseRows.push(
    {
      dataset,
      phase:
        'restore: the checks before the first write (roles.sql, schema.sql; data files are checked while loading)',
      seconds: phases.verifyArchive,
    },
    {
      dataset,
      phase: 'restore: the after-load proof (row digests, the prove phase)',
      seconds: phases.verifyTables,
    },
    {
      dataset,
      phase: 'restore: the same row digests measured from outside (digestTables)',
      seconds: phases.digest,
    },
  )

  const verify = lifeboat('verify')
  const verifyRow: Row = {
    dataset,
    command: `lifeboat verify (${verify.runner})`,
    samples: [],
    engine: [],
    lifeboat: true,
    dataBytes: backupRow.dataBytes!,
    rowsMillions,
  }
  rows.push(verifyRow)
  for (let run = 0; run < count; run++) {
    const m = await measure(verify.command, [...verify.argv, 'latest', '--json', '--quiet'], lifeboatEnv)
    verifyRow.samples.push(m)
    verifyRow.engine!.push(JSON.parse(m.stdout.trim().split('\n').at(-1)!).backups[0].seconds)
    console.error(`${dataset}: lifeboat verify ${m.seconds.toFixed(2)} s`)
  }
}

function log(dataset: string, peerName: string, peer: Row, name: string, row: Row): void {
  const last = (r: Row) => r.samples.at(-1)!.seconds.toFixed(2)
  console.error(`${dataset}: ${peerName} ${last(peer)} s, lifeboat ${name} ${last(row)} s`)
}

async function pgbench(db: string, pgbenchScale: number): Promise<void> {
  await psql(`CREATE DATABASE ${db}`)
  console.error(`building pgbench data, scale ${pgbenchScale} (${pgbenchScale * 100_000} accounts) …`)
  await measure(bin('pgbench'), ['-i', '-q', '-s', String(pgbenchScale), db], pgEnv)
}

assertGnuTime()
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
const startedAt = new Date()
const loadBefore = loadavg()[0]!
try {
  if (!args.only || args.only === 'pgbench') {
    await pgbench('bench', scale)
    await benchDatabase(`pgbench s${scale}`, 'bench', runs, (scale * 100_000) / 1e6)
    await psql('DROP DATABASE bench')
  }
  if (!args.only || args.only === 'sample') {
    await psql('CREATE DATABASE sample')
    console.error(`building the demo schema with ${metricsRows} metric rows …`)
    const client = new pg.Client({ connectionString: postgres.urlFor('sample') })
    client.on('error', () => {})
    await client.connect()
    await createSampleData(client, { metricsRows })
    await client.end()
    await benchDatabase(`demo ${metricsRows / 1e6}M`, 'sample', runs, metricsRows / 1e6)
    await psql('DROP DATABASE sample')
  }
  if (!args['skip-big'] && (!args.only || args.only === 'big')) {
    await pgbench('big', bigScale)
    await benchDatabase(`pgbench s${bigScale}`, 'big', bigRuns, (bigScale * 100_000) / 1e6)
  }
} finally {
  await postgres.stop()
}
printReport()

function printReport(): void {
  const fixed = (n: number) => n.toFixed(2)
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  console.log(
    `\nMachine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ` +
      `${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC; load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end`,
  )
  console.log(
    `Medians of ${runs} runs (${bigRuns} at scale ${bigScale}), taken in turn. Lifeboat jobs: ${lifeboat('backup').runner}, ` +
      `node flags "${nodeFlags.join(' ')}", environment "${Object.entries(startEnv)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}". "engine s": what the job itself measured, without starting Node.\n`,
  )
  console.log(
    '| data | command | wall s | engine s | vs peer | s per M rows | CPU s (client + server) | output MB | peak RSS MB | MB/s |',
  )
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const row of rows) {
    const wall = median(row.samples.map((s) => s.seconds))
    const engine = row.engine ? median(row.engine) : undefined
    const ratio = row.peer ? `${(wall / median(row.peer.samples.map((s) => s.seconds))).toFixed(2)}×` : ''
    const client = median(row.samples.map((s) => s.cpuSeconds))
    const server = median(row.samples.map((s) => s.serverCpuSeconds))
    const rss = Math.max(...row.samples.map((s) => s.peakRssMb))
    const rssCell = row.lifeboat
      ? `${rss} ${rss <= TARGET_RSS_MB ? '✓' : '✗'} (≤ ${TARGET_RSS_MB})`
      : String(rss)
    const perMillion = row.rowsMillions ? fixed(wall / row.rowsMillions) : ''
    const mbPerSecond =
      row.command.startsWith('lifeboat verify') && row.dataBytes && engine
        ? `${(row.dataBytes / 1e6 / engine).toFixed(0)} (${(row.dataBytes / 1e6 / wall).toFixed(0)} with start-up)`
        : ''
    console.log(
      `| ${row.dataset} | ${row.command} | ${fixed(wall)} | ${engine === undefined ? '' : fixed(engine)} | ${ratio} | ${perMillion} | ${fixed(client)} + ${fixed(server)} | ${row.outputMb === undefined ? '' : row.outputMb.toFixed(1)} | ${rssCell} | ${mbPerSecond} |`,
    )
  }
  if (phaseRows.length === 0) return
  console.log('\n| data | part of the restore | seconds (median) |')
  console.log('| --- | --- | ---: |')
  for (const p of phaseRows) console.log(`| ${p.dataset} | ${p.phase} | ${fixed(median(p.seconds))} |`)
}
