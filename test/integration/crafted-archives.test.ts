// An attacker who can write to the bucket but holds no key: forged schema.sql with every
// hash recomputed, an archive encrypted to the public recipient. Verify, restore, the
// drill and the DR test refuse it, name the signature (or, with --allow-unsigned, the
// statement), and write nothing. Also: the target recognised however it is spelled,
// and one restore at a time.
import { execFileSync, spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FileStore } from '../../lib/adapters/store/file-store.ts'
import { tarEnd, tarHeader, tarPadding } from '../../lib/archive/tar-blocks.ts'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'
import { forgeStoredBackup } from '../helpers/forge.ts'
import { alertEnv, type HttpReceiver, startSlackReceiver } from '../helpers/receivers.ts'
import { type JobRun, runJobProcess } from '../helpers/run-job.ts'
import { backupOf, fingerprint, folderStore, tempFolder } from './restore-fixtures.ts'

let source: { name: string; url: string }
let slack: HttpReceiver
const created: string[] = []

async function emptyTarget(label: string): Promise<string> {
  const db = await createDatabase(label)
  created.push(db.name)
  return db.url
}

/** A signed backup of the source in a fresh folder store, then forged as `append` says. */
async function forgedStore(append: string, options: { encryptTo?: string; keepSignature?: boolean } = {}) {
  const store = folderStore()
  const backup = await backupOf(source.url, store)
  forgeStoredBackup(store.location, backup.id, { appendSchema: append, ...options })
  return { store, id: backup.id, env: { BACKUP_STORE: `file://${store.location}` } }
}

function lastLine(run: JobRun): string {
  return run.stderr.trim().split('\n').at(-1) ?? ''
}

beforeAll(async () => {
  source = await createDatabase('crafted_src')
  await sql(
    source.url,
    `CREATE TABLE public.accounts (id bigint PRIMARY KEY, owner text NOT NULL);
     INSERT INTO public.accounts SELECT g, 'owner ' || g FROM generate_series(1, 50) g;
     CREATE TABLE public.events (at timestamptz NOT NULL, note text);
     INSERT INTO public.events SELECT '2026-01-01'::timestamptz + g * interval '1 hour', 'e' || g FROM generate_series(1, 40) g;`,
  )
  slack = await startSlackReceiver()
})
afterAll(async () => {
  await slack?.close()
  await Promise.all([source.name, ...created].map(dropDatabase))
})

describe('a forged backup (schema.sql changed, every hash recomputed)', () => {
  const attack = 'DROP TABLE public.accounts;'

  it('is refused by restore with SIGNATURE_INVALID when the old signature is left beside it', async () => {
    const forged = await forgedStore(attack, { keepSignature: true })
    const target = await emptyTarget('crafted_invalid')
    const before = await fingerprint(target)
    const run = await runJobProcess('restore', ['latest', '--create-schema', '--target', target], forged.env)
    expect(run.code).toBe(1)
    expect(lastLine(run)).toContain('SIGNATURE_INVALID')
    expect(await fingerprint(target)).toEqual(before)
  })

  it('is refused by restore with SIGNATURE_MISSING when the signature is removed', async () => {
    const forged = await forgedStore(attack)
    const target = await emptyTarget('crafted_missing')
    const run = await runJobProcess('restore', ['latest', '--create-schema', '--target', target], forged.env)
    expect(run.code).toBe(1)
    expect(lastLine(run)).toContain('SIGNATURE_MISSING')
  })

  it('is refused when encrypted to the public recipient alone', async () => {
    const identity = execFileSync('age-keygen').toString()
    const recipient = /public key: (age1\w+)/.exec(identity)![1]!
    const forged = await forgedStore(attack, { encryptTo: recipient })
    const target = await emptyTarget('crafted_encrypted')
    const run = await runJobProcess('restore', ['latest', '--create-schema', '--target', target], {
      ...forged.env,
      BACKUP_AGE_IDENTITY: identity,
    })
    expect(run.code).toBe(1)
    expect(lastLine(run)).toContain('SIGNATURE_MISSING')
  })

  it('fails backup:verify, naming the signature', async () => {
    const forged = await forgedStore(attack, { keepSignature: true })
    const run = await runJobProcess('verify', ['latest'], forged.env)
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/signature/i)
  })

  it('fails the drill, which alerts a failure', async () => {
    const forged = await forgedStore(attack, { keepSignature: true })
    const seen = slack.requests.length
    const run = await runJobProcess('drill', ['--seed', 'x'], { ...forged.env, ...alertEnv({ slack }) })
    expect(run.code).toBe(1)
    expect(lastLine(run)).toContain('SIGNATURE_INVALID')
    await slack.waitFor(seen + 1)
    expect(JSON.stringify(slack.requests.at(-1)!.json)).toMatch(/FAILED/)
  })

  it('fails the DR test', async () => {
    const forged = await forgedStore(attack, { keepSignature: true })
    const run = await runJobProcess('dr-test', [], forged.env)
    expect(run.code).toBe(1)
    expect(lastLine(run)).toContain('SIGNATURE_INVALID')
  })
})

