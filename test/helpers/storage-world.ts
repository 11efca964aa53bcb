// Real S3 API servers standing in for Supabase Storage (a source and a target project,
// each its own s3rver) beside the shared backup store, plus the raw AWS SDK to seed and
// inspect them independently of the code under test.
import { createCipheriv, createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { inject } from 'vitest'
import { openStore } from '../../lib/adapters/store/open-store.ts'
import type { Store } from '../../lib/adapters/store/store.ts'
import { readStoreConfig, SettingsReader } from '../../lib/core/config.ts'
import { Secret } from '../../lib/core/secret.ts'
import { openStorageClient, type StorageClient } from '../../lib/storage/client.ts'
import { STORAGE_DEFAULTS, type StorageEndpoint, type StorageSettings } from '../../lib/storage/settings.ts'
import { type S3Server, s3Env, startS3Server } from './s3-server.ts'

let counter = 0

export interface StorageProject {
  server: S3Server
  endpoint: StorageEndpoint
  client: StorageClient
  /** The AWS SDK, straight: seeds and inspects without Lifeboat's code. */
  raw: S3Client
}

export { type BackupRun, backupWithSidecar, nextBackupId } from './storage-sidecar.ts'

export async function startStorageProject(role: 'source' | 'target'): Promise<StorageProject> {
  const server = await startS3Server('.tmp', { buckets: [] })
  const endpoint: StorageEndpoint = {
    // Supabase serves the API under /storage/v1/s3; s3rver at its root.
    url: server.endpoint,
    region: 'local',
    accessKeyId: 'S3RVER',
    secretAccessKey: new Secret('S3RVER'),
    setting: role === 'target' ? 'TARGET_SUPABASE_STORAGE_S3' : 'SUPABASE_STORAGE_S3',
  }
  const raw = new S3Client({
    endpoint: server.endpoint,
    region: 'local',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  })
  return { server, endpoint, client: await openStorageClient(endpoint), raw }
}

/** A fresh prefix of the shared backup store (the S3 API server from global setup). */
export function freshBackupStore(label: string): Store {
  const env = s3Env(inject('s3Endpoint'), `${label}-${process.pid}-${counter++}`)
  const reader = new SettingsReader(env)
  const config = readStoreConfig(reader)
  reader.finish()
  return openStore(config!)
}

export function storageSettings(
  endpoint: StorageEndpoint,
  overrides: Partial<StorageSettings> = {},
): StorageSettings {
  return {
    endpoint,
    selection: { buckets: [], excludeBuckets: [] },
    jobs: 4,
    rereadDays: STORAGE_DEFAULTS.rereadDays,
    reread: false,
    lockTtlMinutes: STORAGE_DEFAULTS.lockTtlMinutes,
    ...overrides,
  }
}

export interface SeedObject {
  bucket: string
  name: string
  body: Buffer | (() => Readable)
  contentType?: string
  cacheControl?: string
  metadata?: Record<string, string>
}

export async function seed(raw: S3Client, objects: readonly SeedObject[]): Promise<void> {
  const existing = new Set(((await raw.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name))
  for (const bucket of new Set(objects.map((o) => o.bucket))) {
    if (!existing.has(bucket)) await raw.send(new CreateBucketCommand({ Bucket: bucket }))
  }
  for (const o of objects) {
    await new Upload({
      client: raw,
      params: {
        Bucket: o.bucket,
        Key: o.name,
        Body: Buffer.isBuffer(o.body) ? o.body : o.body(),
        ContentType: o.contentType,
        CacheControl: o.cacheControl,
        Metadata: o.metadata,
      },
      partSize: 8 * 1024 * 1024,
      leavePartsOnError: true,
    }).done()
  }
}

/** Deterministic pseudo-random bytes (AES-CTR over zeros), streamed in 1 MiB chunks. */
export function pseudoRandom(size: number, seed: string): () => Readable {
  return () => {
    const cipher = seededCipher(seed)
    const zeros = Buffer.alloc(1024 * 1024)
    return Readable.from(
      (function* () {
        for (let done = 0; done < size; done += zeros.length) {
          yield cipher.update(zeros.subarray(0, Math.min(zeros.length, size - done)))
        }
      })(),
    )
  }
}

/** The same bytes as `pseudoRandom`, in memory (for small fixtures). */
export function pseudoRandomBuffer(size: number, seed: string): Buffer {
  return seededCipher(seed).update(Buffer.alloc(size))
}

function seededCipher(seed: string) {
  return createCipheriv(
    'aes-128-ctr',
    createHash('sha256').update(seed).digest().subarray(0, 16),
    Buffer.alloc(16),
  )
}

export interface ObjectFacts {
  size: number
  sha256: string
  contentType: string | undefined
  cacheControl: string | undefined
  metadata: Record<string, string>
}

/** Every object of a server: `bucket/name` → size, sha256 and metadata, read with the raw SDK. */
export async function factsOf(raw: S3Client): Promise<Map<string, ObjectFacts>> {
  const facts = new Map<string, ObjectFacts>()
  for (const bucket of ((await raw.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name!)) {
    const listed = (await raw.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []
    for (const { Key } of listed) {
      const got = await raw.send(new GetObjectCommand({ Bucket: bucket, Key }))
      const hash = createHash('sha256')
      let size = 0
      for await (const chunk of got.Body as Readable) {
        hash.update(chunk as Buffer)
        size += (chunk as Buffer).length
      }
      facts.set(`${bucket}/${Key}`, {
        size,
        sha256: hash.digest('hex'),
        contentType: got.ContentType,
        cacheControl: got.CacheControl,
        metadata: got.Metadata ?? {},
      })
    }
  }
  return facts
}

/** The job environment naming a project's Storage: the backup's source, or with `TARGET_` a restore's target. */
export function storageEnv(
  project: StorageProject,
  prefix: '' | 'TARGET_' | 'STAGING_' = '',
): Record<string, string> {
  return {
    [`${prefix}SUPABASE_STORAGE_S3_URL`]: project.endpoint.url,
    [`${prefix}SUPABASE_STORAGE_S3_REGION`]: project.endpoint.region,
    [`${prefix}SUPABASE_STORAGE_S3_ACCESS_KEY_ID`]: project.endpoint.accessKeyId,
    [`${prefix}SUPABASE_STORAGE_S3_SECRET_ACCESS_KEY`]: project.endpoint.secretAccessKey.reveal(),
  }
}
