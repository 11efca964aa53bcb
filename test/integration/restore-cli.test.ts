// The restore job as a person runs it: a child process with environment settings,
// exit codes, one-line errors, the printed comparison table, date selection over
// several stored backups, s3:// URLs, encrypted archives and the runbook's npm form.
import { execFile } from 'node:child_process'
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { generateIdentity, identityToRecipient } from 'age-encryption'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { encryptStream } from '../../lib/adapters/crypto/age.ts'
import { openStore } from '../../lib/adapters/store/open-store.ts'
import type { Store } from '../../lib/adapters/store/store.ts'
import { runBackup } from '../../lib/backup/postgres-source.ts'
import { readStoreConfig, SettingsReader } from '../../lib/core/config.ts'
import { Secret } from '../../lib/core/secret.ts'
import { selectEverything } from '../../lib/core/selection.ts'
import { createSampleData, SAMPLE_SCHEMA_SQL } from '../../lib/demo/sample-data.ts'
import { createDatabase, dropDatabase, sql, withClient } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { s3Env } from '../helpers/s3-server.ts'
import { signingEnv, testSigningKey } from '../helpers/signing.ts'
import { dataOnly, fingerprint, folderStore, tempFolder } from './restore-fixtures.ts'

let source: { name: string; url: string }
let env: Record<string, string>
let store: Store
const ids: string[] = []
const created: string[] = []

async function schemaTarget(label: string): Promise<string> {
  const db = await createDatabase(label)
  created.push(db.name)
  await sql(db.url, SAMPLE_SCHEMA_SQL)
  return db.url
}

/** Progress lines come first; the error itself is one line, the last. */
function errorLines(stderr: string): string[] {
  const lines = stderr.trim().split('\n')
  expect(lines.at(-1)).toMatch(/^lifeboat restore: error [A-Z_]+: /)
  return lines.filter((line) => line.includes('error'))
}

/** Backups "taken" on three days, newest last: 10, 11 and 13 January. */
const DAYS = ['2026-01-10T02:00:00Z', '2026-01-11T02:00:00Z', '2026-01-13T02:00:00Z']

beforeAll(async () => {
  source = await createDatabase('restore_cli_src')
  await withClient(source.url, (client) => createSampleData(client, { metricsRows: 500 }))
  env = s3Env(inject('s3Endpoint'), `restore-cli-${process.pid}`)
  store = openStore(readStoreConfig(new SettingsReader(env))!)
  for (const day of DAYS) {
    const at = new Date(day)
    const result = await runBackup(
      {
        store,
        emit: () => {},
        now: () => at,
        tempDir: tempFolder('cli-spool'),
        signingKey: testSigningKey(),
      },
      {
        source: new Secret(source.url),
        sourceSetting: 'DATABASE_URL',
        selection: selectEverything,
        jobs: 1,
        gzipLevel: 1,
      },
    )
    ids.push(result.id)
  }
})
afterAll(async () => {
  await Promise.all([source.name, ...created].map(dropDatabase))
})

