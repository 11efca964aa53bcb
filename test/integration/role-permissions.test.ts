// The jobs under their AWS roles' real permissions. The test S3 API (s3rver behind the proxy of
// test/helpers/s3-server.ts) holds each request to the role's policies from infra/iam-documents.ts
// plus the bucket policy, answers 403 like S3 (also for a missing key the role may not list),
// and enforces `If-None-Match: *`. Every job runs as its workflow runs it, and the calls it
// made are recorded: test/infra/fixtures/store-calls.json, which test/infra/store-calls.test.ts
// replays against the policies the Pulumi program deploys.
import { mkdtempSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  bucketPolicy,
  cleanerPolicy,
  type PolicyDocument,
  readerPolicy,
  writerPolicy,
} from '../../infra/iam-documents.ts'
import { FileStore } from '../../lib/adapters/store/file-store.ts'
import { S3Store } from '../../lib/adapters/store/s3-store.ts'
import { isKeyExists, type Store } from '../../lib/adapters/store/store.ts'
import { readStoreConfig, SettingsReader } from '../../lib/core/config.ts'
import { startCountingProxy } from '../helpers/counting-proxy.ts'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import {
  type RecordedRequest,
  type S3Server,
  s3Env,
  startS3Server,
  TEST_BUCKET,
} from '../helpers/s3-server.ts'
import { type StorageProject, seed, startStorageProject, storageEnv } from '../helpers/storage-world.ts'

const PREFIX = 'production'
const BUCKET_ARN = `arn:aws:s3:::${TEST_BUCKET}`
const roleArn = (duty: string) => `arn:aws:iam::123456789012:role/lifeboat-test-${duty}`
const scope = { bucketArn: BUCKET_ARN, prefix: PREFIX }
const ROLES: Record<string, PolicyDocument> = {
  writer: writerPolicy(scope),
  cleaner: cleanerPolicy(scope),
  reader: readerPolicy(scope),
}
const BUCKET_POLICY = bucketPolicy(BUCKET_ARN, Object.keys(ROLES).map(roleArn))

let server: S3Server
/** Supabase Storage of the project backed up, and of the one restored into. */
let storageSource: StorageProject
let storageTarget: StorageProject
let source: { name: string; url: string }
let target: { name: string; url: string }
const state = () => ({
  LIFEBOAT_STATE_FILE: join(mkdtempSync(join(resolve('.tmp'), 'state-')), 'status.json'),
})

beforeAll(async () => {
  server = await startS3Server('.tmp', {
    policies: Object.fromEntries(
      Object.entries(ROLES).map(([duty, doc]) => [
        duty,
        { documents: [doc, BUCKET_POLICY], principalArn: roleArn(duty) },
      ]),
    ),
  })
  source = await createDatabase('roles_source')
  target = await createDatabase('roles_target')
  storageSource = await startStorageProject('source')
  storageTarget = await startStorageProject('target')
  await seed(storageSource.raw, [
    { bucket: 'avatars', name: 'u/1.png', body: Buffer.from('first avatar') },
    { bucket: 'docs', name: 'a.txt', body: Buffer.from('a document') },
  ])
  await sql(
    source.url,
    'CREATE TABLE items (id int PRIMARY KEY, label text); INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 200) g',
  )
})

afterAll(async () => {
  await server?.stop()
  await storageSource?.server.stop()
  await storageTarget?.server.stop()
  await dropDatabase(source.name)
  await dropDatabase(target.name)
}, 30_000)

function storeAs(duty: string, prefix = PREFIX): S3Store {
  const reader = new SettingsReader(s3Env(server.endpoint, prefix, duty))
  const config = readStoreConfig(reader)
  reader.finish()
  return new S3Store(config!.s3!)
}

async function text(store: Store, key: string): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of await store.get(key)) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks).toString('utf8')
}

