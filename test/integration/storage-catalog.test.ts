// Storage's tables as the optional input: the backup reads bucket settings, owners and
// exact user metadata inside the database snapshot and reports rows and files that do not
// match; the restore puts settings and owners back through the target database and
// reports rows without files and files without rows.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readStorageManifest } from '../../lib/storage/manifest-io.ts'
import { restoreStorage } from '../../lib/storage/restore.ts'
import { createDatabase, dropDatabase } from '../helpers/database.ts'
import { STORAGE_SCHEMA_SQL, SupabaseLikeStorage } from '../helpers/storage-catalog.ts'
import { CountingClient } from '../helpers/storage-spies.ts'
import {
  type BackupRun,
  backupWithSidecar,
  freshBackupStore,
  type StorageProject,
  seed,
  startStorageProject,
  storageSettings,
} from '../helpers/storage-world.ts'

const OWNER = '5b4237eb-37d0-4e18-9f04-9592efb69ab3'
const caption = { caption: 'Été ☀ à la plage', tags: ['sea', 'sun'], rating: 5 }
let source: StorageProject
let target: StorageProject
const databases: { name: string; url: string }[] = []
const clients: pg.Client[] = []

async function database(label: string): Promise<pg.Client> {
  const db = await createDatabase(label)
  databases.push(db)
  const client = new pg.Client({ connectionString: db.url })
  client.on('error', () => {})
  await client.connect()
  clients.push(client)
  await client.query(STORAGE_SCHEMA_SQL)
  return client
}

let sourceDb: pg.Client
let targetDb: pg.Client
const store = freshBackupStore('storage-catalog')
let backup: BackupRun

beforeAll(async () => {
  ;[source, target] = await Promise.all([startStorageProject('source'), startStorageProject('target')])
  sourceDb = await database('storage_source')
  targetDb = await database('storage_target')
  await seed(source.raw, [
    {
      bucket: 'avatars',
      name: 'u1.png',
      body: Buffer.from('u1'),
      contentType: 'image/png',
      metadata: { caption: 'ascii only' },
    },
    { bucket: 'avatars', name: 'u2.png', body: Buffer.from('u2'), contentType: 'image/png' },
    {
      bucket: 'private-docs',
      name: 'contract.pdf',
      body: Buffer.from('%PDF'),
      contentType: 'application/pdf',
    },
  ])
  await sourceDb.query(
    `INSERT INTO storage.buckets (id, name, public, file_size_limit, allowed_mime_types) VALUES
       ('avatars', 'avatars', true, 1048576, '{image/png,image/jpeg}'),
       ('private-docs', 'private-docs', false, NULL, NULL)`,
  )
  await sourceDb.query(
    `INSERT INTO storage.objects (bucket_id, name, owner_id, metadata, user_metadata) VALUES
       ('avatars', 'u1.png', $1, '{"mimetype": "image/png", "cacheControl": "max-age=60"}', $2),
       ('avatars', 'ghost.png', $1, '{"mimetype": "image/png"}', NULL),
       ('private-docs', 'contract.pdf', $1, '{"mimetype": "application/pdf"}', NULL)`,
    [OWNER, caption],
  )
  // As the backup job will: the storage listing right after the snapshot, read inside it.
  await sourceDb.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY')
  backup = await backupWithSidecar(
    { store, source: source.client, database: sourceDb },
    { settings: storageSettings(source.endpoint) },
  )
  await sourceDb.query('COMMIT')
})

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end()))
  await Promise.all(databases.map((d) => dropDatabase(d.name)))
  await Promise.all([source.server.stop(), target.server.stop()])
})