describe('choosing the backup', () => {
  it('a date restores the newest complete backup made on or before the end of that day (UTC)', async () => {
    const target = await schemaTarget('cli_date')
    const run = await runJobProcess('restore', ['2026-01-12', '--json'], {
      ...env,
      TARGET_DATABASE_URL: target,
    })
    expect(run.code, run.stderr).toBe(0)
    expect(run.json).toMatchObject({ ok: true, id: 'backup-2026-01-11T020000Z', verified: true })
    const sameDay = await runJobProcess('restore', ['2026-01-13', '--json', '--truncate'], {
      ...env,
      TARGET_DATABASE_URL: target,
    })
    expect(sameDay.json?.id).toBe('backup-2026-01-13T020000Z')
  })

  it('a date before the first backup is a clear error (exit 1, one line)', async () => {
    const target = await schemaTarget('cli_early')
    const run = await runJobProcess('restore', ['2026-01-09'], { ...env, TARGET_DATABASE_URL: target })
    expect(run.code).toBe(1)
    expect(errorLines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toContain('BACKUP_NOT_FOUND')
    expect(run.stderr).toContain(
      'no complete backup on or before 2026-01-09; the earliest is backup-2026-01-10T020000Z',
    )
  })

  it('an impossible date is bad usage (exit 2)', async () => {
    const run = await runJobProcess('restore', ['2026-02-30'], { ...env, TARGET_DATABASE_URL: source.url })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('is not a valid date')
  })

  it('an id, latest, and an s3:// URL (also of another prefix) name backups', async () => {
    const target = await schemaTarget('cli_names')
    const byId = await runJobProcess('restore', [ids[0]!, '--json'], { ...env, TARGET_DATABASE_URL: target })
    expect(byId.json?.id).toBe(ids[0])
    const latest = await runJobProcess('restore', ['latest', '--json', '--truncate'], {
      ...env,
      TARGET_DATABASE_URL: target,
    })
    expect(latest.json?.id).toBe(ids[2])
    const url = store.locate(`database-backups/${ids[1]}.tar.gz`)
    const byUrl = await runJobProcess('restore', [url, '--json', '--truncate'], {
      ...env,
      TARGET_DATABASE_URL: target,
    })
    expect(byUrl.json?.id, byUrl.stderr).toBe(ids[1])
    // BACKUP_STORE names another prefix: the URL's own bucket/prefix is read with the same AWS settings.
    const elsewhere = { ...env, BACKUP_STORE: `${env.BACKUP_STORE}-other` }
    const other = await runJobProcess('restore', [url, '--json', '--truncate'], {
      ...elsewhere,
      TARGET_DATABASE_URL: target,
    })
    expect(other.json?.id, other.stderr).toBe(ids[1])
  })
})

describe('the job', () => {
  it('prints the comparison table and a summary; --json has per-table results and timings', async () => {
    const target = await schemaTarget('cli_table')
    const run = await runJobProcess('restore', ['latest'], { ...env, TARGET_DATABASE_URL: target })
    expect(run.code, run.stderr).toBe(0)
    const lines = run.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^table\s+rows \(backup\)\s+rows \(restored\)\s+check$/)
    expect(lines.find((l) => l.startsWith('public.metrics'))).toMatch(/^public\.metrics\s+500\s+500\s+ok$/)
    expect(lines.at(-1)).toMatch(
      /^restored backup-2026-01-13T020000Z into .* every table verified by row digest$/,
    )

    const again = await runJobProcess('restore', ['latest', '--truncate', '--json', '--no-verify'], {
      ...env,
      TARGET_DATABASE_URL: target,
    })
    expect(again.code, again.stderr).toBe(0)
    expect(again.json).toMatchObject({ ok: true, job: 'restore', verified: false, truncated: true })
    const tables = again.json!.tables as { table: string; rowsLoaded: number; sha256Match?: boolean }[]
    expect(tables.find((t) => t.table === 'public.metrics')).toMatchObject({ rowsLoaded: 500 })
    expect(tables[0]!.sha256Match).toBeUndefined()
    expect(again.json!.seconds).toMatchObject({ total: expect.any(Number), load: expect.any(Number) })
  })

  it('needs a target and never takes it from DATABASE_URL (exit 2)', async () => {
    const run = await runJobProcess('restore', ['latest'], { ...env, DATABASE_URL: source.url })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('CONFIG_MISSING')
    expect(run.stderr).toContain('TARGET_DATABASE_URL or --target is not set')
  })

  it('refuses the production database without --confirm (exit 2), without printing the password', async () => {
    const before = await fingerprint(source.url)
    const run = await runJobProcess('restore', ['latest', '--truncate'], {
      ...env,
      DATABASE_URL: source.url,
      TARGET_DATABASE_URL: source.url,
    })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('TARGET_PROTECTED')
    expect(run.stderr).toContain(`--confirm ${source.name}`)
    expect(run.stderr).not.toContain(new URL(source.url).password)
    expect(await fingerprint(source.url)).toEqual(before)
  })

  it('a damaged archive: exit 1, the failing file named, the target unchanged', async () => {
    const target = await schemaTarget('cli_damaged')
    await sql(target, `INSERT INTO public.suppliers (name, country) VALUES ('Keep', 'DE')`)
    const before = await fingerprint(target)
    const local = folderStore()
    const key = `database-backups/${ids[2]}.tar.gz`
    const tar = gunzipSync(Buffer.concat(await (await store.get(key)).toArray()))
    const at = tar.indexOf('"name":"Supplier ') + '"name":"Supplier '.length
    tar[at] = tar[at] === 0x31 ? 0x32 : 0x31
    const path = local.locate(`${ids[2]}.tar.gz`)
    await local.put(`${ids[2]}.tar.gz`, gzipSync(tar))
    const run = await runJobProcess('restore', [path, '--truncate'], { TARGET_DATABASE_URL: target })
    expect(run.code).toBe(1)
    expect(errorLines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toContain('VERIFY_FAILED')
    expect(run.stderr).toContain('data/public.suppliers.ndjson')
    expect(await fingerprint(target)).toEqual(before)
  })

  it('works in the runbook form: npm run backup:restore ./backup-2024-03-25.tar.gz (path from where npm runs)', async () => {
    const target = await schemaTarget('cli_runbook')
    const folder = tempFolder('runbook')
    const archive = join(folder, 'backup-2024-03-25.tar.gz')
    writeFileSync(
      archive,
      Buffer.concat(await (await store.get(`database-backups/${ids[0]}.tar.gz`)).toArray()),
    )
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(
        'npm',
        ['run', '--silent', 'backup:restore', './backup-2024-03-25.tar.gz'],
        {
          cwd: folder,
          env: {
            PATH: process.env.PATH!,
            HOME: process.env.HOME ?? '/root',
            TARGET_DATABASE_URL: target,
            CI: 'true',
            ...signingEnv(),
          },
        },
        (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      )
    })
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain(`restored ${ids[0]} into`)
    expect(dataOnly(await fingerprint(target))).toEqual(dataOnly(await fingerprint(source.url)))
    expect(resolve(folder)).not.toBe(resolve('.'))
  })
})

