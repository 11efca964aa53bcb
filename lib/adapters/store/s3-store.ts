// S3 (or any S3-compatible API) as a store: streaming multipart uploads through a fixed
// set of part slots (s3-upload.ts); a failed upload is aborted so nothing half-written
// looks complete. Create-only puts send `If-None-Match: *` on PutObject or
// CompleteMultipartUpload, the two requests that make an object appear; no HEAD first.
// Every request has connect, idle-socket and response timeouts: an endpoint that
// accepts the connection and never answers fails as STORE_UNREACHABLE, never hangs.

import type { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3'
import type { S3Settings } from '../../core/config.ts'
import { LifeboatError } from '../../core/errors.ts'
import { keyPrefix, s3Location, s3Url } from './s3-location.ts'
import { partSizeFor, stageFolder, uploadObject } from './s3-upload.ts'
import type { GetOptions, PendingUpload, PutOptions, Store, StoredObject, StoredVersion } from './store.ts'

/** Attempts of a create-only write of bytes in memory that S3 answers 409, and the pause before the next. */
const CONFLICT_ATTEMPTS = 3
const CONFLICT_PAUSE_MS = 500

/** Seconds a request may wait without a byte moving (LIFEBOAT_STORE_TIMEOUT overrides). */
export const STORE_TIMEOUT_DEFAULT_SECONDS = 60

/**
 * The SDK's Node request handler timeouts for one "no progress" budget: connecting
 * (at most 10 s), an idle socket (the budget), and the whole request up to its response
 * headers (ten budgets: a 16 MiB part on a slow link). Each of the SDK's attempts has them.
 */
export function storeTimeouts(seconds = STORE_TIMEOUT_DEFAULT_SECONDS): {
  connectionTimeout: number
  socketTimeout: number
  requestTimeout: number
  throwOnRequestTimeout: true
} {
  const ms = seconds * 1000
  return {
    connectionTimeout: Math.min(ms, 10_000),
    socketTimeout: ms,
    requestTimeout: ms * 10,
    throwOnRequestTimeout: true,
  }
}

const SILENT_LOGGER = { debug() {}, info() {}, warn() {}, error() {} }

export function createS3Client(settings: S3Settings): S3Client {
  const config: S3ClientConfig = {
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    requestChecksumCalculation: settings.requestChecksumCalculation,
    responseChecksumValidation: settings.responseChecksumValidation,
    maxAttempts: 4,
    requestHandler: storeTimeouts(settings.timeoutSeconds),
    // Without a logger of its own the SDK writes a warning to the console when a request
    // with a stream body fails; the uploader sends such a part again itself (s3-resend.ts).
    logger: SILENT_LOGGER,
  }
  if (settings.endpoint) config.endpoint = settings.endpoint
  if (settings.credentials) {
    config.credentials = {
      accessKeyId: settings.credentials.accessKeyId,
      secretAccessKey: settings.credentials.secretAccessKey.reveal(),
      ...(settings.credentials.sessionToken
        ? { sessionToken: settings.credentials.sessionToken.reveal() }
        : {}),
    }
  }
  return new S3Client(config)
}

export class S3Store implements Store {
  readonly location: string
  readonly #client: S3Client
  readonly #bucket: string
  readonly #prefix: string
  readonly #settings: S3Settings

  constructor(settings: S3Settings, client: S3Client = createS3Client(settings)) {
    this.#client = client
    this.#bucket = settings.bucket
    this.#settings = settings
    this.#prefix = keyPrefix(settings)
    this.location = s3Location(settings)
  }

  locate(key: string): string {
    return s3Url(this.#settings, key)
  }

  async put(
    key: string,
    body: Readable | Buffer | string,
    options: PutOptions = {},
  ): Promise<{ bytes: number }> {
    const shape = { partSize: partSizeFor(options), tempDir: options.tempDir }
    const payload = typeof body === 'string' ? Buffer.from(body) : body
    const params = {
      Bucket: this.#bucket,
      Key: this.#prefix + key,
      ContentType: options.contentType ?? 'application/octet-stream',
      ...(options.ifNoneMatch ? { IfNoneMatch: options.ifNoneMatch } : {}),
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return {
          bytes: await uploadObject(this.#client, params, payload, { ...shape, signal: options.signal }),
        }
      } catch (error) {
        // S3 answers a create-only write that races another write of the key 409 and asks
        // for the write again; bytes in memory can be sent again (a stream cannot).
        const again = options.ifNoneMatch && isConditionalConflict(error) && Buffer.isBuffer(payload)
        if (!again || attempt >= CONFLICT_ATTEMPTS) throw this.#putError(error, key, options, shape)
        await sleep(CONFLICT_PAUSE_MS * attempt, undefined, { signal: options.signal })
      }
    }
  }

  #putError(error: unknown, key: string, options: PutOptions, shape: { tempDir?: string }): Error {
    if (options.ifNoneMatch && isPreconditionFailed(error)) {
      return new LifeboatError(
        'STORE_KEY_EXISTS',
        `cannot write ${this.locate(key)}: an object is already stored under this key (kept as it was)`,
        { cause: error },
      )
    }
    if (options.ifNoneMatch && isConditionalConflict(error)) {
      return new LifeboatError(
        'STORE_KEY_EXISTS',
        `cannot write ${this.locate(key)}: another write of this key was under way at the same time (409 ConditionalRequestConflict)`,
        { cause: error },
      )
    }
    const full = diskFull(error)
    if (full) {
      return new LifeboatError(
        'TEMP_DISK_FULL',
        `cannot write ${this.locate(key)}: the temp folder ${stageFolder(shape)} ran out of space (${full}) for the upload's parts`,
        { cause: error },
      )
    }
    return s3Error(error, `cannot write ${this.locate(key)}`)
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    try {
      const response = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.#bucket,
          Key: this.#prefix + key,
          ...(options.from ? { Range: `bytes=${options.from}-` } : {}),
        }),
      )
      return response.Body as Readable
    } catch (error) {
      throw s3Error(error, `cannot read ${this.locate(key)}`)
    }
  }

  async head(key: string): Promise<StoredObject | undefined> {
    try {
      const response = await this.#client.send(
        new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }),
      )
      return { key, size: response.ContentLength ?? 0, modified: response.LastModified ?? new Date(0) }
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
      if (status === 404 || (error as Error).name === 'NotFound') return undefined
      throw s3Error(error, `cannot read ${this.locate(key)}`)
    }
  }

  /** Current and noncurrent versions and delete markers, page by page (needs s3:ListBucketVersions). */
  async versions(prefix: string): Promise<StoredVersion[]> {
    const found: StoredVersion[] = []
    let keyMarker: string | undefined
    let versionMarker: string | undefined
    const key = (k: string) => k.slice(this.#prefix.length)
    try {
      do {
        const page = await this.#client.send(
          new ListObjectVersionsCommand({
            Bucket: this.#bucket,
            Prefix: this.#prefix + prefix,
            KeyMarker: keyMarker,
            VersionIdMarker: versionMarker,
          }),
        )
        for (const v of page.Versions ?? []) {
          if (v.Key)
            found.push({
              key: key(v.Key),
              size: v.Size ?? 0,
              current: v.IsLatest === true,
              deleteMarker: false,
            })
        }
        for (const m of page.DeleteMarkers ?? []) {
          if (m.Key)
            found.push({ key: key(m.Key), size: 0, current: m.IsLatest === true, deleteMarker: true })
        }
        keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined
        versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined
      } while (keyMarker)
    } catch (error) {
      throw s3Error(error, `cannot list the versions in ${this.locate(prefix)}`)
    }
    return found
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const found: StoredObject[] = []
    let token: string | undefined
    try {
      do {
        const page = await this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: this.#prefix + prefix,
            ContinuationToken: token,
          }),
        )
        for (const object of page.Contents ?? []) {
          if (!object.Key) continue
          found.push({
            key: object.Key.slice(this.#prefix.length),
            size: object.Size ?? 0,
            modified: object.LastModified ?? new Date(0),
          })
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token)
    } catch (error) {
      throw s3Error(error, `cannot list ${this.locate(prefix)}`)
    }
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  }

  /** Multipart uploads under the prefix that were initiated and never completed nor aborted. */
  async listPendingUploads(prefix: string): Promise<PendingUpload[]> {
    const found: PendingUpload[] = []
    let keyMarker: string | undefined
    let uploadIdMarker: string | undefined
    try {
      do {
        const page = await this.#client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.#bucket,
            Prefix: this.#prefix + prefix,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
        )
        for (const upload of page.Uploads ?? []) {
          if (!upload.Key || !upload.UploadId) continue
          found.push({
            key: upload.Key.slice(this.#prefix.length),
            started: upload.Initiated ?? new Date(0),
            handle: upload.UploadId,
          })
        }
        const more = page.IsTruncated === true
        keyMarker = more ? page.NextKeyMarker : undefined
        uploadIdMarker = more ? page.NextUploadIdMarker : undefined
      } while (keyMarker)
    } catch (error) {
      throw s3Error(error, `cannot list the unfinished uploads under ${this.locate(prefix)}`)
    }
    return found.sort((a, b) => a.started.getTime() - b.started.getTime())
  }

  async abortPendingUpload(upload: PendingUpload): Promise<void> {
    try {
      await this.#client.send(
        new AbortMultipartUploadCommand({
          Bucket: this.#bucket,
          Key: this.#prefix + upload.key,
          UploadId: upload.handle,
        }),
      )
    } catch (error) {
      // Already gone (completed, aborted or expired by the lifecycle rule): nothing to do.
      if ((error as Error).name === 'NoSuchUpload') return
      throw s3Error(error, `cannot abort the unfinished upload of ${this.locate(upload.key)}`)
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000)
      try {
        const response = await this.#client.send(
          new DeleteObjectsCommand({
            Bucket: this.#bucket,
            Delete: { Objects: batch.map((key) => ({ Key: this.#prefix + key })), Quiet: true },
          }),
        )
        const failed = response.Errors ?? []
        if (failed.length > 0) {
          throw new LifeboatError(
            failed.some((e) => e.Code === 'AccessDenied') ? 'STORE_FORBIDDEN' : 'STORE_IO',
            `cannot delete ${failed.map((e) => `${e.Key} (${e.Code})`).join(', ')}`,
          )
        }
      } catch (error) {
        throw s3Error(error, `cannot delete from ${this.location}`)
      }
    }
  }
}

