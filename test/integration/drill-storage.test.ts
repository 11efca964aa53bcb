// The drill and the DR test with Storage files, through the real jobs: a backup of a
// database and its Storage (one S3 API server standing in for the project's Storage),
// restored into the drill's own Storage (a second server) and read back, or, without
// one, verified blob by blob in the store; production Storage is never a drill's target.
import { createHash } from 'node:crypto'
import { ListBucketsCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { Store } from '../../lib/adapters/store/store.ts'
import { createSampleData } from '../../lib/demo/sample-data.ts'
import { renderDrillMarkdown } from '../../lib/drills/report-markdown.ts'
import { BLOBS_PREFIX } from '../../lib/storage/layout.ts'
import { createDatabase, dropDatabase, serverUrl, withClient } from '../helpers/database.ts'
import { alertEnv, startSlackReceiver } from '../helpers/receivers.ts'
import { reportSchemaProblems } from '../helpers/report-schema.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { s3Env } from '../helpers/s3-server.ts'
import { STORAGE_SCHEMA_SQL } from '../helpers/storage-catalog.ts'
import {
  factsOf,
  pseudoRandomBuffer,
  type SeedObject,
  type StorageProject,
  seed,
  startStorageProject,
  storageEnv,
} from '../helpers/storage-world.ts'
import { readReport, stateEnv, storeOf } from './drill-fixtures.ts'

const fixtures: SeedObject[] = [
  {
    bucket: 'avatars',
    name: 'users/1/avatar.png',
    body: pseudoRandomBuffer(40_000, 'd1'),
    contentType: 'image/png',
  },
  {
    bucket: 'avatars',
    name: 'photos/été/café ☕.jpg',
    body: Buffer.from('jpeg ☕'),
    contentType: 'image/jpeg',
  },
  {
    bucket: 'documents',
    name: 'reports/q1.pdf',
    body: Buffer.from('%PDF-1.7 report'),
    contentType: 'application/pdf',
  },
  { bucket: 'documents', name: 'empty.txt', body: Buffer.alloc(0), contentType: 'text/plain' },
]
const BYTES = fixtures.reduce((n, f) => n + (f.body as Buffer).length, 0)

let db: { name: string; url: string }
let source: StorageProject
let env: Record<string, string>
let store: Store
let backupId: string
const projects: StorageProject[] = []
const databases: string[] = []

/** The source's catalog: a row per file, and one row whose file was lost before the backup. */
async function createCatalog(url: string): Promise<void> {
  await withClient(url, async (client) => {
    await client.query(STORAGE_SCHEMA_SQL)
    await client.query(
      `INSERT INTO storage.buckets (id, name) VALUES ('avatars', 'avatars'), ('documents', 'documents')`,
    )
    // As Storage writes them: the content type in the row's metadata.
    for (const f of [
      ...fixtures,
      { bucket: 'documents', name: 'lost.pdf', contentType: 'application/pdf' },
    ]) {
      await client.query(
        `INSERT INTO storage.objects (bucket_id, name, metadata) VALUES ($1, $2, jsonb_build_object('mimetype', $3::text))`,
        [f.bucket, f.name, f.contentType],
      )
    }
  })
}

async function drillProject(): Promise<StorageProject> {
  const project = await startStorageProject('target')
  projects.push(project)
  return project
}

async function bucketsOf(project: StorageProject): Promise<string[]> {
  return ((await project.raw.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name!)
}

/** What production has set: its database and its Storage are never a drill's targets. */
function drillEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { ...env, DATABASE_URL: db.url, ...storageEnv(source), ...stateEnv(), ...extra }
}

beforeAll(async () => {
  db = await createDatabase('drill_storage_src')
  await withClient(db.url, (client) => createSampleData(client, { metricsRows: 100 }))
  await createCatalog(db.url)
  source = await startStorageProject('source')
  projects.push(source)
  await seed(source.raw, fixtures)
  env = s3Env(inject('s3Endpoint'), `drill-storage-${process.pid}`)
  store = storeOf(env)
  const backup = await runJobProcess('backup', ['--json'], {
    ...env,
    DATABASE_URL: db.url,
    ...storageEnv(source),
  })
  expect(backup.code, backup.stderr).toBe(0)
  backupId = String(backup.json!.id)
}, 120_000)
afterAll(async () => {
  await Promise.all(projects.map((p) => p.server.stop()))
  await Promise.all([db.name, ...databases].map(dropDatabase))
})

describe('backup:drill with Storage files', () => {
  it('restores the files into the drill Storage, reads each back, reports the figures and removes them after', async () => {
    const drill = await drillProject()
    const slack = await startSlackReceiver()
    const run = await runJobProcess(
      'drill',
      ['--json', '--backup', backupId],
      drillEnv({ ...storageEnv(drill, 'STAGING_'), ...alertEnv({ slack }) }),
    )
    expect(run.code, run.stderr).toBe(0)
    // The alert (a warning: a row without file) carries the figures.
    await slack.waitFor(1)
    const alert = JSON.stringify(slack.requests[0]!.json)
    await slack.close()
    expect(alert).toContain('storage files')
    expect(alert).toMatch(/4 objects .* restored into .*4 written and read back/)
    const report = await readReport(store, String(run.json!.id))
    expect(reportSchemaProblems(report)).toEqual([])
    expect(report.storage).toEqual({
      mode: 'restored',
      target: drill.client.location,
      buckets: 2,
      objects: 4,
      bytes: BYTES,
      objectsChecked: 4,
      bytesChecked: BYTES,
      written: 4,
      seconds: expect.any(Number),
      ok: true,
      // The restored database's catalog against the restored files: the lost file's row.
      rowsWithoutFile: 1,
      filesWithoutRow: 0,
      problems: ['row without file: documents/lost.pdf'],
      cleanup: 'removed',
    })
    expect(report.checks.find((c) => c.name === 'storage')).toMatchObject({ ok: true })
    expect(report.outcome).toBe('warning')
    expect(report.warnings).toContain('storage: storage.objects rows without a restored file: 1')
    // Every object went in and was read back from the drill's Storage, which is empty again.
    const puts = drill.server.requests
      .filter((r) => r.method === 'PUT' && r.status < 300)
      .map((r) => decodeURIComponent(r.url))
    const gets = drill.server.requests
      .filter((r) => r.method === 'GET' && r.status < 300)
      .map((r) => decodeURIComponent(r.url))
    for (const f of fixtures) {
      expect(
        puts.some((u) => u.includes(`/${f.bucket}/${f.name}`)),
        f.name,
      ).toBe(true)
      expect(
        gets.some((u) => u.includes(`/${f.bucket}/${f.name}`)),
        f.name,
      ).toBe(true)
    }
    expect(await bucketsOf(drill)).toEqual([])
    expect(run.json!.storage).toMatchObject({ mode: 'restored', ok: true })
  })

  it('keeps its files with a staging database used as it is; --truncate replaces what differs next time', async () => {
    const drill = await drillProject()
    const staging = async () => {
      const created = await createDatabase('drill_storage_stg')
      databases.push(created.name)
      return { ...storageEnv(drill, 'STAGING_'), STAGING_DATABASE_URL: created.url }
    }
    const first = await runJobProcess('drill', ['--json', '--backup', backupId], drillEnv(await staging()))
    expect(first.code, first.stderr).toBe(0)
    expect((await readReport(store, String(first.json!.id))).storage).toMatchObject({ cleanup: 'kept' })
    // Someone changed a file of the drill's Storage since.
    await seed(drill.raw, [{ bucket: 'documents', name: 'reports/q1.pdf', body: Buffer.from('changed') }])
    const refused = await runJobProcess('drill', ['--backup', backupId], drillEnv(await staging()))
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/TARGET_NOT_EMPTY.*documents\/reports\/q1\.pdf/)
    const replaced = await runJobProcess(
      'drill',
      ['--json', '--backup', backupId, '--truncate'],
      drillEnv(await staging()),
    )
    expect(replaced.code, replaced.stderr).toBe(0)
    expect((await readReport(store, String(replaced.json!.id))).storage).toMatchObject({
      ok: true,
      written: 1,
    })
    expect(await factsOf(drill.raw)).toEqual(await factsOf(source.raw))
  })

  it('verifies every blob in the store when no drill Storage is set, and says the files were not restored', async () => {
    const run = await runJobProcess('drill', ['--json', '--backup', backupId], drillEnv())
    expect(run.code, run.stderr).toBe(0)
    const report = await readReport(store, String(run.json!.id))
    expect(renderDrillMarkdown(report)).toMatch(
      /\| Storage files \| 4 objects \(.*\) in 2 buckets \*\*verified, not restored\*\*/,
    )
    expect(report.storage).toMatchObject({
      mode: 'verified',
      target: null,
      objectsChecked: 4,
      written: null,
      ok: true,
      rowsWithoutFile: null,
      cleanup: null,
    })
    expect(report.checks.find((c) => c.name === 'storage')!.detail).toMatch(/verified, not restored/)
  })

  it('does not pass clean when the files are left unchecked (--no-storage)', async () => {
    const run = await runJobProcess('drill', ['--json', '--backup', backupId, '--no-storage'], drillEnv())
    expect(run.code, run.stderr).toBe(0)
    const report = await readReport(store, String(run.json!.id))
    expect(report.storage).toMatchObject({ mode: 'skipped', ok: null, objectsChecked: null })
    expect(report.outcome).toBe('warning')
    expect(report.warnings.join('\n')).toMatch(
      /the backup holds 4 Storage files \(.+\) that were not checked \(--no-storage\)/,
    )
  })

  it('refuses the production Storage as the drill Storage before any restore (exit 2, nothing written)', async () => {
    const before = await factsOf(source.raw)
    // Production named with a trailing slash, the drill Storage without: the same endpoint.
    for (const production of [source.endpoint.url, `${source.endpoint.url}//`]) {
      const run = await runJobProcess(
        'drill',
        ['--backup', backupId],
        drillEnv({ ...storageEnv(source, 'STAGING_'), SUPABASE_STORAGE_S3_URL: production }),
      )
      expect(run.code, run.stderr).toBe(2)
      expect(run.stderr).toMatch(
        /TARGET_PROTECTED: refusing to restore files into .*: it is the Storage this backup's files were taken from; it is the Storage SUPABASE_STORAGE_S3_URL names; a drill never writes files into production/,
      )
    }
    expect(await factsOf(source.raw)).toEqual(before)
  })
})

