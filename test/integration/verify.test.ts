// backup:verify against real backups in the S3 API server: a clean pass, an archive
// re-packed with one altered data file (named), a flipped byte in an encrypted archive,
// a missing key, and --quick catching a missing sidecar and a size mismatch.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { generateIdentity, identityToRecipient } from 'age-encryption'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { openStore } from '../../lib/adapters/store/open-store.ts'
import type { Store } from '../../lib/adapters/store/store.ts'
import { archiveKey, sidecarKey } from '../../lib/archive/layout.ts'
import { readStoreConfig, SettingsReader } from '../../lib/core/config.ts'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { s3Env } from '../helpers/s3-server.ts'

let db: { name: string; url: string }
let prefixCounter = 0

beforeAll(async () => {
  db = await createDatabase('verify')
  await sql(
    db.url,
    `CREATE TABLE items AS SELECT g AS id, 'item ' || g AS name FROM generate_series(1, 300) g`,
  )
  await sql(db.url, 'ALTER TABLE items ADD PRIMARY KEY (id)')
  await sql(
    db.url,
    `CREATE TABLE notes AS SELECT g AS id, md5(g::text) AS body FROM generate_series(1, 50) g`,
  )
})
afterAll(async () => dropDatabase(db.name))

/** A fresh prefix in the S3 API server: its environment and a Store on it. */
function s3Place(): { env: Record<string, string>; store: Store } {
  const env = {
    ...s3Env(inject('s3Endpoint'), `verify-${process.pid}-${prefixCounter++}`),
    LIFEBOAT_STATE_FILE: join(mkdtempSync(join(resolve('.tmp'), 'state-')), 'status.json'),
  }
  const reader = new SettingsReader(env)
  const config = readStoreConfig(reader)
  reader.finish()
  return { env, store: openStore(config!) }
}

async function backup(env: Record<string, string>): Promise<string> {
  const run = await runJobProcess('backup', ['--json'], { DATABASE_URL: db.url, ...env })
  expect(run.code, run.stderr).toBe(0)
  return run.json!.id as string
}

async function download(store: Store, key: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of await store.get(key)) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks)
}

const later = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString()

describe('backup:verify (full)', () => {
  it('passes a good backup, reading every file', async () => {
    const { env } = s3Place()
    const id = await backup(env)
    const run = await runJobProcess('verify', ['--json'], env)
    expect(run.code, run.stderr).toBe(0)
    expect(run.json).toMatchObject({ ok: true, job: 'verify', quick: false })
    const [result] = run.json!.backups as { id: string; verdict: string; files: number; rows: number }[]
    // schema.sql may be absent; manifest.json, SHA256SUMS and the two data files are always read.
    expect(result).toMatchObject({ id, verdict: 'ok', rows: 350 })
    expect(result!.files).toBeGreaterThanOrEqual(4)
    const text = await runJobProcess('verify', [id], env)
    expect(text.code).toBe(0)
    expect(text.stdout).toContain(`${id}: ok`)
  })

  it('names the data file of an archive re-packed with one altered row, and exits 1', async () => {
    const { env, store } = s3Place()
    const id = await backup(env)
    const key = archiveKey(id, false)
    // Re-pack with tar: gzip and tar stay valid, only one table's bytes change.
    const work = mkdtempSync(join(resolve('.tmp'), 'repack-'))
    writeFileSync(join(work, 'in.tar.gz'), await download(store, key))
    execFileSync('tar', ['-xzf', 'in.tar.gz'], { cwd: work })
    const file = join(work, id, 'data', 'public.items.ndjson')
    const original = readFileSync(file, 'utf8')
    writeFileSync(file, original.replace('"item 17"', '"item 71"'))
    execFileSync('tar', ['-czf', 'out.tar.gz', id], { cwd: work })
    await store.put(key, readFileSync(join(work, 'out.tar.gz')))

    const run = await runJobProcess('verify', ['latest', '--json'], env)
    expect(run.code).toBe(1)
    expect(run.json).toMatchObject({ ok: false, job: 'verify', error: { code: 'VERIFY_FAILED' } })
    const message = (run.json!.error as { message: string }).message
    expect(message).toContain(`${id} (data/public.items.ndjson)`)
    expect(message).not.toContain('public.notes')
    // Every problem on stderr: the file's hash, and the stored object no longer what was uploaded.
    expect(run.stderr).toContain('data/public.items.ndjson: sha256 does not match the manifest')
    expect(run.stderr).toMatch(/bytes stored, the sidecar records|sha256 differs from the sidecar/)
    expect(run.stderr).toContain('error VERIFY_FAILED')
  })

  it('checks every backup with `all`, failing if one is bad and naming only that one', async () => {
    const { env, store } = s3Place()
    const first = await backup(env)
    const second = await backup(env)
    // Truncate the older archive: the gzip stream ends early.
    const key = archiveKey(first, false)
    const bytes = await download(store, key)
    await store.put(key, bytes.subarray(0, Math.floor(bytes.length / 2)))
    const run = await runJobProcess('verify', ['all', '--json'], env)
    expect(run.code).toBe(1)
    const message = (run.json!.error as { message: string }).message
    expect(message).toMatch(new RegExp(`^1 of 2 backups failed verification: ${first}`))
    expect(message).not.toContain(second)
    expect(run.stderr).toContain(`${second}: ok`)
  })

  it('refuses what is not a backup id (exit 2) and a backup that does not exist (exit 1)', async () => {
    const { env } = s3Place()
    await backup(env)
    const bad = await runJobProcess('verify', ['yesterday'], env)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('error USAGE')
    const missing = await runJobProcess('verify', ['backup-2001-01-01T000000Z'], env)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('error BACKUP_NOT_FOUND')
  })
})

