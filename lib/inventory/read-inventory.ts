// Reads the store's backup inventory and sidecar manifests.

import type { Store } from '../adapters/store/store.ts'
import { BACKUPS_PREFIX, sidecarKey } from '../archive/layout.ts'
import { type Manifest, parseManifest } from '../archive/manifest.ts'
import { LifeboatError } from '../core/errors.ts'
import { type BackupRecord, inventoryOf } from './inventory.ts'

export async function listInventory(store: Store): Promise<BackupRecord[]> {
  return inventoryOf(await store.list(BACKUPS_PREFIX))
}

export async function readSidecar(store: Store, id: string): Promise<Manifest> {
  const stream = await store.get(sidecarKey(id))
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk))
  return parseManifest(Buffer.concat(chunks).toString('utf8'), store.locate(sidecarKey(id)))
}

/** Sidecars of the given complete backups; an unreadable one is reported, not fatal. */
export async function readSidecars(
  store: Store,
  records: readonly BackupRecord[],
): Promise<{ manifests: Map<string, Manifest>; problems: string[] }> {
  const manifests = new Map<string, Manifest>()
  const problems: string[] = []
  for (const record of records.filter((r) => r.complete)) {
    try {
      manifests.set(record.id, await readSidecar(store, record.id))
    } catch (error) {
      if (
        error instanceof LifeboatError &&
        error.code !== 'ARCHIVE_CORRUPT' &&
        error.code !== 'ARCHIVE_FORMAT'
      )
        throw error
      problems.push(`${record.id}: ${(error as Error).message}`)
    }
  }
  return { manifests, problems }
}
