// A Storage object read from a project goes on from where its connection dropped, and
// only from the same object (If-Match: its ETag): the backup hashes what it reads, so
// bytes of two versions must never be joined into one blob. An object replaced or
// deleted before the read could go on is read again from its start, or left out as gone.
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { buffer } from 'node:stream/consumers'
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FileStore } from '../../lib/adapters/store/file-store.ts'
import { ObjectChangedWhileRead, openStorageClient, type StorageClient } from '../../lib/storage/client.ts'
import { readStorageManifest } from '../../lib/storage/manifest-io.ts'
import { type CountingProxy, type ProxyOptions, startCountingProxy } from '../helpers/counting-proxy.ts'
import {
  backupWithSidecar,
  type StorageProject,
  startStorageProject,
  storageSettings,
} from '../helpers/storage-world.ts'

const MiB = 1024 * 1024
const CUT = MiB + 3
let project: StorageProject
const proxies: CountingProxy[] = []
const body = randomBytes(3 * MiB)
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

beforeAll(async () => {
  project = await startStorageProject('source')
})
afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()))
  await project.server.stop()
})

/**
 * A bucket `bucket` holding `bucket`.mp4 of `bytes`, and a client whose first long GET is
 * cut after CUT bytes, with S3's If-Match honoured.
 */
async function cutRead(bucket: string, bytes: Buffer, options: ProxyOptions = {}) {
  const name = `${bucket}.mp4`
  await project.raw.send(new CreateBucketCommand({ Bucket: bucket }))
  await project.raw.send(new PutObjectCommand({ Bucket: bucket, Key: name, Body: bytes }))
  const proxy = await startCountingProxy(project.server.endpoint, {
    cutFirstGetAfter: CUT,
    honourIfMatch: true,
    ...options,
  })
  proxies.push(proxy)
  const client = await openStorageClient({ ...project.endpoint, url: proxy.endpoint })
  const gets = () => proxy.requests.filter((r) => r.startsWith('GET') && r.includes(name))
  return { client, gets }
}

/** The first byte a resumed GET asked for. */
const resumedFrom = (request: string) => Number(/bytes=(\d+)-/.exec(request)![1])

const replace = (bucket: string, bytes: Buffer) => async () => {
  await project.raw.send(new PutObjectCommand({ Bucket: bucket, Key: `${bucket}.mp4`, Body: bytes }))
}

describe('reading a Storage object whose connection drops mid-body', () => {
  it('reads on from the byte where it broke, asking for the same object', async () => {
    const { client, gets } = await cutRead('talk', body)
    const got = await client.getObject('talk', 'talk.mp4')
    expect((await buffer(got!.body)).equals(body)).toBe(true)
    expect(gets()).toHaveLength(2)
    expect(gets()[1]).toMatch(/\(bytes=\d+-, if-match "[0-9a-f]+"\)$/)
    // Where the client's read broke: at the cut, or before it when the reset dropped bytes still in its socket.
    expect(resumedFrom(gets()[1]!)).toBeGreaterThan(0)
    expect(resumedFrom(gets()[1]!)).toBeLessThanOrEqual(CUT)
  })

  it('fails as changed-while-read, never joining two versions, when the object was replaced before it could go on', async () => {
    const { client } = await cutRead('swap', body, { beforeCut: replace('swap', randomBytes(3 * MiB)) })
    const got = await client.getObject('swap', 'swap.mp4')
    const read = buffer(got!.body)
    await expect(read).rejects.toBeInstanceOf(ObjectChangedWhileRead)
    await expect(read).rejects.toMatchObject({
      code: 'STORAGE_IO',
      message: 'swap/swap.mp4 was replaced or deleted while it was read',
    })
  })
})

describe('a Storage backup whose read of an object drops mid-body', () => {
  const backup = (bucket: string, client: StorageClient) => {
    const store = new FileStore(mkdtempSync(join(resolve('.tmp'), 'storage-read-resume-')))
    const settings = storageSettings(project.endpoint, {
      selection: { buckets: [bucket], excludeBuckets: [] },
    })
    return { store, run: backupWithSidecar({ store, source: client }, { settings }) }
  }

  it('keeps the whole new version of an object replaced before the read could go on, with a warning', async () => {
    const replacement = randomBytes(2 * MiB + 5)
    const { client, gets } = await cutRead('clip', body, { beforeCut: replace('clip', replacement) })
    const { store, run } = backup('clip', client)
    const { reference, result } = await run
    const manifest = await readStorageManifest(store, reference.manifest, undefined)
    const clip = manifest.objects.find((o) => o.name === 'clip.mp4')
    expect(clip).toMatchObject({ size: replacement.length, sha256: sha256(replacement) })
    expect(result.warnings).toContain(
      'clip/clip.mp4 was replaced or deleted while it was read; reading it again from its start',
    )
    expect(gets().map((g) => g.replace(/"[0-9a-f]+"/, 'etag').replace(/bytes=\d+-/, 'bytes=N-'))).toEqual([
      'GET /clip/clip.mp4?x-id=GetObject',
      'GET /clip/clip.mp4?x-id=GetObject (bytes=N-, if-match etag)',
      'GET /clip/clip.mp4?x-id=GetObject',
    ])
    expect(resumedFrom(gets()[1]!)).toBeLessThanOrEqual(CUT)
  })

  it('leaves out, as deleted during the backup, an object deleted before the read could go on', async () => {
    const remove = async () => {
      await project.raw.send(new DeleteObjectCommand({ Bucket: 'gone', Key: 'gone.mp4' }))
    }
    const { client } = await cutRead('gone', body, { beforeCut: remove })
    const { store, run } = backup('gone', client)
    const { reference, result } = await run
    const manifest = await readStorageManifest(store, reference.manifest, undefined)
    expect(manifest.objects.map((o) => o.name)).not.toContain('gone.mp4')
    expect(manifest.header.consistency.deletedDuringBackup.names).toContain('gone/gone.mp4')
    expect(result.changedDuringBackup.deleted).toBeGreaterThanOrEqual(1)
  })
})