/** What the SDK's error says about S3's answer. */
type S3Answer = { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } }

/** S3's answer to a conditional write while another write of the same key is under way. */
function isConditionalConflict(error: unknown): boolean {
  const e = error as S3Answer
  return (
    e.$metadata?.httpStatusCode === 409 &&
    (e.name === 'ConditionalRequestConflict' || e.Code === 'ConditionalRequestConflict')
  )
}

/** S3 answers 412 PreconditionFailed when `If-None-Match: *` finds the key taken, or `If-Match` another ETag. */
export function isPreconditionFailed(error: unknown): boolean {
  const e = error as S3Answer
  return (
    e.$metadata?.httpStatusCode === 412 || e.name === 'PreconditionFailed' || e.Code === 'PreconditionFailed'
  )
}

/** A local disk that filled while parts were staged on it (ENOSPC, EDQUOT: never the store's). */
function diskFull(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code
  return code === 'ENOSPC' || code === 'EDQUOT' ? code : undefined
}

/** Maps SDK and network errors to the catalogue, keeping the S3 error name. */
export function s3Error(error: unknown, what: string): LifeboatError {
  if (error instanceof LifeboatError) return error
  const e = error as Error & { code?: string; $metadata?: { httpStatusCode?: number }; Code?: string }
  const status = e.$metadata?.httpStatusCode
  const name = e.name ?? 'Error'
  const network = [e.code, (e.cause as { code?: string } | undefined)?.code].find(
    (c) => c && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH)$/.test(c),
  )
  // No credentials anywhere in the SDK's chain: a setting to fix, not a store to retry.
  if (name === 'CredentialsProviderError') {
    return new LifeboatError(
      'CONFIG_MISSING',
      `${what}: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with a role (OIDC in GitHub Actions) (${e.message})`,
      { cause: error },
    )
  }
  if (network || name === 'TimeoutError') {
    return new LifeboatError('STORE_UNREACHABLE', `${what}: store unreachable (${network ?? name})`, {
      cause: error,
    })
  }
  if (
    status === 403 ||
    name === 'AccessDenied' ||
    name === 'InvalidAccessKeyId' ||
    name === 'SignatureDoesNotMatch'
  ) {
    return new LifeboatError('STORE_FORBIDDEN', `${what}: access denied (${name})`, { cause: error })
  }
  // Before the generic 404: a missing bucket is not a missing backup.
  if (name === 'NoSuchBucket' || e.Code === 'NoSuchBucket') {
    return new LifeboatError('STORE_MISSING', `${what}: the bucket does not exist (NoSuchBucket)`, {
      cause: error,
    })
  }
  if (status === 404 || name === 'NoSuchKey' || name === 'NotFound') {
    return new LifeboatError('BACKUP_NOT_FOUND', `${what}: no such object`, { cause: error })
  }
  return new LifeboatError('STORE_IO', `${what}: ${name}${status ? ` (HTTP ${status})` : ''}: ${e.message}`, {
    cause: error,
  })
}
