// A Storage object read from a project goes on from where its connection dropped, and
// only from the same object (If-Match: its ETag): the backup hashes what it reads, so
// bytes of two versions must never be joined into one blob.
import { randomBytes } from 'node:crypto'
import { buffer } from 'node:stream/consumers'
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStorageClient } from '../../lib/storage/client.ts'
import { type CountingProxy, startCountingProxy } from '../helpers/counting-proxy.ts'
import { type StorageProject, startStorageProject } from '../helpers/storage-world.ts'

const MiB = 1024 * 1024
let project: StorageProject
let proxy: CountingProxy
const body = randomBytes(3 * MiB)

beforeAll(async () => {
  project = await startStorageProject('source')
  await project.raw.send(new CreateBucketCommand({ Bucket: 'videos' }))
  await project.raw.send(new PutObjectCommand({ Bucket: 'videos', Key: 'talk.mp4', Body: body }))
  proxy = await startCountingProxy(project.server.endpoint, { cutFirstGetAfter: MiB + 3 })
})
afterAll(async () => {
  await proxy.close()
  await project.server.stop()
})

describe('reading a Storage object whose connection drops mid-body', () => {
  it('reads on from the byte where it broke, asking for the same object', async () => {
    const client = await openStorageClient({ ...project.endpoint, url: proxy.endpoint })
    const got = await client.getObject('videos', 'talk.mp4')
    expect((await buffer(got!.body)).equals(body)).toBe(true)
    const gets = proxy.requests.filter((r) => r.startsWith('GET') && r.includes('talk.mp4'))
    expect(gets).toHaveLength(2)
    expect(gets[1]).toMatch(/\(bytes=1048579-, if-match "[0-9a-f]+"\)$/)
  })
})
