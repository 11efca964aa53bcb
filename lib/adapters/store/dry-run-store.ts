// --dry-run as a store: reads pass through, writes and deletes are only recorded, and
// what was "deleted" disappears from list/head/get so the caller runs exactly as it would.
// A create-only put of a key the store holds fails as the real put would.
import type { Readable } from 'node:stream'
import { LifeboatError } from '../../core/errors.ts'
import type { GetOptions, PendingUpload, PutOptions, Store, StoredObject } from './store.ts'

export class DryRunStore implements Store {
  readonly location: string
  /** Keys a real run would have deleted, in order. */
  readonly deleted: string[] = []
  /** Keys a real run would have written, in order. */
  readonly written: string[] = []
  /** Unfinished uploads a real run would have aborted, in order. */
  readonly aborted: PendingUpload[] = []
  readonly #inner: Store
  readonly #gone = new Set<string>()

  constructor(inner: Store) {
    this.#inner = inner
    this.location = inner.location
  }

  locate(key: string): string {
    return this.#inner.locate(key)
  }

  async put(
    key: string,
    body: Readable | Buffer | string,
    options: PutOptions = {},
  ): Promise<{ bytes: number }> {
    if (options.ifNoneMatch && (this.written.includes(key) || (await this.head(key)))) {
      throw new LifeboatError(
        'STORE_KEY_EXISTS',
        `cannot write ${this.locate(key)}: already stored (dry run)`,
      )
    }
    this.written.push(key)
    if (typeof body === 'string' || Buffer.isBuffer(body)) return { bytes: Buffer.byteLength(body) }
    let bytes = 0
    for await (const chunk of body) bytes += Buffer.byteLength(chunk as Buffer)
    return { bytes }
  }

  async get(key: string, options?: GetOptions): Promise<Readable> {
    if (this.#gone.has(key)) {
      throw new LifeboatError('BACKUP_NOT_FOUND', `cannot read ${this.locate(key)}: deleted (dry run)`)
    }
    return this.#inner.get(key, options)
  }

  async head(key: string): Promise<StoredObject | undefined> {
    return this.#gone.has(key) ? undefined : this.#inner.head(key)
  }

  async list(prefix: string): Promise<StoredObject[]> {
    return (await this.#inner.list(prefix)).filter((o) => !this.#gone.has(o.key))
  }

  async listPendingUploads(prefix: string): Promise<PendingUpload[]> {
    const all = this.#inner.listPendingUploads ? await this.#inner.listPendingUploads(prefix) : []
    return all.filter((u) => !this.aborted.some((a) => a.handle === u.handle && a.key === u.key))
  }

  async abortPendingUpload(upload: PendingUpload): Promise<void> {
    this.aborted.push(upload)
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      this.deleted.push(key)
      this.#gone.add(key)
    }
  }
}
