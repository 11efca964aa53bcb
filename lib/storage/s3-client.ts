// Supabase Storage's S3-compatible endpoint through the AWS SDK: path-style, the
// project's region, its own access keys. Flexible checksums are off (the endpoint does
// not implement them); content integrity is our own sha256 on every transfer.
import type { Readable } from 'node:stream'
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3'
import { resumingRead } from '../adapters/store/resuming-read.ts'
import { isPreconditionFailed } from '../adapters/store/s3-store.ts'
import { partSizeFor, uploadObject } from '../adapters/store/s3-upload.ts'
import { LifeboatError } from '../core/errors.ts'
import { describeUrl } from '../core/secret.ts'
import {
  ObjectChangedWhileRead,
  type PutStorageObject,
  type StorageClient,
  type StorageListedObject,
  type StorageObjectMetadata,
  type StorageObjectRead,
} from './client.ts'
import type { StorageEndpoint } from './settings.ts'

export class S3StorageClient implements StorageClient {
  readonly location: string
  readonly #client: S3Client
  readonly #setting: string

  constructor(endpoint: StorageEndpoint) {
    this.location = describeUrl(endpoint.url, { keepPath: true })
    this.#setting = endpoint.setting
    this.#client = new S3Client({
      endpoint: endpoint.url,
      region: endpoint.region,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 4,
      credentials: {
        accessKeyId: endpoint.accessKeyId,
        secretAccessKey: endpoint.secretAccessKey.reveal(),
      },
    })
  }

  async listBuckets(signal?: AbortSignal): Promise<string[]> {
    const response = await this.#call(
      'listing the buckets',
      (o) => this.#client.send(new ListBucketsCommand({}), o),
      signal,
    )
    return (response.Buckets ?? []).flatMap((b) => (b.Name ? [b.Name] : []))
  }

  async listObjects(bucket: string, signal?: AbortSignal): Promise<StorageListedObject[]> {
    const found: StorageListedObject[] = []
    let token: string | undefined
    do {
      const page = await this.#call(
        `listing bucket ${bucket}`,
        (o) => this.#client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }), o),
        signal,
      )
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue
        found.push({ bucket, name: o.Key, size: o.Size ?? 0, etag: o.ETag || null })
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
    return found
  }

  async headObject(
    bucket: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<StorageObjectMetadata | undefined> {
    try {
      const r = await this.#client.send(new HeadObjectCommand({ Bucket: bucket, Key: name }), {
        abortSignal: signal,
      })
      return metadataOf(r, r.ContentLength ?? 0)
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw this.#error(error, `reading ${bucket}/${name}`)
    }
  }

  async getObject(
    bucket: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<StorageObjectRead | undefined> {
    try {
      const r = await this.#client.send(new GetObjectCommand({ Bucket: bucket, Key: name }), {
        abortSignal: signal,
      })
      // A reset connection is read on from where it broke, of the same object only (If-Match:
      // its ETag): the backup hashes what it reads, so a mix of two versions must fail (412).
      const resumeFrom = async (from: number) => {
        try {
          const again = await this.#client.send(
            new GetObjectCommand({ Bucket: bucket, Key: name, Range: `bytes=${from}-`, IfMatch: r.ETag }),
            { abortSignal: signal },
          )
          return again.Body as Readable
        } catch (error) {
          if (isNotFound(error) || isPreconditionFailed(error))
            throw new ObjectChangedWhileRead(`${bucket}/${name}`, error)
          throw error
        }
      }
      const body = resumingRead(r.Body as Readable, resumeFrom, {
        signal,
        failure: (error) => this.#error(error, `reading ${bucket}/${name}`),
      })
      return { ...metadataOf(r, r.ContentLength ?? 0), body }
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw this.#error(error, `reading ${bucket}/${name}`)
    }
  }

  async createBucket(bucket: string, signal?: AbortSignal): Promise<void> {
    await this.#call(
      `creating bucket ${bucket}`,
      (o) => this.#client.send(new CreateBucketCommand({ Bucket: bucket }), o),
      signal,
    )
  }

  async putObject(
    bucket: string,
    name: string,
    body: Readable,
    meta: PutStorageObject,
    signal?: AbortSignal,
  ): Promise<void> {
    try {
      await uploadObject(
        this.#client,
        {
          Bucket: bucket,
          Key: name,
          ContentType: meta.contentType ?? 'application/octet-stream',
          ...(meta.cacheControl ? { CacheControl: meta.cacheControl } : {}),
          ...(meta.userMetadata ? { Metadata: meta.userMetadata } : {}),
        },
        body,
        // The same parts as the backup store's for this object: sized to fit, large ones in files.
        { partSize: partSizeFor({ expectedBytes: meta.size }), signal },
      )
    } catch (error) {
      throw this.#error(error, `writing ${bucket}/${name}`)
    }
  }

  async deleteObjects(bucket: string, names: readonly string[], signal?: AbortSignal): Promise<void> {
    for (let i = 0; i < names.length; i += 1000) {
      const batch = names.slice(i, i + 1000)
      const response = await this.#call(
        `deleting from bucket ${bucket}`,
        (o) =>
          this.#client.send(
            new DeleteObjectsCommand({
              Bucket: bucket,
              Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
            }),
            o,
          ),
        signal,
      )
      const failed = response.Errors ?? []
      if (failed.length > 0) {
        throw new LifeboatError(
          'STORAGE_IO',
          `cannot delete ${failed.map((e) => `${bucket}/${e.Key} (${e.Code})`).join(', ')}`,
        )
      }
    }
  }

  async deleteBucket(bucket: string, signal?: AbortSignal): Promise<void> {
    await this.#call(
      `removing bucket ${bucket}`,
      (o) => this.#client.send(new DeleteBucketCommand({ Bucket: bucket }), o),
      signal,
    )
  }

  async #call<T>(
    what: string,
    run: (options: { abortSignal?: AbortSignal }) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    try {
      return await run(signal ? { abortSignal: signal } : {})
    } catch (error) {
      throw this.#error(error, what)
    }
  }

  #error(error: unknown, what: string): LifeboatError {
    return storageError(error, `${what} at ${this.location}`, this.#setting)
  }
}

