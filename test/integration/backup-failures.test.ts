// Bad input gets a one-line error naming the problem, the documented exit code,
// no secret in the output, and nothing that looks like a complete backup.
import { mkdtempSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { freePort } from '../../lib/adapters/postgres/throwaway.ts'
import { openStore } from '../../lib/adapters/store/open-store.ts'
import { listInventory } from '../../lib/inventory/read-inventory.ts'
import { createDatabase, dropDatabase, sql, withClient } from '../helpers/database.ts'
import { type JobRun, runJobProcess } from '../helpers/run-job.ts'
import { s3Env } from '../helpers/s3-server.ts'

let source: { name: string; url: string }

beforeAll(async () => {
  source = await createDatabase('backup_fail')
  await sql(
    source.url,
    `CREATE TABLE items AS SELECT g AS id, md5(g::text) AS body FROM generate_series(1, 2000) g`,
  )
})
afterAll(async () => dropDatabase(source.name))

function folder(): string {
  return mkdtempSync(join(resolve('.tmp'), 'store-'))
}

/** The job's error is exactly one stderr line that names the code. */
function errorLine(run: JobRun): string {
  const lines = run.stderr.split('\n').filter((l) => l.startsWith('lifeboat backup: error'))
  expect(lines, run.stderr).toHaveLength(1)
  return lines[0]!
}

function withPassword(url: string, password: string): string {
  const u = new URL(url)
  u.password = password
  return u.toString()
}

describe('bad input', () => {
  it('names both missing settings at once and exits 2', async () => {
    const run = await runJobProcess('backup', [], {})
    expect(run.code).toBe(2)
    const line = errorLine(run)
    expect(line).toContain('CONFIG_MISSING')
    expect(line).toContain('DATABASE_URL or SUPABASE_DB_URL (or PGHOST, PGDATABASE, PGSERVICE) is not set')
    expect(line).toContain('BACKUP_STORE or --store is not set')
  })

  it('rejects an unknown option as bad usage', async () => {
    const run = await runJobProcess('backup', ['--frobnicate'], {
      DATABASE_URL: source.url,
      BACKUP_STORE: folder(),
    })
    expect(run.code).toBe(2)
    expect(errorLine(run)).toContain('USAGE')
  })

  it('names a temp folder that does not exist as a configuration error (exit 2), claiming no id', async () => {
    const store = folder()
    const missing = join(folder(), 'no-such-folder')
    const run = await runJobProcess('backup', ['--json', '--temp-dir', missing], {
      DATABASE_URL: source.url,
      BACKUP_STORE: store,
    })
    expect(run.code).toBe(2)
    expect(errorLine(run)).toContain(
      `error CONFIG_INVALID: the temp folder ${missing} (LIFEBOAT_TEMP_DIR) cannot be used`,
    )
    expect(run.stderr).not.toMatch(/\n\s+at /)
    // Not a failed run: no alert, no count (docs/alerts.md).
    expect(run.json).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID', usage: true } })
    expect(await listInventory(openStore({ url: `file://${store}` }))).toEqual([])
  })

  it('reports an unreachable database without printing its password', async () => {
    const port = await freePort()
    const store = folder()
    const run = await runJobProcess('backup', [], {
      DATABASE_URL: `postgresql://app:s3cret-pw-123@127.0.0.1:${port}/app`,
      BACKUP_STORE: store,
    })
    expect(run.code).toBe(1)
    expect(errorLine(run)).toContain('DB_UNREACHABLE')
    expect(run.stderr + run.stdout).not.toContain('s3cret-pw-123')
    expect(readdirSync(store)).not.toContain('database-backups')
  })

  it('reports a wrong password as a refused login, without echoing it', async () => {
    const run = await runJobProcess('backup', [], {
      DATABASE_URL: withPassword(source.url, 'wrong-password-xyz'),
      BACKUP_STORE: folder(),
    })
    expect(run.code).toBe(1)
    expect(errorLine(run)).toContain('DB_AUTH')
    expect(run.stderr).not.toContain('wrong-password-xyz')
  })

  it('refuses the transaction pooler before connecting', async () => {
    const run = await runJobProcess('backup', [], {
      DATABASE_URL:
        'postgresql://postgres.abcdef:pw-secret-77@aws-0-eu-central-1.pooler.supabase.com:6543/postgres',
      BACKUP_STORE: folder(),
    })
    expect(run.code).toBe(2)
    expect(errorLine(run)).toContain('DB_POOLER_TRANSACTION')
    expect(run.stderr).not.toContain('pw-secret-77')
  })

  it('reports an unreachable store', async () => {
    const port = await freePort()
    const run = await runJobProcess('backup', [], {
      DATABASE_URL: source.url,
      ...s3Env(`http://127.0.0.1:${port}`, 'nowhere'),
    })
    expect(run.code).toBe(1)
    expect(errorLine(run)).toContain('STORE_UNREACHABLE')
  })

  it('reports a store that refuses the credentials, leaving nothing behind', async () => {
    const env = { DATABASE_URL: source.url, ...s3Env(inject('s3Endpoint'), 'forbidden') }
    const run = await runJobProcess('backup', [], {
      ...env,
      AWS_ACCESS_KEY_ID: 'NOT-A-KEY',
      AWS_SECRET_ACCESS_KEY: 'secret-key-that-must-not-print',
    })
    expect(run.code).toBe(1)
    expect(errorLine(run)).toContain('STORE_FORBIDDEN')
    expect(run.stderr).not.toContain('secret-key-that-must-not-print')
  })

  it('fails loudly when row level security would hide rows, and leaves no complete backup', async () => {
    await withClient(source.url, async (client) => {
      await client.query(`CREATE TABLE secrets (id int PRIMARY KEY, owner text)`)
      await client.query(`INSERT INTO secrets VALUES (1, 'a'), (2, 'b')`)
      await client.query(`ALTER TABLE secrets ENABLE ROW LEVEL SECURITY`)
      await client.query(`CREATE POLICY only_a ON secrets USING (owner = 'a')`)
      await client.query(`DROP ROLE IF EXISTS limited_reader`)
      await client.query(`CREATE ROLE limited_reader LOGIN PASSWORD 'limited-pw-42'`)
      await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO limited_reader`)
    })
    const store = folder()
    const run = await runJobProcess('backup', [], {
      DATABASE_URL: withPassword(source.url, 'limited-pw-42').replace('//postgres:', '//limited_reader:'),
      BACKUP_STORE: store,
    })
    expect(run.code).toBe(1)
    expect(errorLine(run)).toContain('DB_PERMISSION')
    expect(errorLine(run)).toContain('secrets')
    const inventory = await listInventory(openStore({ url: `file://${store}` }))
    expect(inventory.filter((b) => b.complete)).toEqual([])
    expect(inventory).toEqual([])
  })
})
