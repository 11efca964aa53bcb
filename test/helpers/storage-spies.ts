// Wrappers that count or hold calls to the real store and Storage client, so tests can
// say how many objects moved and force the interleavings a race needs.
import type { Readable } from 'node:stream'
import type { Store, StoredObject } from '../../lib/adapters/store/store.ts'
import type { PutStorageObject, StorageClient } from '../../lib/storage/client.ts'

export class CountingStore implements Store {
  readonly location: string
  readonly puts: string[] = []
  readonly deletes: string[] = []
  readonly #inner: Store

  constructor(inner: Store) {
    this.#inner = inner
    this.location = inner.location
  }

  locate(key: string): string {
    return this.#inner.locate(key)
  }

  put(key: string, body: Readable | Buffer | string, options?: { contentType?: string }) {
    this.puts.push(key)
    return this.#inner.put(key, body, options)
  }

  get(key: string): Promise<Readable> {
    return this.#inner.get(key)
  }

  head(key: string): Promise<StoredObject | undefined> {
    return this.#inner.head(key)
  }

  list(prefix: string): Promise<StoredObject[]> {
    return this.#inner.list(prefix)
  }

  delete(keys: readonly string[]): Promise<void> {
    this.deletes.push(...keys)
    return this.#inner.delete(keys)
  }
}

/** Counts reads of the Storage source and the most transfers seen in flight at once. */
export class CountingClient implements StorageClient {
  readonly location: string
  readonly gets: string[] = []
  readonly heads: string[] = []
  inFlight = 0
  maxInFlight = 0
  readonly #inner: StorageClient

  constructor(inner: StorageClient) {
    this.#inner = inner
    this.location = inner.location
  }

  listBuckets(signal?: AbortSignal) {
    return this.#inner.listBuckets(signal)
  }

  listObjects(bucket: string, signal?: AbortSignal) {
    return this.#inner.listObjects(bucket, signal)
  }

  headObject(bucket: string, name: string, signal?: AbortSignal) {
    this.heads.push(`${bucket}/${name}`)
    return this.#inner.headObject(bucket, name, signal)
  }

  async getObject(bucket: string, name: string, signal?: AbortSignal) {
    this.gets.push(`${bucket}/${name}`)
    const got = await this.#inner.getObject(bucket, name, signal)
    if (got) {
      this.inFlight++
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
      got.body.once('close', () => this.inFlight--)
    }
    return got
  }

  createBucket(bucket: string, signal?: AbortSignal) {
    return this.#inner.createBucket(bucket, signal)
  }

  putObject(bucket: string, name: string, body: Readable, meta: PutStorageObject, signal?: AbortSignal) {
    return this.#inner.putObject(bucket, name, body, meta, signal)
  }

  deleteObjects(bucket: string, names: readonly string[], signal?: AbortSignal) {
    return this.#inner.deleteObjects(bucket, names, signal)
  }
}
