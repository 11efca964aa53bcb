// Reads the store's backup inventory and sidecar manifests.

import type { Store } from '../adapters/store/store.ts'
import { BACKUPS_PREFIX, sidecarKey } from '../archive/layout.ts'
import { type Manifest, parseManifest } from '../archive/manifest.ts'
import { LifeboatError } from '../core/errors.ts'
import {
  type BackupRecord,
  type BackupSelector,
  describeClockAhead,
  inventoryOf,
  selectBackup,
} from './inventory.ts'

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

export interface ChosenBackup {
  record: BackupRecord
  manifest: Manifest
  /** What a person should know about the choice (passed-over empty backups, a clock-ahead id). */
  warnings: string[]
}

/**
 * The backup a selector names, with its sidecar. `latest` and dates pass over backups that
 * hold no table (and, through selectBackup, ids ahead of the store's clock); a backup named
 * by id is taken as it is, with a warning when its date cannot be believed.
 */
export async function chooseBackup(
  store: Store,
  records: readonly BackupRecord[],
  selector: Exclude<BackupSelector, { kind: 'file' }>,
  read: (store: Store, id: string) => Promise<Manifest> = readSidecar,
): Promise<ChosenBackup> {
  const warnings: string[] = []
  let remaining = [...records]
  for (;;) {
    const record = selectBackup(remaining, selector)
    const manifest = await read(store, record.id)
    const byDate = selector.kind === 'latest' || selector.kind === 'date'
    if (byDate && manifest.totals.tables === 0) {
      warnings.push(`${record.id} holds no table: passed over`)
      remaining = remaining.filter((r) => r.id !== record.id)
      continue
    }
    if (record.clockAhead) warnings.push(describeClockAhead(record))
    return { record, manifest, warnings }
  }
}
