// Wrappers that count or hold calls to the real store and Storage client, so tests can
// say how many objects moved and force the interleavings a race needs.
import type { Readable } from 'node:stream'
import type { GetOptions, PutOptions, Store, StoredObject } from '../../lib/adapters/store/store.ts'
import type { PutStorageObject, StorageClient } from '../../lib/storage/client.ts'

export class CountingStore implements Store {
  readonly location: string
  readonly puts: string[] = []
  /** The options of each put, by key. */
  readonly putOptions = new Map<string, PutOptions | undefined>()
  readonly deletes: string[] = []
  readonly #inner: Store

  constructor(inner: Store) {
    this.#inner = inner
    this.location = inner.location
  }

  locate(key: string): string {
    return this.#inner.locate(key)
  }

  put(key: string, body: Readable | Buffer | string, options?: PutOptions) {
    this.puts.push(key)
    this.putOptions.set(key, options)
    return this.#inner.put(key, body, options)
  }

  get(key: string, options?: GetOptions): Promise<Readable> {
    return this.#inner.get(key, options)
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

  deleteBucket(bucket: string, signal?: AbortSignal) {
    return this.#inner.deleteBucket(bucket, signal)
  }
}

export interface StoreOp {
  index: number
  kind: 'put' | 'get' | 'list' | 'delete'
  key: string
}

/**
 * Holds one chosen call (by position, or the first matching a predicate) before it
 * reaches the real store, until released: the test runs the other process meanwhile.
 */
export class GatedStore implements Store {
  readonly location: string
  readonly ops: StoreOp[] = []
  readonly #inner: Store
  #gate: { at: (op: StoreOp) => boolean; reached: (op: StoreOp) => void; release: Promise<void> } | undefined

  constructor(inner: Store) {
    this.#inner = inner
    this.location = inner.location
  }

  /** `reached` resolves when the chosen call arrives; the call proceeds after `release()`. */
  pauseAt(at: number | ((op: StoreOp) => boolean)): { reached: Promise<StoreOp>; release: () => void } {
    let release!: () => void
    let reached!: (op: StoreOp) => void
    const reachedPromise = new Promise<StoreOp>((done) => {
      reached = done
    })
    const releasePromise = new Promise<void>((done) => {
      release = done
    })
    this.#gate = {
      at: typeof at === 'number' ? (op) => op.index === at : at,
      reached,
      release: releasePromise,
    }
    return { reached: reachedPromise, release }
  }

  async #pass(kind: StoreOp['kind'], key: string): Promise<void> {
    const op = { index: this.ops.length, kind, key }
    this.ops.push(op)
    const gate = this.#gate
    if (gate?.at(op)) {
      this.#gate = undefined
      gate.reached(op)
      await gate.release
    }
  }

  locate(key: string): string {
    return this.#inner.locate(key)
  }

  async put(key: string, body: Readable | Buffer | string, options?: PutOptions) {
    await this.#pass('put', key)
    return this.#inner.put(key, body, options)
  }

  async get(key: string): Promise<Readable> {
    await this.#pass('get', key)
    return this.#inner.get(key)
  }

  head(key: string): Promise<StoredObject | undefined> {
    return this.#inner.head(key)
  }

  async list(prefix: string): Promise<StoredObject[]> {
    await this.#pass('list', prefix)
    return this.#inner.list(prefix)
  }

  async delete(keys: readonly string[]): Promise<void> {
    await this.#pass('delete', keys.join(' '))
    return this.#inner.delete(keys)
  }
}
