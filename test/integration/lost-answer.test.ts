// A create-only write whose answer is lost: the request landed, the connection dropped
// before its answer came, and the SDK's retry finds the key taken (412). The write that
// completes a backup (its sidecar) holding exactly these bytes is this backup's own: the
// backup succeeds, not "an object is already stored under this key".
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { openStore } from '../../lib/adapters/store/open-store.ts'
import { readStoreConfig, SettingsReader } from '../../lib/core/config.ts'
import { type CountingProxy, startCountingProxy } from '../helpers/counting-proxy.ts'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { s3Env } from '../helpers/s3-server.ts'

let source: { name: string; url: string }
let proxy: CountingProxy

beforeAll(async () => {
  source = await createDatabase('lost_answer')
  await sql(
    source.url,
    `CREATE TABLE items AS SELECT g AS id, md5(g::text) AS body FROM generate_series(1, 500) g`,
  )
  proxy = await startCountingProxy(inject('s3Endpoint'), {
    loseAnswerTo: (method, url) => method === 'PUT' && /\.manifest\.json\?/.test(url),
  })
})
afterAll(async () => {
  await proxy.close()
  await dropDatabase(source.name)
})

describe('a backup whose sidecar write lands but whose answer is lost', () => {
  it('succeeds: the retry finds its own sidecar under the key', async () => {
    const env = s3Env(proxy.endpoint, 'lost-answer')
    const run = await runJobProcess('backup', ['--json'], { DATABASE_URL: source.url, ...env })
    expect(run.code, run.stderr).toBe(0)
    const sidecarPuts = proxy.requests.filter((r) => r.startsWith('PUT') && /\.manifest\.json\?/.test(r))
    expect(sidecarPuts).toHaveLength(2)
    const store = openStore(readStoreConfig(new SettingsReader(s3Env(inject('s3Endpoint'), 'lost-answer')))!)
    const id = JSON.parse(run.stdout.trim().split('\n').at(-1)!).id as string
    expect((await store.list('database-backups/')).map((o) => o.key)).toContain(
      `database-backups/${id}.manifest.json`,
    )
  })
})
