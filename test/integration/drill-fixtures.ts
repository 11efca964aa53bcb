// Shared by the drill, DR-test and report tests: a small source database backed up by
// the real backup job into the S3 API server, and reading what the jobs stored.
import { mkdtempSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { expect, inject } from 'vitest'
import { openStore } from '../../lib/adapters/store/open-store.ts'
import type { Store } from '../../lib/adapters/store/store.ts'
import type { Manifest } from '../../lib/archive/manifest.ts'
import { readStoreConfig, SettingsReader } from '../../lib/core/config.ts'
import { createSampleData } from '../../lib/demo/sample-data.ts'
import type { DrillReport } from '../../lib/drills/report.ts'
import { readSidecar } from '../../lib/inventory/read-inventory.ts'
import { createDatabase, withClient } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { s3Env } from '../helpers/s3-server.ts'

export interface BackedUpSource {
  db: { name: string; url: string }
  /** DATABASE_URL and the store: what a drill in production would have too. */
  env: Record<string, string>
  store: Store
  backupId: string
  manifest: Manifest
}

let counter = 0

/** The demo schema with a few hundred rows, backed up once by `npm run backup:database`. */
export async function backedUpSource(
  label: string,
  backupEnv: Record<string, string> = {},
): Promise<BackedUpSource> {
  const db = await createDatabase(label)
  await withClient(db.url, (client) => createSampleData(client, { metricsRows: 300 }))
  const env = { DATABASE_URL: db.url, ...s3Env(inject('s3Endpoint'), `${label}-${process.pid}-${counter++}`) }
  const backup = await runJobProcess('backup', ['--json'], { ...env, ...backupEnv })
  expect(backup.code, backup.stderr).toBe(0)
  const backupId = String(backup.json!.id)
  const store = storeOf(env)
  return { db, env, store, backupId, manifest: await readSidecar(store, backupId) }
}

export function storeOf(env: Record<string, string>): Store {
  const reader = new SettingsReader(env)
  const config = readStoreConfig(reader)
  reader.finish()
  return openStore(config!)
}

export async function readText(store: Store, key: string): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of await store.get(key)) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks).toString('utf8')
}

export async function readReport(store: Store, id: string): Promise<DrillReport> {
  return JSON.parse(await readText(store, `drills/${id}.json`)) as DrillReport
}

export function tempDir(label: string): string {
  return mkdtempSync(join(resolve('.tmp'), `${label}-`))
}

/** A private failure history per test, so one test's failures never page in another. */
export function stateEnv(): Record<string, string> {
  return { LIFEBOAT_STATE_FILE: join(tempDir('state'), 'status.json') }
}
