// backup:clean on a folder and on the S3 API server. Old backups are copies of real ones
// (a plain and an encrypted archive) stored under older ids with their sidecars rewritten
// and signed again (test/helpers/plant-backup.ts),
// so ages span weeks without waiting; LIFEBOAT_NOW moves the clock for the stall case.
import { mkdtempSync } from 'node:fs'
import { utimes } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { generateIdentity, identityToRecipient } from 'age-encryption'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { openStore } from '../../lib/adapters/store/open-store.ts'
import type { Store } from '../../lib/adapters/store/store.ts'
import { archiveKey, BACKUPS_PREFIX, sidecarKey } from '../../lib/archive/layout.ts'
import { readStoreConfig, SettingsReader } from '../../lib/core/config.ts'
import { sidecarSignatureKey } from '../../lib/trust/backup-signature.ts'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'
import { type BackupTemplate, plantBackup, readTemplate } from '../helpers/plant-backup.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { s3Env } from '../helpers/s3-server.ts'
import { TEST_KEYS } from '../helpers/signing.ts'

const DAY = 86_400_000
let db: { name: string; url: string }
let identity: string
/** A real plain and a real encrypted backup: bytes and sidecar, to copy under other ids. */
const templates: { plain?: BackupTemplate; encrypted?: BackupTemplate } = {}
let counter = 0

beforeAll(async () => {
  db = await createDatabase('clean')
  await sql(db.url, `CREATE TABLE items AS SELECT g AS id FROM generate_series(1, 50) g`)
  identity = await generateIdentity()
  const folder = folderPlace()
  templates.plain = await makeTemplate(folder, {})
  templates.encrypted = await makeTemplate(folderPlace(), {
    BACKUP_AGE_RECIPIENTS: await identityToRecipient(identity),
  })
})
afterAll(async () => dropDatabase(db.name))

interface Place {
  env: Record<string, string>
  store: Store
}

function stateEnv(): Record<string, string> {
  return { LIFEBOAT_STATE_FILE: join(mkdtempSync(join(resolve('.tmp'), 'state-')), 'status.json') }
}

function folderPlace(): Place {
  const folder = mkdtempSync(join(resolve('.tmp'), 'clean-'))
  return { env: { BACKUP_STORE: folder, ...stateEnv() }, store: openStore({ url: `file://${folder}` }) }
}

function s3Place(): Place {
  const env = { ...s3Env(inject('s3Endpoint'), `clean-${process.pid}-${counter++}`), ...stateEnv() }
  const reader = new SettingsReader(env)
  const config = readStoreConfig(reader)
  reader.finish()
  return { env, store: openStore(config!) }
}

async function makeTemplate(place: Place, extra: Record<string, string>): Promise<BackupTemplate> {
  const run = await runJobProcess('backup', ['--json'], { DATABASE_URL: db.url, ...place.env, ...extra })
  expect(run.code, run.stderr).toBe(0)
  return readTemplate(place.store, run.json!.id as string)
}

/** Stores a copy of a real backup as if made `ageDays` ago; `sidecar: false` makes a failed upload. */
async function plant(
  store: Store,
  ageDays: number,
  options: { encrypted?: boolean; sidecar?: boolean; signed?: boolean; now?: number } = {},
): Promise<string> {
  const template = options.encrypted ? templates.encrypted! : templates.plain!
  const time = new Date((options.now ?? Date.now()) - ageDays * DAY)
  return plantBackup(store, template, time, options)
}

async function readAll(store: Store, key: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of await store.get(key)) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks)
}

async function keys(store: Store): Promise<string[]> {
  return (await store.list(BACKUPS_PREFIX)).map((o) => o.key)
}

const idsOf = (list: string[]) => [
  ...new Set(list.map((k) => k.replace(/^database-backups\/(backup-[^.]+)\..*$/, '$1'))),
]

for (const [kind, place] of [
  ['a folder', folderPlace],
  ['the S3 API server', s3Place],
] as const) {
  describe(`backup:clean on ${kind}`, () => {
    it('keeps 7 days with `clean 7`, deleting archive, sidecar and signature together, plain and encrypted alike', async () => {
      const { env, store } = place()
      const young = [
        await plant(store, 0.1),
        await plant(store, 2, { encrypted: true }),
        await plant(store, 6.9),
      ]
      const old = [
        await plant(store, 7.1, { encrypted: true }),
        await plant(store, 10),
        await plant(store, 20, { encrypted: true }),
      ]
      const run = await runJobProcess('clean', ['7', '--min-keep', '1', '--json'], env)
      expect(run.code, run.stderr).toBe(0)
      expect(run.json).toMatchObject({ ok: true, job: 'clean', dryRun: false })
      const deleted = (run.json!.deleted as { id: string; keys: string[] }[]).map((d) => d.id)
      expect(deleted.sort()).toEqual([...old].sort())
      const left = await keys(store)
      expect(idsOf(left).sort()).toEqual([...young].sort())
      // The archive, sidecar and signature of every kept backup are still there.
      expect(left).toHaveLength(9)
      expect(left).toContain(archiveKey(young[1]!, true))
    })

    it('a dry run prints the plan and deletes nothing', async () => {
      const { env, store } = place()
      await plant(store, 1)
      const expired = await plant(store, 40, { encrypted: true })
      const before = await keys(store)
      const run = await runJobProcess('clean', ['30', '--dry-run', '--min-keep', '1'], env)
      expect(run.code, run.stderr).toBe(0)
      expect(run.stdout).toContain(
        `DELETE  ${expired}  40.0 days old  (expired)  ${sidecarKey(expired)}, ${sidecarSignatureKey(expired)}, ${archiveKey(expired, true)}`,
      )
      expect(run.stdout).toContain('dry run: would delete 1 backup')
      expect(await keys(store)).toEqual(before)
      const json = await runJobProcess('clean', ['30', '--dry-run', '--min-keep', '1', '--json'], env)
      expect(json.json).toMatchObject({ dryRun: true, deleted: [{ id: expired, reason: 'expired' }] })
      expect(await keys(store)).toEqual(before)
    })
  })
}