describe('a backup that reads storage.buckets and storage.objects', () => {
  it('records bucket settings as Supabase keeps them', async () => {
    const manifest = await readStorageManifest(store, backup.reference.manifest, undefined)
    expect(manifest.header.catalog).toBe('database')
    expect(manifest.header.buckets).toEqual([
      {
        name: 'avatars',
        objects: 2,
        bytes: 4,
        settings: {
          public: true,
          fileSizeLimit: 1048576,
          allowedMimeTypes: ['image/png', 'image/jpeg'],
          type: 'STANDARD',
          ownerId: null,
        },
      },
      {
        name: 'private-docs',
        objects: 1,
        bytes: 4,
        settings: {
          public: false,
          fileSizeLimit: null,
          allowedMimeTypes: null,
          type: 'STANDARD',
          ownerId: null,
        },
      },
    ])
  })

  it('takes owners and user metadata from the rows, exactly (S3 cannot carry nested or non-ASCII values)', async () => {
    const manifest = await readStorageManifest(store, backup.reference.manifest, undefined)
    const u1 = manifest.objects.find((o) => o.name === 'u1.png')!
    expect(u1).toMatchObject({ ownerId: OWNER, userMetadata: caption, cacheControl: 'max-age=60' })
  })

  it('on the next backup, takes unchanged objects’ metadata from their rows: no read, no HEAD', async () => {
    const counted = new CountingClient(source.client)
    await sourceDb.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY')
    try {
      const next = await backupWithSidecar(
        { store, source: counted, database: sourceDb },
        { settings: storageSettings(source.endpoint) },
      )
      expect(next.result.reused.objects).toBe(3)
    } finally {
      await sourceDb.query('COMMIT')
    }
    expect(counted.gets).toEqual([])
    expect(counted.heads).toEqual(['avatars/u2.png']) // the one file without a row
  })

  it('reports rows without a file and files without a row', () => {
    expect(backup.result).toMatchObject({ rowsWithoutFile: 1, filesWithoutRow: 1 })
    expect(backup.result.warnings.join('\n')).toMatch(/rows without file: avatars\/ghost\.png/)
    expect(backup.result.warnings.join('\n')).toMatch(/files without row: avatars\/u2\.png/)
  })
})

describe('a restore with the target database', () => {
  it('sets created buckets’ settings and owners, leaves existing buckets’ settings, and compares rows with files', async () => {
    // The target already has private-docs (private, as a person made it), with a file
    // Storage has no row for, and a row whose file is gone.
    await seed(target.raw, [{ bucket: 'private-docs', name: 'raw-only.pdf', body: Buffer.from('x') }])
    await targetDb.query(
      `INSERT INTO storage.buckets (id, name, public) VALUES ('private-docs', 'private-docs', false);
       INSERT INTO storage.objects (bucket_id, name) VALUES ('private-docs', 'orphan.pdf')`,
    )
    const result = await restoreStorage(
      { store, target: new SupabaseLikeStorage(target.client, targetDb), emit: () => {}, database: targetDb },
      backup.sidecar,
      { selection: { buckets: [], excludeBuckets: [] }, truncate: false, jobs: 2 },
    )
    expect(result).toMatchObject({
      bucketsCreated: ['avatars'],
      settingsApplied: ['avatars'],
      settingsPending: [],
      extraKept: 1,
      catalog: {
        rowsUpdated: 3,
        rowsWithoutFile: { count: 1, names: ['private-docs/orphan.pdf'] },
        filesWithoutRow: { count: 1, names: ['private-docs/raw-only.pdf'] },
      },
    })
    const buckets = await targetDb.query(
      'SELECT id, public, file_size_limit, allowed_mime_types FROM storage.buckets ORDER BY id',
    )
    expect(buckets.rows).toEqual([
      {
        id: 'avatars',
        public: true,
        file_size_limit: '1048576',
        allowed_mime_types: ['image/png', 'image/jpeg'],
      },
      { id: 'private-docs', public: false, file_size_limit: null, allowed_mime_types: null },
    ])
    const u1 = await targetDb.query(
      `SELECT owner, owner_id, user_metadata FROM storage.objects WHERE bucket_id = 'avatars' AND name = 'u1.png'`,
    )
    expect(u1.rows).toEqual([{ owner: OWNER, owner_id: OWNER, user_metadata: caption }])
  })

  it('without the target database, names the settings to set by hand', async () => {
    const other = await startStorageProject('target')
    try {
      const result = await restoreStorage({ store, target: other.client, emit: () => {} }, backup.sidecar, {
        selection: { buckets: ['avatars'], excludeBuckets: [] },
        truncate: false,
        jobs: 2,
      })
      expect(result?.settingsPending).toEqual([
        {
          bucket: 'avatars',
          settings: {
            public: true,
            fileSizeLimit: 1048576,
            allowedMimeTypes: ['image/png', 'image/jpeg'],
            type: 'STANDARD',
            ownerId: null,
          },
        },
      ])
      expect(result?.catalog).toBeNull()
      expect(result?.warnings.join('\n')).toMatch(/user metadata S3 cannot carry exactly/)
    } finally {
      await other.server.stop()
    }
  })
})
