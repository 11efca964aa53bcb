// lifeboat show: what is inside a backup, from its sidecar alone. A proxy in front of the
// S3 API counts the store reads: one listing and the sidecar, never the archive.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type CountingProxy, startCountingProxy } from '../helpers/counting-proxy.ts'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { s3Env } from '../helpers/s3-server.ts'

let db: { name: string; url: string }
let proxy: CountingProxy
let env: Record<string, string>
let backupId: string

beforeAll(async () => {
  db = await createDatabase('show')
  await sql(
    db.url,
    `CREATE TABLE public.customers (id int PRIMARY KEY, name text);
     CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int REFERENCES public.customers (id), total numeric);
     CREATE TABLE public.events (at timestamptz, what text);
     INSERT INTO public.customers SELECT g, 'c' || g FROM generate_series(1, 40) g;
     INSERT INTO public.orders SELECT g, 1 + g % 40, g * 1.5 FROM generate_series(1, 300) g;
     INSERT INTO public.events SELECT now(), 'e' FROM generate_series(1, 7);`,
  )
  proxy = await startCountingProxy(inject('s3Endpoint'))
  env = s3Env(proxy.endpoint, `show-${randomBytes(4).toString('hex')}`)
  const backup = await runJobProcess('backup', ['--json', '--quiet'], { ...env, DATABASE_URL: db.url })
  expect(backup.code, backup.stderr).toBe(0)
  backupId = String(backup.json?.id)
  // One table of the backup references another that is left out of a second backup.
  const partial = await runJobProcess('backup', ['--json', '--quiet', '-t', 'public.orders'], {
    ...env,
    DATABASE_URL: db.url,
  })
  expect(partial.code, partial.stderr).toBe(0)
})

afterAll(async () => {
  await proxy?.close()
  await dropDatabase(db.name)
})

describe('lifeboat show', () => {
  it('lists every table with its rows from the sidecar, reading no archive', async () => {
    proxy.requests.length = 0
    const run = await runJobProcess('show', [backupId, '--json'], env)
    expect(run.code, run.stderr).toBe(0)
    const tables = run.json?.tables as { table: string; rows: number; sha256: string }[]
    expect(tables.map((t) => [t.table, t.rows])).toEqual([
      ['public.customers', 40],
      ['public.events', 7],
      ['public.orders', 300],
    ])
    expect(tables.every((t) => /^[0-9a-f]{64}$/.test(t.sha256))).toBe(true)
    expect(run.json).toMatchObject({
      id: backupId,
      encrypted: false,
      source: { kind: 'postgres', consistent: true },
      schema: { tables: 3, primaryKeys: 2, foreignKeys: 1 },
      totals: { tables: 3, rows: 347 },
    })
    expect(String(run.json?.source && (run.json.source as { serverVersion: string }).serverVersion)).toMatch(
      /^\d+/,
    )
    const gets = proxy.requests.filter((r) => r.startsWith('GET'))
    expect(gets.filter((r) => /\.tar\.gz/.test(r))).toEqual([])
    expect(gets.filter((r) => r.includes('.manifest.json'))).toHaveLength(1)
    expect(proxy.requests.filter((r) => r.startsWith('HEAD') || r.startsWith('PUT'))).toEqual([])
    // The AWS SDK's multi-line notice for Node 20 is switched off the way the SDK documents.
    expect(run.stderr).not.toContain('NodeVersionSupportWarning')
  })

  it('names the structural facts a restore will meet', async () => {
    const run = await runJobProcess('show', ['latest'], env)
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^backup backup-\S+ {2}s3:\/\//)
    expect(run.stdout).toContain('1 table, 300 rows')
    expect(run.stdout).toContain(
      'warning: public.orders references public.customers (orders_customer_id_fkey), which is not in this backup',
    )
    const full = await runJobProcess('show', [backupId], env)
    expect(full.stdout).toContain('warning: 1 table without a primary key')
    expect(full.stdout).toMatch(/public\.orders\s+300\s+[\d.]+ KiB\s+[0-9a-f]{16}/)
  })

  it('refuses a local file and an unknown id', async () => {
    expect((await runJobProcess('show', ['./backup.tar.gz'], env)).code).toBe(2)
    const missing = await runJobProcess('show', ['backup-2020-01-01T000000Z'], env)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('BACKUP_NOT_FOUND')
  })
})
