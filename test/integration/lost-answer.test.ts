// A create-only write whose answer is lost: the request landed, the connection dropped
// before its answer came, and the SDK's retry finds the key taken (412). The archive under
// the backup's claimed id at its exact size, or the sidecar holding exactly its bytes, is
// this backup's own: the backup succeeds, not "an object is already stored under this key".
// So for its audit record, the Storage backup's manifest and lock objects, and a drill's
// report. A write S3 answers 409 (another write of the key under way) is sent again when
// its bytes are in memory, as S3 asks.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { openStore } from '../../lib/adapters/store/open-store.ts'
import { readStoreConfig, SettingsReader } from '../../lib/core/config.ts'
import { type CountingProxy, type ProxyOptions, startCountingProxy } from '../helpers/counting-proxy.ts'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { s3Env } from '../helpers/s3-server.ts'
import { backupWithSidecar, seed, startStorageProject, storageSettings } from '../helpers/storage-world.ts'
import { backedUpSource, readReport, stateEnv, storeOf } from './drill-fixtures.ts'

let source: { name: string; url: string }
const proxies: CountingProxy[] = []

beforeAll(async () => {
  source = await createDatabase('lost_answer')
  await sql(
    source.url,
    'CREATE TABLE items AS SELECT g AS id, md5(g::text) AS body FROM generate_series(1, 500) g',
  )
})
afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()))
  await dropDatabase(source.name)
})

/** A backup through a proxy that loses the answer to the first PUT of a key matching `lost`. */
function backupLosing(lost: RegExp, prefix: string) {
  return backupThrough({ loseAnswerTo: (method, url) => method === 'PUT' && lost.test(url) }, lost, prefix)
}

/** A backup through a proxy with `options`; `puts` are the PUTs of keys matching `watched`. */
async function backupThrough(options: ProxyOptions, watched: RegExp, prefix: string) {
  const proxy = await startCountingProxy(inject('s3Endpoint'), options)
  proxies.push(proxy)
  const run = await runJobProcess('backup', ['--json'], {
    DATABASE_URL: source.url,
    ...s3Env(proxy.endpoint, prefix),
  })
  const puts = proxy.requests.filter((r) => r.startsWith('PUT') && watched.test(r))
  const store = openStore(readStoreConfig(new SettingsReader(s3Env(inject('s3Endpoint'), prefix)))!)
  const id = run.code === 0 ? (JSON.parse(run.stdout.trim().split('\n').at(-1)!).id as string) : ''
  const keys = async () => (await store.list('database-backups/')).map((o) => o.key)
  return { run, puts, id, keys }
}