describe('a backup, once written, cannot be replaced with the writer’s permissions', () => {
  const key = 'database-backups/backup-2027-01-01T020000Z.tar.gz'
  // The unrestricted key s3rver knows reads back what is really stored.
  const owner = () => storeAs('S3RVER')

  it('a second create-only PutObject is refused (412) and the original is intact', async () => {
    const writer = storeAs('writer')
    await writer.put(key, 'original archive', { ifNoneMatch: '*' })
    const second = await writer.put(key, 'tampered archive', { ifNoneMatch: '*' }).catch((e: unknown) => e)
    expect(isKeyExists(second)).toBe(true)
    expect(await text(owner(), key)).toBe('original archive')
  })

  it('a plain PutObject (no If-None-Match) is refused by the writer’s policy (403), the original intact', async () => {
    const second = await storeAs('writer')
      .put(key, 'tampered archive')
      .catch((e: unknown) => e)
    expect((second as { code?: string }).code).toBe('STORE_FORBIDDEN')
    expect(await text(owner(), key)).toBe('original archive')
  })

  it('a multipart upload over an existing archive is refused at CompleteMultipartUpload, the original intact', async () => {
    const big = 'database-backups/backup-2027-01-02T020000Z.tar.gz'
    const writer = storeAs('writer')
    const size = 17 * 1024 * 1024
    await writer.put(big, Readable.from([Buffer.alloc(size, 1)]), { ifNoneMatch: '*' })
    const before = server.requests.length
    const second = await writer
      .put(big, Readable.from([Buffer.alloc(size, 2)]), { ifNoneMatch: '*' })
      .catch((e: unknown) => e)
    expect(isKeyExists(second)).toBe(true)
    const operations = server.requests
      .slice(before)
      .flatMap((r) => r.authorizations.map((a) => `${a.operation}:${r.status}`))
    expect(operations).toEqual(
      expect.arrayContaining(['CreateMultipartUpload:200', 'UploadPart:200', 'CompleteMultipartUpload:412']),
    )
    const stored = await owner().head(big)
    expect(stored?.size).toBe(size)
    const first = await (await owner().get(big)).read(1)
    expect(Buffer.from(first as Buffer)[0]).toBe(1)
  })

  it('uploads an object of a known size in parts of 5 MiB, the least S3 allows (a backup’s memory follows the part size)', async () => {
    const sized = 'database-backups/backup-2027-01-03T020000Z.tar.gz'
    const size = 12 * 1024 * 1024 + 5
    const bytes = Buffer.alloc(size)
    for (let i = 0; i < size; i += 4096) bytes[i] = (i / 4096) % 251
    const before = server.requests.length
    // Handed over in small pieces, as the archive writer streams it.
    const pieces = Array.from({ length: Math.ceil(size / 65_536) }, (_, i) =>
      bytes.subarray(i * 65_536, (i + 1) * 65_536),
    )
    await owner().put(sized, Readable.from(pieces), { ifNoneMatch: '*', expectedBytes: size })
    const parts = server.requests
      .slice(before)
      .flatMap((r) => r.authorizations.filter((a) => a.operation === 'UploadPart'))
    expect(parts).toHaveLength(3)
    const stored: Buffer[] = []
    for await (const chunk of await owner().get(sized)) stored.push(chunk as Buffer)
    expect(Buffer.concat(stored).equals(bytes)).toBe(true)
  })

  it('the folder store refuses a second create-only write the same way', async () => {
    const store = new FileStore(mkdtempSync(join(resolve('.tmp'), 'create-only-')))
    await store.put(key, 'original', { ifNoneMatch: '*' })
    const second = await store.put(key, 'tampered', { ifNoneMatch: '*' }).catch((e: unknown) => e)
    expect(isKeyExists(second)).toBe(true)
    expect(await text(store, key)).toBe('original')
  })
})

/** One recorded store call, relative to the store's prefix, ids and random parts made generic. */
interface StoreCall {
  operation: string
  action: string
  key?: string
  prefix?: string
  ifNoneMatch?: string
}

const calls: Record<string, { role: string; calls: StoreCall[] }> = {}

