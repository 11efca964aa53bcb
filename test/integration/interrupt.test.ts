// Ctrl-C in the middle of the work: the job rolls back and cleans up after itself,
// says so, and exits 130 — no partial object in the store, no temp folder, an
// unchanged target, no session left on the source.
import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FileStore } from '../../lib/adapters/store/file-store.ts'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'
import { signingEnv } from '../helpers/signing.ts'
import { backupOf, fingerprint, folderStore, tempFolder } from './restore-fixtures.ts'

const TABLES = 150
let source: { name: string; url: string }
let store: FileStore
const created: string[] = []

/** Many tables, so the job is still busy when the first one is reported done. */
async function manyTables(url: string): Promise<void> {
  const statements = Array.from(
    { length: TABLES },
    (_, i) =>
      `CREATE TABLE public.t${i} (id bigint PRIMARY KEY, note text NOT NULL);
       INSERT INTO public.t${i} SELECT g, repeat('x', 200) || g FROM generate_series(1, 3000) g;`,
  )
  await sql(url, statements.join('\n'))
}

interface Running {
  child: ChildProcess
  stderr: () => string
  exit: Promise<number>
}

function start(script: string, args: string[], env: Record<string, string>): Running {
  let stderr = ''
  const child = spawn(process.execPath, ['--import', 'tsx', resolve('jobs', `${script}.ts`), ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CI: 'true', ...signingEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  child.stdout!.resume()
  const exit = new Promise<number>((done) =>
    child.once('exit', (code, signal) => done(code ?? (signal ? 128 : 1))),
  )
  return { child, stderr: () => stderr, exit }
}

/** Sends SIGINT once the job has finished its first table, so it is mid-way through the rest. */
async function interruptAfterFirstTable(run: Running): Promise<number> {
  const deadline = Date.now() + 90_000
  while (!/public\.t\d+: [\d,]+ rows/.test(run.stderr())) {
    if (Date.now() > deadline) throw new Error(`the job never reported a table:\n${run.stderr()}`)
    await new Promise((r) => setTimeout(r, 20))
  }
  run.child.kill('SIGINT')
  return run.exit
}

beforeAll(async () => {
  source = await createDatabase('interrupt_src')
  await manyTables(source.url)
  store = folderStore()
})
afterAll(async () => {
  await Promise.all([source.name, ...created].map(dropDatabase))
})

/**
 * The backup's sessions still open on the server, once they are gone or `ms` have passed:
 * a backend learns that its client went away a moment after the client has exited.
 */
async function backupSessionsAfter(ms: number): Promise<number> {
  const deadline = Date.now() + ms
  for (;;) {
    const sessions = await sql(
      source.url,
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'lifeboat backup'`,
    )
    const open = sessions.rows[0].n as number
    if (open === 0 || Date.now() > deadline) return open
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('an interrupted backup', () => {
  it('exits 130 saying so, and leaves nothing in the store, no temp folder and no session', {
    timeout: 180_000,
  }, async () => {
    const empty = folderStore()
    const temp = tempFolder('interrupt-backup-temp')
    const run = start('backup', ['-j', '1'], {
      DATABASE_URL: source.url,
      BACKUP_STORE: `file://${empty.location}`,
      LIFEBOAT_TEMP_DIR: temp,
    })
    expect(await interruptAfterFirstTable(run)).toBe(130)
    expect(run.stderr()).toMatch(
      /INTERRUPTED: interrupted during export; the partial archive and temporary files were removed/,
    )
    // The run itself is recorded (audit trail, failure count); no archive, whole or partial.
    const stored = readdirSync(empty.location, { recursive: true }).map(String)
    expect(stored.filter((path) => path.startsWith('database-backups/'))).toEqual([])
    expect(stored.some((path) => path.startsWith('audit/'))).toBe(true)
    expect(readdirSync(temp)).toEqual([])
    expect(await backupSessionsAfter(5_000)).toBe(0)
  })
})

describe('an interrupted restore', () => {
  it('exits 130 saying so, the target unchanged and no temp folder left', { timeout: 180_000 }, async () => {
    const backup = await backupOf(source.url, store)
    const target = await createDatabase('interrupt_target')
    created.push(target.name)
    const before = await fingerprint(target.url)
    const temp = tempFolder('interrupt-restore-temp')
    const run = start('restore', [backup.id, '--create-schema'], {
      TARGET_DATABASE_URL: target.url,
      BACKUP_STORE: `file://${store.location}`,
      LIFEBOAT_TEMP_DIR: temp,
    })
    expect(await interruptAfterFirstTable(run)).toBe(130)
    expect(run.stderr()).toMatch(
      /INTERRUPTED: interrupted while loading public\.t\d+; rolled back, the target is unchanged/,
    )
    expect(await fingerprint(target.url)).toEqual(before)
    expect(readdirSync(temp)).toEqual([])
  })
})
