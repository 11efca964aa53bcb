// A store that stops answering (issue 14, Must show 2): the backup fails within its
// deadline with STORE_UNREACHABLE (or DEADLINE_EXCEEDED when the deadline comes first),
// the snapshot it held is released and no session is left on the source.
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createServer as createTcpServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { s3Env } from '../helpers/s3-server.ts'
import { tempFolder } from './restore-fixtures.ts'

let source: { name: string; url: string }
const servers: Server[] = []

beforeAll(async () => {
  source = await createDatabase('stalled_src')
  await sql(
    source.url,
    `CREATE TABLE public.items (id bigint PRIMARY KEY, body text NOT NULL);
     INSERT INTO public.items SELECT g, md5(g::text) FROM generate_series(1, 5000) g;`,
  )
})
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections?.()
    server.close()
  }
  await dropDatabase(source.name)
})

/** Accepts every TCP connection and never says a word. */
async function silentEndpoint(): Promise<string> {
  const server = createTcpServer(() => {})
  servers.push(server as unknown as Server)
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** Passes every request to the S3 API server, except the archive upload, which it never answers. */
async function stallArchiveUploads(upstream: string): Promise<string> {
  const target = new URL(upstream)
  const server = createHttpServer((req, res) => {
    if (/\.tar\.gz(\.age)?(\?|$)/.test(req.url ?? '') && req.method !== 'GET' && req.method !== 'HEAD') {
      req.resume()
      return
    }
    const forward = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    forward.on('error', () => res.destroy())
    req.pipe(forward)
  })
  servers.push(server)
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function backupSessions(): Promise<{ state: string }[]> {
  const result = await sql(
    source.url,
    `SELECT state FROM pg_stat_activity WHERE application_name LIKE 'lifeboat backup%' AND datname = $1`,
    [source.name],
  )
  return result.rows as { state: string }[]
}

/** Runs a backup against `endpoint`, noting whether the source held a snapshot while it ran. */
async function backupAgainst(endpoint: string, extra: Record<string, string>) {
  const env = {
    DATABASE_URL: source.url,
    ...s3Env(endpoint, `stalled-${Date.now()}`),
    LIFEBOAT_STATE_FILE: `${tempFolder('state')}/status.json`,
    LIFEBOAT_TEMP_DIR: tempFolder('stalled-temp'),
    ...extra,
  }
  const began = Date.now()
  let heldSnapshot = false
  let running = true
  const watching = (async () => {
    while (running) {
      if ((await backupSessions()).some((s) => s.state === 'idle in transaction')) heldSnapshot = true
      await new Promise((r) => setTimeout(r, 200))
    }
  })()
  const run = await runJobProcess('backup', [], env, { timeoutMs: 180_000 })
  running = false
  await watching
  return { run, seconds: (Date.now() - began) / 1000, heldSnapshot }
}

describe('a store that accepts TCP and never answers', () => {
  it('fails the backup well within the deadline with STORE_UNREACHABLE', async () => {
    const { run, seconds } = await backupAgainst(await silentEndpoint(), {
      LIFEBOAT_STORE_TIMEOUT: '2',
      LIFEBOAT_DEADLINE: '60s',
    })
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/error STORE_UNREACHABLE: .*store unreachable \(TimeoutError\)/)
    expect(seconds).toBeLessThan(60)
    expect(await backupSessions()).toEqual([])
  })
})

describe('a store that stalls while the snapshot is held', () => {
  it('aborts the backup with STORE_UNREACHABLE and leaves no session on the source', async () => {
    const endpoint = await stallArchiveUploads(inject('s3Endpoint'))
    const { run, seconds, heldSnapshot } = await backupAgainst(endpoint, {
      LIFEBOAT_STORE_TIMEOUT: '2',
      LIFEBOAT_DEADLINE: '90s',
    })
    expect(heldSnapshot).toBe(true)
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/error STORE_UNREACHABLE: cannot write s3:\/\/\S+\.tar\.gz: store unreachable/)
    expect(seconds).toBeLessThan(90)
    expect(await backupSessions()).toEqual([])
  })

  it('stops at the deadline when it comes first (DEADLINE_EXCEEDED), releasing the snapshot too', async () => {
    const endpoint = await stallArchiveUploads(inject('s3Endpoint'))
    const { run, seconds, heldSnapshot } = await backupAgainst(endpoint, {
      LIFEBOAT_STORE_TIMEOUT: '600',
      LIFEBOAT_DEADLINE: '8s',
    })
    expect(heldSnapshot).toBe(true)
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(
      // The upload stalls from its first bytes: a slow machine is still exporting at 8 s.
      /error DEADLINE_EXCEEDED: the job's deadline of 8s \(LIFEBOAT_DEADLINE\) passed during (export|seal); the partial archive and temporary files were removed, nothing was stored/,
    )
    expect(seconds).toBeLessThan(40)
    expect(await backupSessions()).toEqual([])
  })
})