async function runAs(
  job: string,
  role: string,
  args: string[],
  extra: Record<string, string> = {},
): Promise<Awaited<ReturnType<typeof runJobProcess>>> {
  const before = server.requests.length
  const run = await runJobProcess(job, args, {
    ...s3Env(server.endpoint, PREFIX, role),
    ...state(),
    ...extra,
  })
  const made = server.requests.slice(before)
  calls[job] ??= { role, calls: [] }
  const entry = calls[job]
  for (const call of made.flatMap(normalise)) {
    if (!entry.calls.some((c) => JSON.stringify(c) === JSON.stringify(call))) entry.calls.push(call)
  }
  return run
}

function normalise(request: RecordedRequest): StoreCall[] {
  const generic = (text: string) =>
    text
      .slice(`${PREFIX}/`.length)
      .replace(/backup-\d{4}-\d{2}-\d{2}T\d{6}Z/g, 'backup-<id>')
      .replace(/^audit\/\d{4}\/\d{2}\/\d{2}\/[^/]+$/, 'audit/<yyyy>/<mm>/<dd>/<record>.json')
      .replace(/^audit\/\d{4}\/\d{2}\/$/, 'audit/<yyyy>/<mm>/')
      .replace(/^drills\/(drill|dr-test)-[^/]+\.json$/, 'drills/$1-<id>.json')
      .replace(/^drills\/access-review-[^/]+\.json$/, 'drills/access-review-<time>.json')
      .replace(/^storage-objects\/sha256\/[0-9a-f]{2}\/[0-9a-f]{64}$/, 'storage-objects/sha256/<ab>/<sha256>')
      .replace(/^storage-locks\/.+$/, 'storage-locks/<lock>')
  return request.authorizations.map((a) => ({
    operation: a.operation,
    action: a.action,
    ...(a.key !== undefined ? { key: generic(a.key) } : {}),
    ...(a.context['s3:prefix'] !== undefined ? { prefix: generic(a.context['s3:prefix']!) } : {}),
    ...(a.context['s3:if-none-match'] !== undefined ? { ifNoneMatch: a.context['s3:if-none-match'] } : {}),
  }))
}

