// Per-test databases on the shared server: each test file gets fresh ones.
import pg from 'pg'
import { inject } from 'vitest'

let counter = 0

export function serverUrl(): string {
  return inject('databaseUrl')
}

export function urlOf(database: string): string {
  return urlOn(serverUrl(), database)
}

/** The URL of `database` on the server `server` points at. */
export function urlOn(server: string, database: string): string {
  const url = new URL(server)
  url.pathname = `/${database}`
  return url.toString()
}

/** Creates an empty database with a unique name and returns its URL. */
export async function createDatabase(label = 'db'): Promise<{ name: string; url: string }> {
  const name = `${label}_${process.pid}_${Date.now().toString(36)}_${counter++}`
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
  await withClient(serverUrl(), (client) => client.query(`CREATE DATABASE "${name}"`))
  return { name, url: urlOf(name) }
}

export async function dropDatabase(name: string): Promise<void> {
  await withClient(serverUrl(), (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))
}

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => {})
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

export async function sql(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  return withClient(url, (client) => client.query(text, values))
}
