// Storage files through the jobs as a person or a workflow runs them: backup:database
// takes the buckets with the database, backup:verify checks the blobs, backup:restore
// puts the files back after the database (or alone with --storage-only), and
// backup:clean sweeps the blobs no kept backup references. Real S3 API servers stand in
// for the two Supabase projects' Storage and for the backup store.
import { DeleteObjectCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { openStore } from '../../lib/adapters/store/open-store.ts'
import type { Store } from '../../lib/adapters/store/store.ts'
import { readStoreConfig, SettingsReader } from '../../lib/core/config.ts'
import { createSampleData, SAMPLE_SCHEMA_SQL } from '../../lib/demo/sample-data.ts'
import { readSidecar } from '../../lib/inventory/read-inventory.ts'
import { BLOBS_PREFIX } from '../../lib/storage/layout.ts'
import { createDatabase, dropDatabase, sql, withClient } from '../helpers/database.ts'
import { startPostgrestServer } from '../helpers/postgrest-server.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { s3Env } from '../helpers/s3-server.ts'
import {
  factsOf,
  pseudoRandomBuffer,
  type SeedObject,
  type StorageProject,
  seed,
  startStorageProject,
  storageEnv,
} from '../helpers/storage-world.ts'

const fixtures: SeedObject[] = [
  {
    bucket: 'avatars',
    name: 'users/1/avatar.png',
    body: pseudoRandomBuffer(50_000, 'a1'),
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

let database: { name: string; url: string }
let source: StorageProject
const projects: StorageProject[] = []
const databases: string[] = []
let env: Record<string, string>
let store: Store

async function emptyProject(): Promise<StorageProject> {
  const project = await startStorageProject('target')
  projects.push(project)
  return project
}

async function emptyDatabase(label: string): Promise<string> {
  const db = await createDatabase(label)
  databases.push(db.name)
  return db.url
}

function backupJob(args: string[] = []) {
  return runJobProcess('backup', ['--json', ...args], {
    ...env,
    DATABASE_URL: database.url,
    ...storageEnv(source),
  })
}

beforeAll(async () => {
  database = await createDatabase('storage_jobs_src')
  databases.push(database.name)
  await withClient(database.url, (client) => createSampleData(client, { metricsRows: 200 }))
  source = await startStorageProject('source')
  projects.push(source)
  await seed(source.raw, fixtures)
  env = s3Env(inject('s3Endpoint'), `storage-jobs-${process.pid}`)
  store = openStore(readStoreConfig(new SettingsReader(env))!)
}, 120_000)
afterAll(async () => {
  await Promise.all(projects.map((p) => p.server.stop()))
  await Promise.all(databases.map(dropDatabase))
})

describe('the backup, verify and restore jobs with Storage configured', () => {
  let id: string

  beforeAll(async () => {
    const run = await backupJob()
    expect(run.code, run.stderr).toBe(0)
    id = run.json!.id as string
  }, 120_000)

  it('backs up the buckets with the database and names them in the sidecar', async () => {
    const sidecar = await readSidecar(store, id)
    expect(sidecar.storage).toMatchObject({ format: 1, objects: 4, buckets: 2 })
    expect(sidecar.tables.length).toBeGreaterThan(0)
  })

  it('verifies the blobs: existence by default, content with --read-data', async () => {
    for (const args of [[], ['--read-data']]) {
      const run = await runJobProcess('verify', [id, ...args], env)
      expect(run.code, run.stderr).toBe(0)
      expect(run.stdout).toContain(`${id}: storage: ok (4 objects, 4 blobs`)
    }
  })

  it('restores the database, then every file identical into an empty project', async () => {
    const target = await emptyProject()
    const run = await runJobProcess('restore', [id, '--create-schema', '--json'], {
      ...env,
      TARGET_DATABASE_URL: await emptyDatabase('storage_jobs_full'),
      ...storageEnv(target, 'TARGET_'),
    })
    expect(run.code, run.stderr).toBe(0)
    expect(run.json).toMatchObject({ verified: true, storage: { uploaded: { objects: 4 } } })
    expect(await factsOf(target.raw)).toEqual(await factsOf(source.raw))
  })

  it('restores the files after the rows through the API too (--via rest)', async () => {
    const target = await emptyProject()
    const url = await emptyDatabase('storage_jobs_rest')
    await sql(url, SAMPLE_SCHEMA_SQL)
    const api = await startPostgrestServer({ databaseUrl: url })
    try {
      const run = await runJobProcess('restore', [id, '--via', 'rest', '--json'], {
        ...env,
        SUPABASE_URL: api.url,
        SUPABASE_SERVICE_ROLE_KEY: api.key,
        ...storageEnv(target, 'TARGET_'),
      })
      expect(run.code, run.stderr).toBe(0)
      expect(run.json).toMatchObject({ via: 'rest', verified: true, storage: { uploaded: { objects: 4 } } })
      expect(await factsOf(target.raw)).toEqual(await factsOf(source.raw))
    } finally {
      await api.close()
    }
  })

  it('restores the files only with --storage-only, no database named', async () => {
    const target = await emptyProject()
    const planned = await runJobProcess('restore', ['latest', '--storage-only', '--dry-run', '--json'], {
      ...env,
      ...storageEnv(target, 'TARGET_'),
    })
    expect(planned.code, planned.stderr).toBe(0)
    expect(planned.json).toMatchObject({ dryRun: true, storage: { upload: { objects: 4 } } })
    expect((await factsOf(target.raw)).size).toBe(0)
    const run = await runJobProcess('restore', ['latest', '--storage-only'], {
      ...env,
      ...storageEnv(target, 'TARGET_'),
    })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/storage: restored 4 objects/)
    expect(await factsOf(target.raw)).toEqual(await factsOf(source.raw))
  })

  it('plans the files too with --dry-run, refuses what a restore would refuse, and writes nothing', async () => {
    const target = await emptyProject()
    const url = await emptyDatabase('storage_jobs_dry')
    const restoreEnv = { ...env, TARGET_DATABASE_URL: url, ...storageEnv(target, 'TARGET_') }
    const run = await runJobProcess('restore', [id, '--create-schema', '--dry-run', '--json'], restoreEnv)
    expect(run.code, run.stderr).toBe(0)
    expect(run.json).toMatchObject({
      dryRun: true,
      storage: {
        upload: { objects: 4 },
        identical: 0,
        overwrite: 0,
        bucketsToCreate: ['avatars', 'documents'],
      },
    })
    expect((await factsOf(target.raw)).size).toBe(0)
    // A file the target holds with other content: the restore would stop, so does the preview.
    await seed(target.raw, [{ bucket: 'documents', name: 'reports/q1.pdf', body: Buffer.from('newer') }])
    const refused = await runJobProcess('restore', [id, '--create-schema', '--dry-run'], restoreEnv)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(
      /TARGET_NOT_EMPTY: 1 objects in the target differ .*documents\/reports\/q1\.pdf/,
    )
    expect([...(await factsOf(target.raw)).keys()]).toEqual(['documents/reports/q1.pdf'])
  })

  it('leaves the files out with --no-storage', async () => {
    const target = await emptyProject()
    const run = await runJobProcess('restore', [id, '--create-schema', '--no-storage', '--json'], {
      ...env,
      TARGET_DATABASE_URL: await emptyDatabase('storage_jobs_nostorage'),
      ...storageEnv(target, 'TARGET_'),
    })
    expect(run.code, run.stderr).toBe(0)
    expect(run.json!.storage).toBeUndefined()
    expect((await factsOf(target.raw)).size).toBe(0)
  })
})

describe('a tampered blob', () => {
  it('fails backup:verify --read-data and the restore, naming the object', async () => {
    const run = await backupJob()
    expect(run.code, run.stderr).toBe(0)
    const id = run.json!.id as string
    const sidecar = await readSidecar(store, id)
    const pdf = (await store.list(BLOBS_PREFIX)).find((o) => o.size === '%PDF-1.7 report'.length)!
    // Same size, other bytes: only reading the content finds it.
    await store.put(pdf.key, Buffer.from('%PDF-1.7 repOrt'))
    expect(sidecar.storage).toBeDefined()
    const verify = await runJobProcess('verify', [id, '--read-data'], env)
    expect(verify.code).toBe(1)
    expect(verify.stderr).toMatch(/VERIFY_FAILED.*storage: documents\/reports\/q1\.pdf/)
    const target = await emptyProject()
    const restore = await runJobProcess('restore', [id, '--storage-only'], {
      ...env,
      ...storageEnv(target, 'TARGET_'),
    })
    expect(restore.code).toBe(1)
    expect(restore.stderr).toContain('documents/reports/q1.pdf')
    expect((await factsOf(target.raw)).size).toBe(0)
    await store.put(pdf.key, Buffer.from('%PDF-1.7 report'))
  }, 120_000)
})

describe("the production guard on the files' target", () => {
  it('refuses to restore files into the Storage the backup came from unless --confirm-storage names it', async () => {
    // The usual case for a files-only restore: a file was deleted in production.
    await source.raw.send(new DeleteObjectCommand({ Bucket: 'documents', Key: 'empty.txt' }))
    const intoSource = { ...env, ...storageEnv(source, 'TARGET_') }
    const refused = await runJobProcess('restore', ['latest', '--storage-only'], intoSource)
    expect(refused.code).toBe(2)
    const name = new URL(source.endpoint.url).host
    expect(refused.stderr).toMatch(
      new RegExp(
        `TARGET_PROTECTED: refusing to restore files into http://${name} \\(buckets avatars, documents\\): it is the Storage this backup's files were taken from; to write there anyway pass --confirm-storage ${name}`,
      ),
    )
    expect(
      refused.stderr
        .trim()
        .split('\n')
        .filter((l) => l.includes('TARGET_PROTECTED')),
    ).toHaveLength(1)
    expect((await factsOf(source.raw)).has('documents/empty.txt')).toBe(false)
    const wrong = await runJobProcess(
      'restore',
      ['latest', '--storage-only', '--confirm-storage', 'other-ref'],
      intoSource,
    )
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toContain(
      `--confirm-storage "other-ref" does not match the target Storage "${name}"`,
    )
    const confirmed = await runJobProcess(
      'restore',
      ['latest', '--storage-only', '--confirm-storage', name],
      intoSource,
    )
    expect(confirmed.code, confirmed.stderr).toBe(0)
    expect(confirmed.stdout).toMatch(/storage: restored 1 object \(0 B\), 3 already there/)
    expect((await factsOf(source.raw)).has('documents/empty.txt')).toBe(true)
  })

  it('refuses a full restore whose files would go to SUPABASE_STORAGE_S3_URL before the database is written', async () => {
    const target = await emptyProject()
    const url = await emptyDatabase('storage_jobs_guard')
    const spelled = `${target.endpoint.url.replace('http://', 'HTTP://')}/`
    const run = await runJobProcess('restore', ['latest', '--create-schema'], {
      ...env,
      TARGET_DATABASE_URL: url,
      ...storageEnv(target, 'TARGET_'),
      SUPABASE_STORAGE_S3_URL: spelled,
    })
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/TARGET_PROTECTED: .*it is the Storage SUPABASE_STORAGE_S3_URL names/)
    const tables = await withClient(url, (c) =>
      c.query(
        "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
      ),
    )
    expect(tables.rows[0].n).toBe(0)
    expect((await factsOf(target.raw)).size).toBe(0)
  })
})

describe('backup:clean', () => {
  it('sweeps the blobs only the deleted backups referenced', async () => {
    await seed(source.raw, [
      { bucket: 'documents', name: 'reports/q1.pdf', body: Buffer.from('%PDF-2.0 new') },
    ])
    const run = await backupJob()
    expect(run.code, run.stderr).toBe(0)
    const blobsBefore = (await store.list(BLOBS_PREFIX)).length
    // Far in the future, everything is past the retention; the newest one backup stays.
    const clean = await runJobProcess('clean', ['1', '--min-keep', '1', '--json'], {
      ...env,
      LIFEBOAT_NOW: '2099-01-01T00:00:00Z',
    })
    expect(clean.code, clean.stderr).toBe(0)
    expect(clean.json!.storage).toMatchObject({ swept: true, blobsDeleted: 1 })
    expect((await store.list(BLOBS_PREFIX)).length).toBe(blobsBefore - 1)
    const verify = await runJobProcess('verify', ['latest', '--read-data'], env)
    expect(verify.code, verify.stderr).toBe(0)
  }, 180_000)
})