describe('every job works with its role’s permissions', () => {
  let jobsFrom = 0
  beforeAll(() => {
    jobsFrom = server.requests.length
  })
  const denied = () => server.requests.slice(jobsFrom).filter((r) => r.decision && r.decision !== 'allow')

  it('backup (writer), twice: archive, sidecar, audit record and status all written', async () => {
    for (const round of [1, 2]) {
      // The second backup stores one changed file; the first one's blob goes with it at clean.
      if (round === 2)
        await seed(storageSource.raw, [{ bucket: 'avatars', name: 'u/1.png', body: Buffer.from('new') }])
      const run = await runAs('backup', 'writer', ['--json'], {
        DATABASE_URL: source.url,
        ...storageEnv(storageSource),
      })
      expect(run.code, run.stderr).toBe(0)
      expect(run.stderr).not.toMatch(/audit record not written|warning: .*(store|status)/i)
      // The second backup compares itself with the first (reads the earlier sidecar).
    }
    const owner = storeAs('S3RVER')
    expect((await owner.list('audit/')).length).toBeGreaterThanOrEqual(2)
    expect(JSON.parse(await text(owner, 'state/status.json')).jobs.backup.consecutiveFailures).toBe(0)
  }, 120_000)

  it('verify --quick (reader), monitor (reader), audit (reader)', async () => {
    for (const [job, args] of [
      ['verify', ['latest', '--quick', '--json']],
      ['monitor', ['--json']],
      ['audit', ['--json']],
    ] as const) {
      const run = await runAs(job, 'reader', [...args])
      expect(run.code, `${job}: ${run.stderr}`).toBe(0)
      expect(run.stderr).not.toMatch(/audit record not written/)
    }
  }, 120_000)

  it('restore and drill (reader) into empty databases', async () => {
    const restore = await runAs('restore', 'reader', ['latest', '--create-schema', '--json', '--quiet'], {
      TARGET_DATABASE_URL: target.url,
      ...storageEnv(storageTarget, 'TARGET_'),
    })
    expect(restore.code, restore.stderr).toBe(0)
    expect(restore.json).toMatchObject({ storage: { uploaded: { objects: 2 } } })
    const staging = await createDatabase('roles_staging')
    try {
      const drill = await runAs('drill', 'reader', ['--json'], { STAGING_DATABASE_URL: staging.url })
      expect(drill.code, drill.stderr).toBe(0)
      expect(drill.stderr).not.toMatch(/report not (stored|written)|audit record not written/i)
    } finally {
      await dropDatabase(staging.name)
    }
  }, 180_000)

  it('dr-test (reader) with the access review: stored next to its report, compared with the last', async () => {
    const review = {
      version: 1,
      stack: 'test',
      bucket: BUCKET_ARN,
      principals: [
        { name: 'reader', kind: 'role', arn: roleArn('reader'), trusts: [], allows: [], denies: [] },
      ],
    }
    for (const round of [1, 2]) {
      const empty = await createDatabase(`roles_dr_test_${round}`)
      try {
        const run = await runAs('dr-test', 'reader', ['--json'], {
          DR_TEST_DATABASE_URL: empty.url,
          LIFEBOAT_ACCESS_REVIEW: JSON.stringify(review),
        })
        expect(run.code, run.stderr).toBe(0)
        expect(run.stderr).not.toMatch(/access review not done|report not (stored|written)/i)
      } finally {
        await dropDatabase(empty.name)
      }
    }
  }, 180_000)

  it('clean (cleaner) deletes the expired backup and records it', async () => {
    const run = await runAs('clean', 'cleaner', ['--json'], {
      RETENTION_DAYS: '1',
      RETENTION_MIN_KEEP: '1',
      LIFEBOAT_NOW: new Date(Date.now() + 10 * 86_400_000).toISOString(),
    })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).not.toMatch(/audit record not written/)
    expect(JSON.stringify(run.json)).toMatch(/backup-\d{4}/)
    expect(run.json).toMatchObject({ storage: { swept: true, blobsDeleted: 1 } })
  }, 60_000)

  it('backup (writer) whose signature landed but whose answer was lost: reads it back and knows it for its own', async () => {
    const proxy = await startCountingProxy(server.endpoint, {
      loseAnswerTo: (method, url) => method === 'PUT' && url.includes('.manifest.json.minisig'),
    })
    try {
      const run = await runAs('backup', 'writer', ['--json'], {
        DATABASE_URL: source.url,
        AWS_ENDPOINT_URL_S3: proxy.endpoint,
      })
      expect(run.code, run.stderr).toBe(0)
      expect(proxy.requests.filter((r) => r.startsWith('PUT') && r.includes('.minisig'))).toHaveLength(2)
      expect(proxy.requests.filter((r) => r.startsWith('GET') && r.includes('.minisig'))).toHaveLength(1)
    } finally {
      await proxy.close()
    }
  }, 60_000)

  it('no job was refused anything but the 403 S3 gives a role for a status file not written yet', () => {
    const unexpected = denied().filter(
      (r) => !r.authorizations.every((a) => a.key?.endsWith('state/status.json')),
    )
    expect(
      unexpected.map(
        (r) =>
          `${r.accessKeyId} ${r.method} ${r.url} ${r.authorizations.map((a) => JSON.stringify(a.context))}`,
      ),
    ).toEqual([])
  })

  it('records every call each job made (replayed against the deployed policies by test/infra/store-calls.test.ts)', async () => {
    const sorted = Object.fromEntries(
      Object.entries(calls)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([job, entry]) => [
          job,
          {
            role: entry.role,
            calls: [...entry.calls].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
          },
        ]),
    )
    await expect(`${JSON.stringify(sorted, null, 2)}\n`).toMatchFileSnapshot(
      '../infra/fixtures/store-calls.json',
    )
    expect(Object.keys(sorted).sort()).toEqual([
      'audit',
      'backup',
      'clean',
      'dr-test',
      'drill',
      'monitor',
      'restore',
      'verify',
    ])
  })
})
