// Peak RSS (and seconds) of backup, restore and verify as users start them, under
// start-up variants, on one million-row table (the integration tests' shape) or the
// demo schema: what each memory lever gives. bench/README.md, "Memory".
//   npx tsx bench/memory.ts [--rows 1000000] [--runs 3] [--jobs backup,restore,verify]
//                           [--variant 'name=ENV=V node-flag …' …] [--bin PATH]
import { mkdirSync, rmSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import pg from 'pg'
import { minimist } from 'zx'
import { startThrowawayPostgres } from '../lib/adapters/postgres/throwaway.ts'
import { generateSigningKeyPair } from '../lib/trust/signature.ts'
import { assertGnuTime, measure, median } from './measure.ts'

const args = minimist(process.argv.slice(2), {
  string: ['rows', 'runs', 'jobs', 'variant', 'bin'],
  boolean: ['help'],
})
if (args.help) {
  console.log(`usage: npx tsx bench/memory.ts [--rows N] [--runs N] [--jobs backup,restore,verify] [--variant SPEC …] [--bin PATH]
  SPEC: name=WORD… where a WORD with '=' is an environment variable and any other is a node flag,
  e.g. --variant 'plain=' --variant 'semi1=--max-semi-space-size=1 MALLOC_ARENA_MAX=2'.
  A variant may name its own launcher: bin:PATH (another checkout's bin/lifeboat.js, for an A/B).
  Default: one variant, node bin/lifeboat.js without flags.`)
  process.exit(0)
}
const rows = Number(args.rows ?? 1_000_000)
const runs = Number(args.runs ?? 3)
const jobs = String(args.jobs ?? 'backup,restore,verify').split(',')
const specs: string[] = [args.variant ?? []].flat().map(String)
const variants = (specs.length > 0 ? specs : ['bin=']).map((spec) => {
  const [name, rest = ''] = spec.split(/=(.*)/s) as [string, string?]
  const words = rest.split(' ').filter(Boolean)
  const launcher = words.find((w) => w.startsWith('bin:'))?.slice(4) ?? String(args.bin ?? 'bin/lifeboat.js')
  const settings = words.filter((w) => !w.startsWith('-') && !w.startsWith('bin:'))
  const env = Object.fromEntries(settings.map((w) => w.split(/=(.*)/s)))
  return { name, launcher, flags: words.filter((w) => w.startsWith('-')), env: env as Record<string, string> }
})

const keys = generateSigningKeyPair()
const signing = { BACKUP_SIGNING_KEY: keys.secretKeyFile, BACKUP_SIGNING_PUBLIC_KEYS: keys.publicKeyFile }
const out = resolve('bench/out-memory')
const store = join(out, 'store')
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
assertGnuTime()

const postgres = await startThrowawayPostgres()
try {
  const admin = new pg.Client({ connectionString: postgres.url })
  admin.on('error', () => {})
  await admin.connect()
  await admin.query('CREATE DATABASE memsrc')
  await admin.end()
  const source = new pg.Client({ connectionString: postgres.urlFor('memsrc') })
  source.on('error', () => {})
  await source.connect()
  await source.query(`CREATE SCHEMA million;
    CREATE TABLE million.readings (id bigint PRIMARY KEY, device uuid, at timestamptz, value numeric, note text);
    INSERT INTO million.readings
    SELECT g, md5(g::text)::uuid, timestamptz '2026-01-01' + g * interval '1 second', g * 0.001, 'reading ' || g
    FROM generate_series(1, ${rows}) g;`)
  await source.end()
  const base = { ...signing, BACKUP_STORE: `file://${store}`, NODE_OPTIONS: '' }
  const run = (
    variant: (typeof variants)[number],
    job: string,
    argv: string[],
    env: Record<string, string>,
  ) =>
    measure(process.execPath, [...variant.flags, resolve(variant.launcher), job, ...argv], {
      ...base,
      ...variant.env,
      ...env,
    })
  // One backup to restore and verify from.
  await run(variants[0]!, 'backup', ['--json', '--quiet'], { DATABASE_URL: postgres.urlFor('memsrc') })
  console.log(`${rows} rows; load average ${loadavg()[0]!.toFixed(1)} at the start`)
  console.log('| variant | job | peak RSS MB (max, median) | wall s (median) | CPU s (median) |')
  console.log('| --- | --- | ---: | ---: | ---: |')
  for (const job of jobs) {
    for (const variant of variants) {
      const samples = []
      for (let i = 0; i < runs; i++) {
        if (job === 'backup') {
          samples.push(
            await run(variant, 'backup', ['--json', '--quiet'], {
              DATABASE_URL: postgres.urlFor('memsrc'),
              BACKUP_STORE: `file://${join(out, `store-${i}`)}`,
            }),
          )
          rmSync(join(out, `store-${i}`), { recursive: true, force: true })
        } else if (job === 'restore') {
          const client = new pg.Client({ connectionString: postgres.url })
          client.on('error', () => {})
          await client.connect()
          await client.query('DROP DATABASE IF EXISTS memdst')
          await client.query('CREATE DATABASE memdst')
          await client.end()
          samples.push(
            await run(variant, 'restore', ['latest', '--create-schema', '--json', '--quiet'], {
              TARGET_DATABASE_URL: postgres.urlFor('memdst'),
            }),
          )
        } else {
          samples.push(await run(variant, 'verify', ['latest', '--json', '--quiet'], {}))
        }
      }
      const rss = samples.map((s) => s.peakRssMb)
      console.log(
        `| ${variant.name} | ${job} | ${Math.max(...rss)}, ${median(rss)} | ${median(samples.map((s) => s.seconds)).toFixed(2)} | ${median(samples.map((s) => s.cpuSeconds)).toFixed(2)} |`,
      )
    }
  }
  console.log(`load average ${loadavg()[0]!.toFixed(1)} at the end`)
} finally {
  await postgres.stop()
  rmSync(out, { recursive: true, force: true })
}
