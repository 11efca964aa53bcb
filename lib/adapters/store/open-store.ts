// Builds the Store a configuration names.

import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { StoreConfig } from '../../core/config.ts'
import { FileStore } from './file-store.ts'
import { S3Store } from './s3-store.ts'
import type { Store } from './store.ts'

export function openStore(config: StoreConfig): Store {
  if (config.s3) return new S3Store(config.s3)
  const url = config.url
  // file://relative/path is accepted as a convenience; file:///abs/path is the URL form.
  const path = url.startsWith('file:///') ? fileURLToPath(url) : url.replace(/^file:\/\//, '')
  return new FileStore(resolve(path))
}