describe('encrypted archives (.tar.gz.age)', () => {
  it('decrypt in the stream on both passes with BACKUP_AGE_IDENTITY; without it, DECRYPT_FAILED', async () => {
    const identity = await generateIdentity()
    const recipient = await identityToRecipient(identity)
    const encrypted = folderStore()
    const result = await runBackup(
      {
        store: encrypted,
        emit: () => {},
        now: () => new Date(),
        tempDir: tempFolder('cli-spool'),
        signingKey: testSigningKey(),
        encrypt: () => encryptStream([recipient]),
      },
      {
        source: new Secret(source.url),
        sourceSetting: 'DATABASE_URL',
        selection: selectEverything,
        jobs: 1,
        gzipLevel: 1,
      },
    )
    expect(result.key.endsWith('.tar.gz.age')).toBe(true)
    const target = await schemaTarget('cli_age')
    const store = { BACKUP_STORE: encrypted.location, TARGET_DATABASE_URL: target }
    const missing = await runJobProcess('restore', ['latest'], store)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('DECRYPT_FAILED')
    const run = await runJobProcess('restore', ['latest', '--json'], {
      ...store,
      BACKUP_AGE_IDENTITY: identity,
    })
    expect(run.code, run.stderr).toBe(0)
    expect(run.json).toMatchObject({ id: result.id, verified: true })
    expect(run.stderr).not.toContain(identity)
    // A local copy of the encrypted archive, renamed: recognised by content.
    const copy = join(tempFolder('age-copy'), 'archive.bin')
    copyFileSync(encrypted.locate(result.key), copy)
    expect(readFileSync(copy).subarray(0, 21).toString()).toBe('age-encryption.org/v1')
    const local = await runJobProcess('restore', [copy, '--json', '--truncate'], {
      TARGET_DATABASE_URL: target,
      BACKUP_AGE_IDENTITY: identity,
    })
    expect(local.json?.id, local.stderr).toBe(result.id)
  })
})