describe('dr:test with Storage files', () => {
  it('restores the files with the database and keeps them with a kept database (--keep)', async () => {
    const drill = await drillProject()
    const run = await runJobProcess(
      'dr-test',
      ['--json', '--keep'],
      drillEnv({ ...storageEnv(drill, 'STAGING_'), STAGING_DATABASE_URL: serverUrl(), RPO_HOURS: '1' }),
    )
    expect(run.code, run.stderr).toBe(0)
    const report = await readReport(store, String(run.json!.id))
    expect(report.storage).toMatchObject({
      mode: 'restored',
      ok: true,
      objects: 4,
      written: 4,
      cleanup: 'kept',
    })
    expect(await factsOf(drill.raw)).toEqual(await factsOf(source.raw))
    await dropDatabase(report.target!.database)
  })
})

describe('a drill of a backup with a tampered blob', () => {
  let tampered: string

  beforeAll(async () => {
    const backup = await runJobProcess('backup', ['--json', '--storage-reread'], {
      ...env,
      DATABASE_URL: db.url,
      ...storageEnv(source),
    })
    expect(backup.code, backup.stderr).toBe(0)
    tampered = String(backup.json!.id)
    const sha = createHash('sha256').update('%PDF-1.7 report').digest('hex')
    const blob = (await store.list(BLOBS_PREFIX)).find((o) => o.key.endsWith(sha))!
    await store.put(blob.key, Buffer.from('%PDF-1.7 repOrt'))
  }, 120_000)

  it('fails (exit 1) naming the object, whether it verifies or restores, and leaves nothing in the drill Storage', async () => {
    const drill = await drillProject()
    for (const extra of [{}, storageEnv(drill, 'STAGING_')]) {
      const run = await runJobProcess('drill', ['--json', '--backup', tampered], drillEnv(extra))
      expect(run.code).toBe(1)
      expect(run.stderr).toMatch(/DRILL_FAILED.*\[VERIFY_FAILED\].*documents\/reports\/q1\.pdf/)
    }
    expect(await bucketsOf(drill)).toEqual([])
  })
})
