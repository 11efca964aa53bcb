// Builds the Store a configuration names. The AWS SDK (about 25 MB and 150 ms to load)
// is loaded on first use, so jobs on a folder store never pay for it.

import { resolve } from 'node:path'
import type { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import type { S3Settings, StoreConfig } from '../../core/config.ts'
import { FileStore } from './file-store.ts'
import { s3Location, s3Url } from './s3-location.ts'
import type { GetOptions, PendingUpload, PutOptions, Store, StoredObject, StoredVersion } from './store.ts'

export function openStore(config: StoreConfig): Store {
  if (config.s3) return new LazyS3Store(config.s3)
  const url = config.url
  // file://relative/path is accepted as a convenience; file:///abs/path is the URL form.
  const path = url.startsWith('file:///') ? fileURLToPath(url) : url.replace(/^file:\/\//, '')
  return new FileStore(resolve(path))
}

class LazyS3Store implements Store {
  readonly location: string
  readonly #settings: S3Settings
  #store: Promise<Store> | undefined

  constructor(settings: S3Settings) {
    this.#settings = settings
    this.location = s3Location(settings)
  }

  locate(key: string): string {
    return s3Url(this.#settings, key)
  }

  async put(key: string, body: Readable | Buffer | string, options?: PutOptions) {
    return (await this.#load()).put(key, body, options)
  }

  async get(key: string, options?: GetOptions): Promise<Readable> {
    return (await this.#load()).get(key, options)
  }

  async head(key: string): Promise<StoredObject | undefined> {
    return (await this.#load()).head(key)
  }

  async list(prefix: string): Promise<StoredObject[]> {
    return (await this.#load()).list(prefix)
  }

  async delete(keys: readonly string[]): Promise<void> {
    return (await this.#load()).delete(keys)
  }

  async listPendingUploads(prefix: string): Promise<PendingUpload[]> {
    return (await this.#load()).listPendingUploads!(prefix)
  }

  async abortPendingUpload(upload: PendingUpload): Promise<void> {
    return (await this.#load()).abortPendingUpload!(upload)
  }

  async versions(prefix: string): Promise<StoredVersion[]> {
    return (await this.#load()).versions!(prefix)
  }

  #load(): Promise<Store> {
    this.#store ??= import('./s3-store.ts').then(({ S3Store }) => new S3Store(this.#settings))
    return this.#store
  }
}