describe('backup:clean: the floor and orphans', () => {
  it('keeps the newest 7 through a 40-day stall (RETENTION_DAYS=30)', async () => {
    const { env, store } = folderPlace()
    const now = Date.now()
    const planted: string[] = []
    for (let day = 0; day < 10; day++)
      planted.push(await plant(store, day, { now, encrypted: day % 2 === 1 }))
    // The schedule stopped 40 days ago: run clean as if it were then.
    const stalled = new Date(now + 40 * DAY).toISOString()
    const run = await runJobProcess('clean', ['--json'], {
      ...env,
      RETENTION_DAYS: '30',
      LIFEBOAT_NOW: stalled,
    })
    expect(run.code, run.stderr).toBe(0)
    const kept = run.json!.plan as { keep: { id: string; reasons: string[] }[] }
    expect(kept.keep.map((k) => k.id)).toEqual(planted.slice(0, 7))
    expect(kept.keep.every((k) => k.reasons.join() === 'floor')).toBe(true)
    expect(idsOf(await keys(store)).sort()).toEqual(planted.slice(0, 7).sort())
  })

  it('does not count a backup whose sidecar disagrees with its archive toward the floor', async () => {
    const { env, store } = folderPlace()
    const good = await plant(store, 50)
    const bad = await plant(store, 45)
    await store.put(archiveKey(bad, false), Buffer.from('not the archive the sidecar describes'))
    const run = await runJobProcess('clean', ['--min-keep', '1', '--json'], env)
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain(`${bad}: its archive has 37 bytes, the sidecar records`)
    expect((run.json!.plan as { keep: { id: string }[] }).keep.map((k) => k.id)).toEqual([good])
    expect(idsOf(await keys(store))).toEqual([good])
  })

  it('with signing keys set, counts a signed backup toward the floor and not an unsigned or mis-signed one', async () => {
    const { env, store } = folderPlace()
    const signed = await plant(store, 50)
    const unsigned = await plant(store, 45, { signed: false })
    const misSigned = await plant(store, 40)
    // The signature of another backup's sidecar: it verifies, but not for this file.
    await store.put(sidecarSignatureKey(misSigned), await readAll(store, sidecarSignatureKey(signed)))
    const run = await runJobProcess('clean', ['--min-keep', '1', '--json'], {
      ...env,
      BACKUP_SIGNING_PUBLIC_KEYS: TEST_KEYS.public,
    })
    expect(run.code, run.stderr).toBe(0)
    expect((run.json!.plan as { keep: { id: string; reasons: string[] }[] }).keep).toEqual([
      expect.objectContaining({ id: signed, reasons: ['floor'] }),
    ])
    expect(run.json!.notGood).toEqual([
      { id: unsigned, reasons: ['unsigned, while signing is on'] },
      { id: misSigned, reasons: ['its signature does not verify'] },
    ])
    expect(run.stderr).toContain(`${unsigned}: not counted toward the floor: unsigned, while signing is on`)
    expect(idsOf(await keys(store))).toEqual([signed])
  })

  it('removes an archive without a sidecar after a day, and leaves a fresh one alone', async () => {
    const { env, store } = folderPlace()
    const good = await plant(store, 3)
    const failedUpload = await plant(store, 2, { sidecar: false, encrypted: true })
    // The grace runs from when the archive was written, not only from its id.
    const twoDaysAgo = new Date(Date.now() - 2 * DAY)
    await utimes(store.locate(archiveKey(failedUpload, true)), twoDaysAgo, twoDaysAgo)
    const inProgress = await plant(store, 0, { sidecar: false })
    const run = await runJobProcess('clean', ['--json'], env)
    expect(run.code, run.stderr).toBe(0)
    expect(run.json!.deleted).toEqual([
      expect.objectContaining({
        id: failedUpload,
        reason: 'orphaned-archive',
        keys: [archiveKey(failedUpload, true)],
      }),
    ])
    expect(idsOf(await keys(store)).sort()).toEqual([good, inProgress].sort())
  })

  it('refuses a bad number of days (exit 2) and an extra argument', async () => {
    const { env } = folderPlace()
    const zero = await runJobProcess('clean', ['0'], env)
    expect(zero.code).toBe(2)
    // The argument is named as it was given, not as a --days flag clean does not have.
    expect(zero.stderr).toContain('[days] must be a whole number ≥ 1, got "0"')
    expect(zero.stderr).not.toContain('--days')
    const two = await runJobProcess('clean', ['7', '8'], env)
    expect(two.code).toBe(2)
  })
})

describe('backup:clean on S3: what a versioned bucket would keep', () => {
  it('says where deleted objects go, and they are gone from the listing', async () => {
    const { env, store } = s3Place()
    await plant(store, 1)
    const expired = await plant(store, 40)
    const run = await runJobProcess('clean', ['30', '--min-keep', '1'], env)
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('noncurrent versions until the lifecycle rule removes them')
    // s3rver has no versioning: the local check is that a listing (current versions only,
    // as on a versioned bucket after DeleteObject adds a delete marker) no longer shows them.
    expect(idsOf(await keys(store))).not.toContain(expired)
    expect(await store.head(sidecarKey(expired))).toBeUndefined()
  })
})
