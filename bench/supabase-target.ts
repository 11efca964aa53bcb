// Benchmark: the same Supabase-shaped backup restored into a new Supabase project (the
// Supabase target mode, as postgres) and into an empty database on the same server with
// --target-kind postgres --create-schema (as the superuser), alternating, several rounds.
// `npx tsx bench/supabase-target.ts [--users 50000] [--messages 500000] [--rounds 3]`.
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import pg from 'pg'
import { minimist } from 'zx'
import { signingEnv } from '../test/helpers/signing.ts'
import { createSupabaseApp } from '../test/helpers/supabase/app.ts'
import { startSupabaseCluster } from '../test/helpers/supabase/cluster.ts'
import { createSupabaseProject } from '../test/helpers/supabase/project.ts'

const args = minimist(process.argv.slice(2), { string: ['users', 'messages', 'rounds', 'major'] })
const users = Number(args.users ?? 50_000)
const messages = Number(args.messages ?? 500_000)
const rounds = Number(args.rounds ?? 3)
const out = resolve('bench/out/supabase')

function job(argv: string[], env: Record<string, string>): Promise<number> {
  return new Promise((done, fail) => {
    const began = process.hrtime.bigint()
    const child = spawn(process.execPath, ['bin/lifeboat.js', ...argv], {
      env: { ...process.env, ...signingEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.on('exit', (code) => {
      const seconds = Number(process.hrtime.bigint() - began) / 1e9
      // With --json the summary's phases say where the time went.
      const phases = stdout.includes('"phases"') ? JSON.parse(stdout.trim().split('\n').at(-1)!).phases : []
      const line = (phases as { phase: string; seconds: number }[]).map(
        (p) => `${p.phase} ${p.seconds.toFixed(2)}`,
      )
      if (line.length > 0)
        console.error(`  ${argv.includes('postgres') ? 'plain' : 'supabase'}: ${line.join(', ')}`)
      if (code === 0) done(seconds)
      else fail(new Error(`lifeboat ${argv.join(' ')} exited ${code}: ${stderr.slice(-1500)}`))
    })
  })
}

async function run(url: string, text: string, params: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => {})
  await client.connect()
  try {
    await client.query(text, params)
  } finally {
    await client.end()
  }
}

/** Bulk rows: users as Auth writes them (the trigger makes profiles), objects, messages. */
async function fill(project: Awaited<ReturnType<typeof createSupabaseProject>>): Promise<void> {
  await run(
    project.urlAs('supabase_auth_admin'),
    `INSERT INTO auth.users (instance_id, id, aud, role, email, raw_user_meta_data, created_at, updated_at)
     SELECT '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
            'bulk' || i || '@example.com', jsonb_build_object('full_name', 'Bulk ' || i), now(), now()
     FROM generate_series(1, $1::int) AS i`,
    [users],
  )
  await run(
    project.adminUrl,
    `INSERT INTO storage.objects (bucket_id, name, owner_id, metadata)
     SELECT 'avatars', 'bulk/' || id || '.png', id::text, '{"size":2048}' FROM auth.users WHERE email LIKE 'bulk%'`,
  )
  await run(
    project.postgresUrl,
    `INSERT INTO public.messages (profile_id, body)
     SELECT p.id, 'message ' || g FROM generate_series(1, $1::int) AS g
     JOIN LATERAL (SELECT id FROM public.profiles OFFSET (g % 1000) LIMIT 1) AS p ON true`,
    [messages],
  )
}

rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
const cluster = await startSupabaseCluster({ major: Number(args.major ?? 15) as 15 | 17 })
try {
  const source = await createSupabaseProject(cluster, { label: 'bench_src' })
  await createSupabaseApp(source)
  console.error(`filling ${users} users, ${messages} messages …`)
  await fill(source)
  const store = `file://${join(out, 'store')}`
  const backupSeconds = await job(['backup', '--quiet'], {
    DATABASE_URL: source.postgresUrl,
    BACKUP_STORE: store,
  })
  console.error(`backup: ${backupSeconds.toFixed(2)} s`)
  const times = { supabase: [] as number[], plain: [] as number[] }
  const intoProject = async (round: number) => {
    const project = await createSupabaseProject(cluster, { label: `bench_tgt${round}` })
    const flags = ['--quiet', '--json', '--target', project.postgresUrl]
    times.supabase.push(await job(['restore', 'latest', ...flags], { BACKUP_STORE: store }))
  }
  const intoPlain = async (round: number) => {
    await run(cluster.adminUrl, `CREATE DATABASE bench_plain${round}`)
    const url = new URL(cluster.adminUrl)
    url.pathname = `/bench_plain${round}`
    const flags = [
      '--target-kind',
      'postgres',
      '--create-schema',
      '--quiet',
      '--json',
      '--target',
      url.toString(),
    ]
    times.plain.push(await job(['restore', 'latest', ...flags], { BACKUP_STORE: store }))
  }
  for (let round = 0; round < rounds; round++) {
    // Alternating which goes first, so a machine that speeds up or slows down favours neither.
    const order = round % 2 === 0 ? [intoProject, intoPlain] : [intoPlain, intoProject]
    for (const restore of order) await restore(round)
    console.error(
      `round ${round + 1}: supabase ${times.supabase.at(-1)!.toFixed(2)} s, plain ${times.plain.at(-1)!.toFixed(2)} s`,
    )
  }
  const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!
  console.log(`| restore of the same backup (${users} users, ${messages} messages) | median s | runs |`)
  console.log('| --- | ---: | --- |')
  console.log(
    `| into a new Supabase project (auto, as postgres) | ${median(times.supabase).toFixed(2)} | ${times.supabase.map((s) => s.toFixed(2)).join(', ')} |`,
  )
  console.log(
    `| into an empty database, --target-kind postgres --create-schema | ${median(times.plain).toFixed(2)} | ${times.plain.map((s) => s.toFixed(2)).join(', ')} |`,
  )
} finally {
  await cluster.stop()
}