describe('statements that would escape the restore, with --allow-unsigned', () => {
  const attacks = [
    'COMMIT;',
    'COMMIT AND CHAIN;',
    'END;',
    'ROLLBACK;',
    'SAVEPOINT s; RELEASE SAVEPOINT s;',
    "COPY (SELECT 1) TO PROGRAM 'touch /tmp/lifeboat-pwned';",
    'ALTER ROLE postgres SUPERUSER;',
    'CREATE ROLE intruder SUPERUSER LOGIN;',
  ]

  it.each(attacks)('refuses %s before the first write', async (attack) => {
    const forged = await forgedStore(`-- lifeboat:post-data\n${attack}`)
    const target = await emptyTarget('crafted_stmt')
    const before = await fingerprint(target)
    const run = await runJobProcess(
      'restore',
      ['latest', '--create-schema', '--allow-unsigned', '--target', target],
      forged.env,
    )
    expect(run.code).toBe(1)
    expect(lastLine(run)).toContain('SCHEMA_SQL_REFUSED')
    expect(await fingerprint(target)).toEqual(before)
  })
})

describe('the target recognised by what it is', () => {
  let store: FileStore
  beforeAll(async () => {
    store = folderStore()
    await backupOf(source.url, store)
  })

  const spellings = (url: URL) => {
    const at = (host: string) => {
      const copy = new URL(url)
      copy.hostname = host
      return copy.toString()
    }
    const alias = new URL(url)
    alias.hostname = 'db-alias.invalid'
    alias.port = '5432'
    alias.searchParams.set('host', '127.0.0.1')
    alias.searchParams.set('port', url.port)
    return [alias.toString(), at('127.1'), at('2130706433'), at('[::ffff:127.0.0.1]')]
  }

  it('refuses every spelling of the source as target (TARGET_PROTECTED), the source unchanged', async () => {
    const before = await fingerprint(source.url)
    const url = new URL(source.url.replace('localhost', '127.0.0.1'))
    for (const target of spellings(url)) {
      const run = await runJobProcess('restore', ['latest', '--truncate', '--target', target], {
        BACKUP_STORE: `file://${store.location}`,
        DATABASE_URL: url.toString(),
      })
      expect(run.code, `${target}: ${lastLine(run)}`).toBe(2)
      expect(lastLine(run)).toContain('TARGET_PROTECTED')
    }
    expect(await fingerprint(source.url)).toEqual(before)
  })
})

describe('two restores at once into one target', () => {
  it('lets one restore and refuses the other: no row twice', async () => {
    const store = folderStore()
    await backupOf(source.url, store)
    const target = await emptyTarget('crafted_twice')
    await sql(
      target,
      `CREATE TABLE public.accounts (id bigint PRIMARY KEY, owner text NOT NULL);
       CREATE TABLE public.events (at timestamptz NOT NULL, note text);`,
    )
    const env = { BACKUP_STORE: `file://${store.location}`, LIFEBOAT_TEMP_DIR: tempFolder('twice') }
    const runs = await Promise.all([
      runJobProcess('restore', ['latest', '--target', target], env),
      runJobProcess('restore', ['latest', '--target', target], env),
    ])
    const codes = runs.map((r) => r.code).sort()
    expect(codes, runs.map(lastLine).join('\n')).toEqual([0, 1])
    expect(lastLine(runs.find((r) => r.code === 1)!)).toMatch(/TARGET_BUSY|TARGET_NOT_EMPTY/)
    const { rows } = await sql(target, 'SELECT count(*)::int AS n FROM public.events')
    expect(rows[0].n).toBe(40)
  })
})

describe('a decompression bomb in the metadata', () => {
  const MiB = 1024 * 1024

  /** A 2 MB .tar.gz whose `file` inflates to 2 GiB of spaces (gzip members concatenate). */
  function bomb(file: string): string {
    const id = 'backup-2026-01-01T000000Z'
    const path = `${tempFolder('bomb')}/${id}.tar.gz`
    const inflated = 2 * 1024 * MiB
    const block = gzipSync(Buffer.alloc(64 * MiB, 0x20), { level: 9 })
    const header = gzipSync(tarHeader({ path: `${id}/${file}`, size: inflated, mtime: new Date(0) }))
    const parts = [header, ...Array.from({ length: inflated / (64 * MiB) }, () => block)]
    parts.push(gzipSync(Buffer.concat([tarPadding(inflated), tarEnd()])))
    writeFileSync(path, Buffer.concat(parts))
    return path
  }

  it.each(['manifest.json', 'SHA256SUMS'])('in %s is refused under 200 MB peak RSS', async (file) => {
    const target = await emptyTarget('crafted_bomb')
    const run = await runWithPeakRss('restore', [bomb(file), '--allow-unsigned', '--target', target])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('METADATA_TOO_LARGE')
    expect(run.peakRssMb).toBeLessThan(200)
  })
})

/** Runs a job and samples its resident memory high-water mark (VmHWM) until it exits. */
async function runWithPeakRss(
  script: string,
  args: string[],
): Promise<{ code: number; stderr: string; peakRssMb: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve('jobs', `${script}.ts`), ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CI: 'true' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  let peak = 0
  const timer = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
      peak = Math.max(peak, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0))
    } catch {}
  }, 20)
  const code = await new Promise<number>((done) => child.once('exit', (c) => done(c ?? 1)))
  clearInterval(timer)
  return { code, stderr, peakRssMb: peak / 1024 }
}