function metadataOf(
  r: Pick<GetObjectCommandOutput, 'ETag' | 'ContentType' | 'CacheControl' | 'Metadata'> & {
    $metadata?: unknown
  },
  size: number,
): StorageObjectMetadata {
  const raw = r as { Metadata?: Record<string, string> }
  const missing = Number((r as { MissingMeta?: number }).MissingMeta ?? 0)
  const userMetadata = raw.Metadata && Object.keys(raw.Metadata).length > 0 ? raw.Metadata : null
  return {
    size,
    etag: r.ETag || null,
    contentType: r.ContentType || null,
    cacheControl: r.CacheControl || null,
    userMetadata,
    missingMetadata: Number.isFinite(missing) ? missing : 0,
  }
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } }
  return e.$metadata?.httpStatusCode === 404 || e.name === 'NoSuchKey' || e.name === 'NotFound'
}

/** SDK and network errors in the catalogue, naming the settings to check, never a key. */
export function storageError(error: unknown, what: string, setting: string): LifeboatError {
  if (error instanceof LifeboatError) return error
  const e = error as Error & { code?: string; $metadata?: { httpStatusCode?: number } }
  const status = e.$metadata?.httpStatusCode
  const name = e.name ?? 'Error'
  const network = [e.code, (e.cause as { code?: string } | undefined)?.code].find(
    (c) => c && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH)$/.test(c),
  )
  if (name === 'AbortError') return new LifeboatError('INTERNAL', `${what}: cancelled`, { cause: error })
  if (network || name === 'TimeoutError') {
    return new LifeboatError(
      'STORAGE_UNREACHABLE',
      `${what}: unreachable (${network ?? name}); check ${setting}_URL`,
      {
        cause: error,
      },
    )
  }
  if (name === 'NoSuchBucket') {
    return new LifeboatError('STORAGE_IO', `${what}: the bucket does not exist`, { cause: error })
  }
  if (
    status === 401 ||
    status === 403 ||
    /AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch/.test(name)
  ) {
    return new LifeboatError(
      'STORAGE_AUTH',
      `${what}: access denied (${name}); check ${setting}_ACCESS_KEY_ID, ${setting}_SECRET_ACCESS_KEY and ${setting}_REGION`,
      { cause: error },
    )
  }
  return new LifeboatError(
    'STORAGE_IO',
    `${what}: ${name}${status ? ` (HTTP ${status})` : ''}: ${e.message}`,
    {
      cause: error,
    },
  )
}