describe('backup:verify of encrypted archives', () => {
  it('decrypts with BACKUP_AGE_IDENTITY; without it DECRYPT_FAILED; a flipped byte is corruption', async () => {
    const identity = await generateIdentity()
    const recipient = await identityToRecipient(identity)
    const { env, store } = s3Place()
    const id = await backup({ ...env, BACKUP_AGE_RECIPIENTS: recipient })

    const ok = await runJobProcess('verify', ['--json'], { ...env, BACKUP_AGE_IDENTITY: identity })
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.json!.backups).toEqual([expect.objectContaining({ id, verdict: 'ok', encrypted: true })])
    expect(ok.stdout).not.toContain(identity)

    const noKey = await runJobProcess('verify', [], env)
    expect(noKey.code).toBe(1)
    expect(noKey.stderr).toContain('error DECRYPT_FAILED')
    expect(noKey.stderr).toContain('BACKUP_AGE_IDENTITY is not set')

    const otherKey = await runJobProcess('verify', [], {
      ...env,
      BACKUP_AGE_IDENTITY: await generateIdentity(),
    })
    expect(otherKey.code).toBe(1)
    expect(otherKey.stderr).toContain('error DECRYPT_FAILED')

    // One byte flipped in the middle of the stored ciphertext: the store changed it, not the key.
    const key = archiveKey(id, true)
    const bytes = await download(store, key)
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01
    await store.put(key, bytes)
    const corrupt = await runJobProcess('verify', [], { ...env, BACKUP_AGE_IDENTITY: identity })
    expect(corrupt.code).toBe(1)
    expect(corrupt.stderr).toContain('error VERIFY_FAILED')
    expect(corrupt.stderr).toContain(`${key}: the stored bytes' sha256 differs from the sidecar's`)
  })
})

describe('backup:verify --quick', () => {
  it('passes a good backup from head() and the sidecar alone', async () => {
    const { env } = s3Place()
    const id = await backup(env)
    const run = await runJobProcess('verify', ['--quick', '--json'], env)
    expect(run.code, run.stderr).toBe(0)
    expect(run.json).toMatchObject({ quick: true, backups: [{ id, verdict: 'ok' }] })
  })

  it('fails an archive whose sidecar is missing once the grace period is over', async () => {
    const { env, store } = s3Place()
    const id = await backup(env)
    await store.delete([sidecarKey(id)])

    // Right after the upload it may still be in progress: skipped, not failed.
    const young = await runJobProcess('verify', ['--quick', id, '--json'], env)
    expect(young.code, young.stderr).toBe(0)
    expect(young.json!.backups).toEqual([expect.objectContaining({ id, verdict: 'skipped' })])

    const old = await runJobProcess('verify', ['--quick', 'all'], { ...env, LIFEBOAT_NOW: later(25) })
    expect(old.code).toBe(1)
    expect(old.stderr).toContain('error VERIFY_FAILED')
    expect(old.stderr).toContain(`${sidecarKey(id)}: missing`)
    // `latest` is what `restore latest` would use: there is no complete backup left.
    const latest = await runJobProcess('verify', ['--quick'], { ...env, LIFEBOAT_NOW: later(25) })
    expect(latest.code).toBe(1)
    expect(latest.stderr).toContain('error BACKUP_NOT_FOUND')
  })

  it('fails an archive whose stored size differs from the sidecar', async () => {
    const { env, store } = s3Place()
    const id = await backup(env)
    const key = archiveKey(id, false)
    await store.put(key, Buffer.concat([await download(store, key), Buffer.from('trailing')]))
    const run = await runJobProcess('verify', ['--quick'], env)
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(new RegExp(`${key}: [\\d,]+ bytes stored, the sidecar records [\\d,]+`))
  })
})
