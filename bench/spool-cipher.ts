// Benchmark: what encrypting the temp files of an encrypted backup costs. Backs up one
// million realistic rows three ways into a folder store, alternating, `--runs` times each:
// plain, age-encrypted (temp files encrypted with the ephemeral key), and reports seconds.
// `npx tsx bench/spool-cipher.ts [--rows 1000000] [--runs 3]`
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { generateIdentity, identityToRecipient } from 'age-encryption'
import pg from 'pg'
import { minimist } from 'zx'
import { encryptStream } from '../lib/adapters/crypto/age.ts'
import { startThrowawayPostgres } from '../lib/adapters/postgres/throwaway.ts'
import { FileStore } from '../lib/adapters/store/file-store.ts'
import { runBackup } from '../lib/backup/postgres-source.ts'
import { Secret } from '../lib/core/secret.ts'
import { selectEverything } from '../lib/core/selection.ts'

const args = minimist(process.argv.slice(2), { string: ['rows', 'runs'] })
const rows = Number(args.rows ?? 1_000_000)
const runs = Number(args.runs ?? 3)
const work = resolve('bench/out/spool-cipher')

const server = await startThrowawayPostgres()
try {
  const client = new pg.Client({ connectionString: server.url })
  await client.connect()
  await client.query(`CREATE TABLE public.events (
      id bigint PRIMARY KEY, at timestamptz NOT NULL, user_id int NOT NULL,
      amount numeric(12,2) NOT NULL, kind text NOT NULL, note text)`)
  await client.query(
    `INSERT INTO public.events SELECT g, '2026-01-01'::timestamptz + g * interval '1 second', g % 5000,
       (g % 100000) / 100.0, (ARRAY['click','view','buy','refund'])[1 + g % 4], md5(g::text)
     FROM generate_series(1, $1) g`,
    [rows],
  )
  await client.end()
  const recipient = await identityToRecipient(await generateIdentity())
  const timings: Record<string, number[]> = { plain: [], encrypted: [] }
  for (let run = 0; run < runs; run++) {
    for (const variant of ['plain', 'encrypted'] as const) {
      const dir = mkdtempSync(join(work, `${variant}-`))
      mkdirSync(join(dir, 'store'))
      const began = performance.now()
      await runBackup(
        {
          store: new FileStore(join(dir, 'store')),
          emit: () => {},
          now: () => new Date(),
          tempDir: dir,
          ...(variant === 'encrypted' ? { encrypt: () => encryptStream([recipient]) } : {}),
        },
        {
          source: new Secret(server.url),
          sourceSetting: 'DATABASE_URL',
          selection: selectEverything,
          jobs: 1,
          gzipLevel: 6,
        },
      )
      timings[variant]!.push((performance.now() - began) / 1000)
      rmSync(dir, { recursive: true, force: true })
    }
  }
  for (const [variant, seconds] of Object.entries(timings)) {
    const sorted = [...seconds].sort((a, b) => a - b)
    console.log(
      `${variant}: ${sorted.map((s) => s.toFixed(2)).join(', ')} s (median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)})`,
    )
  }
} finally {
  await server.stop()
}