describe('a backup whose write lands but whose answer is lost', () => {
  it('succeeds when it is the sidecar: the retry finds its own bytes under the key', async () => {
    const { run, puts, id, keys } = await backupLosing(/\.manifest\.json\?/, 'lost-sidecar')
    expect(run.code, run.stderr).toBe(0)
    expect(puts).toHaveLength(2)
    expect(await keys()).toContain(`database-backups/${id}.manifest.json`)
  })

  it('records its audit event once: the object under the event’s random key has the record’s size', async () => {
    const { run, puts } = await backupLosing(/\/audit\//, 'lost-audit')
    expect(run.code, run.stderr).toBe(0)
    expect(puts).toHaveLength(2)
    const store = openStore(readStoreConfig(new SettingsReader(s3Env(inject('s3Endpoint'), 'lost-audit')))!)
    // The job's one record, not written again under a new key.
    expect(await store.list('audit/')).toHaveLength(1)
  })

  it('succeeds when it is the archive: the object under the claimed id has the archive’s size', async () => {
    const { run, puts, id, keys } = await backupLosing(/\.tar\.gz\?/, 'lost-archive')
    expect(run.code, run.stderr).toBe(0)
    expect(puts).toHaveLength(2)
    expect(await keys()).toEqual(
      expect.arrayContaining([`database-backups/${id}.tar.gz`, `database-backups/${id}.manifest.json`]),
    )
  })
})

describe('a backup whose create-only write races another write of its key (409)', () => {
  const conflictOn = (key: RegExp) => ({
    conflictOn: (method: string, url: string) => method === 'PUT' && key.test(url),
  })

  it('sends a sidecar again, as S3 asks, and succeeds', async () => {
    const sidecar = /\.manifest\.json\?/
    const { run, puts, id, keys } = await backupThrough(conflictOn(sidecar), sidecar, 'conflict-sidecar')
    expect(run.code, run.stderr).toBe(0)
    expect(puts).toHaveLength(2)
    expect(await keys()).toContain(`database-backups/${id}.manifest.json`)
  })

  it('fails on the archive, which it cannot send again, saying another write was under way', async () => {
    const archive = /\.tar\.gz\?/
    const { run, puts, keys } = await backupThrough(conflictOn(archive), archive, 'conflict-archive')
    expect(run.code).not.toBe(0)
    expect(run.stderr).toMatch(/STORE_KEY_EXISTS: .*another write of this key was under way/)
    expect(puts).toHaveLength(1)
    // No sidecar names an archive that is not there.
    expect(await keys()).toEqual([])
  })
})

describe('a Storage backup whose write lands but whose answer is lost', () => {
  /** A Storage backup of one object through a proxy losing the answer to the first PUT of a key with `lost` in it. */
  async function storageBackupLosing(lost: string, prefix: string) {
    const project = await startStorageProject('source')
    try {
      await seed(project.raw, [{ bucket: 'avatars', name: 'u/1.png', body: Buffer.from('an avatar') }])
      const proxy = await startCountingProxy(inject('s3Endpoint'), {
        loseAnswerTo: (method, url) => method === 'PUT' && url.includes(lost),
      })
      proxies.push(proxy)
      const store = openStore(readStoreConfig(new SettingsReader(s3Env(proxy.endpoint, prefix)))!)
      const run = await backupWithSidecar(
        { store, source: project.client },
        { settings: storageSettings(project.endpoint) },
      )
      const puts = proxy.requests.filter((r) => r.startsWith('PUT') && r.includes(lost))
      return { run, puts }
    } finally {
      await project.server.stop()
    }
  }

  it('succeeds when it is the manifest: the object under the claimed id has the manifest’s size', async () => {
    const { run, puts } = await storageBackupLosing('.storage.ndjson', 'lost-storage')
    expect(run.reference.objects).toBe(1)
    expect(puts).toHaveLength(2)
  })

  it('succeeds when it is its lock: the lock object under its own key has the lock’s size', async () => {
    const { run, puts } = await storageBackupLosing('storage-locks/', 'lost-lock')
    expect(run.reference.objects).toBe(1)
    // The lost one, its retry, then the lock's end marker.
    expect(puts.length).toBeGreaterThanOrEqual(3)
    expect(puts[1]).toBe(puts[0])
  })
})

describe('a drill whose report lands but whose answer is lost', () => {
  it('passes and says where its report is: the retry finds the report’s own bytes', async () => {
    const source = await backedUpSource('lost_report')
    try {
      const proxy = await startCountingProxy(inject('s3Endpoint'), {
        loseAnswerTo: (method, url) => method === 'PUT' && url.includes('/drills/'),
      })
      proxies.push(proxy)
      const endpoint = { ...source.env, AWS_ENDPOINT_URL_S3: proxy.endpoint }
      const run = await runJobProcess('drill', ['--json', '--backup', source.backupId], {
        ...endpoint,
        ...stateEnv(),
      })
      expect(run.code, run.stderr).toBe(0)
      expect(run.stderr).not.toMatch(/could not be written/)
      expect(proxy.requests.filter((r) => r.startsWith('PUT') && r.includes('/drills/'))).toHaveLength(2)
      expect((await readReport(storeOf(source.env), String(run.json!.id))).outcome).toBe('success')
    } finally {
      await dropDatabase(source.db.name)
    }
  })
})

describe('a signature the store will not show', () => {
  it('fails the check instead of passing the backup as unsigned under --allow-unsigned', async () => {
    const { run, id } = await backupThrough({}, /$^/, 'denied-signature')
    expect(run.code, run.stderr).toBe(0)
    const proxy = await startCountingProxy(inject('s3Endpoint'), {
      denyOn: (method, url) => method === 'HEAD' && url.includes('.minisig'),
    })
    proxies.push(proxy)
    const verify = (endpoint: string) =>
      runJobProcess('verify', [id, '--allow-unsigned'], s3Env(endpoint, 'denied-signature'))
    expect((await verify(inject('s3Endpoint'))).code).toBe(0)
    const denied = await verify(proxy.endpoint)
    expect(denied.code).toBe(1)
    expect(denied.stderr).toMatch(/minisig/)
    expect(denied.stderr).not.toMatch(/NOT authenticated/)
  })
})
