// A create-only write whose answer is lost: the request landed, the connection dropped
// before its answer came, and the SDK's retry finds the key taken (412). The archive under
// the backup's claimed id at its exact size, or the sidecar holding exactly its bytes, is
// this backup's own: the backup succeeds, not "an object is already stored under this key".
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { openStore } from '../../lib/adapters/store/open-store.ts'
import { readStoreConfig, SettingsReader } from '../../lib/core/config.ts'
import { type CountingProxy, startCountingProxy } from '../helpers/counting-proxy.ts'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { s3Env } from '../helpers/s3-server.ts'
import { backupWithSidecar, seed, startStorageProject, storageSettings } from '../helpers/storage-world.ts'

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
async function backupLosing(lost: RegExp, prefix: string) {
  const proxy = await startCountingProxy(inject('s3Endpoint'), {
    loseAnswerTo: (method, url) => method === 'PUT' && lost.test(url),
  })
  proxies.push(proxy)
  const run = await runJobProcess('backup', ['--json'], {
    DATABASE_URL: source.url,
    ...s3Env(proxy.endpoint, prefix),
  })
  const puts = proxy.requests.filter((r) => r.startsWith('PUT') && lost.test(r))
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

  it('succeeds when it is the archive: the object under the claimed id has the archive’s size', async () => {
    const { run, puts, id, keys } = await backupLosing(/\.tar\.gz\?/, 'lost-archive')
    expect(run.code, run.stderr).toBe(0)
    expect(puts).toHaveLength(2)
    expect(await keys()).toEqual(
      expect.arrayContaining([`database-backups/${id}.tar.gz`, `database-backups/${id}.manifest.json`]),
    )
  })
})

describe('a Storage backup whose manifest write lands but whose answer is lost', () => {
  it('succeeds: the object under the claimed id has the manifest’s size', async () => {
    const project = await startStorageProject('source')
    try {
      await seed(project.raw, [{ bucket: 'avatars', name: 'u/1.png', body: Buffer.from('an avatar') }])
      const proxy = await startCountingProxy(inject('s3Endpoint'), {
        loseAnswerTo: (method, url) => method === 'PUT' && url.includes('.storage.ndjson'),
      })
      proxies.push(proxy)
      const store = openStore(readStoreConfig(new SettingsReader(s3Env(proxy.endpoint, 'lost-storage')))!)
      const run = await backupWithSidecar(
        { store, source: project.client },
        { settings: storageSettings(project.endpoint) },
      )
      expect(run.reference.objects).toBe(1)
      expect(proxy.requests.filter((r) => r.startsWith('PUT') && r.includes('.storage.ndjson'))).toHaveLength(
        2,
      )
    } finally {
      await project.server.stop()
    }
  })
})
