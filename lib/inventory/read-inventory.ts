// Reads the store's backup inventory and sidecar manifests.

import type { Store } from '../adapters/store/store.ts'
import { BACKUPS_PREFIX, sidecarKey } from '../archive/layout.ts'
import { type Manifest, parseManifest } from '../archive/manifest.ts'
import { isLifeboatError, LifeboatError } from '../core/errors.ts'
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

/**
 * Why a sidecar does not vouch for its backup, or the sidecar when it does: it reads as
 * format v1, names this backup, and records exactly the stored archive's size (`sizes`:
 * key → bytes, from the listing, so no archive is read). Clean counts only such backups
 * toward the floor, monitor only such ones as fresh.
 */
export async function readVouchedSidecar(
  store: Store,
  id: string,
  sizes: ReadonlyMap<string, number>,
): Promise<string | Manifest> {
  try {
    const sidecar = await readSidecar(store, id)
    if (sidecar.id !== id) return `its sidecar names backup ${sidecar.id}`
    if (!sidecar.archive) return 'its sidecar records no archive size'
    const archiveSize = sizes.get(sidecar.archive.key)
    if (archiveSize === undefined)
      return `its sidecar names ${sidecar.archive.key}, which is not in the store`
    if (sidecar.archive.bytes !== archiveSize) {
      return `its archive has ${archiveSize} bytes, the sidecar records ${sidecar.archive.bytes}`
    }
    return sidecar
  } catch (error) {
    // Store access problems end the run (clean deletes nothing); a bad sidecar is this backup's problem.
    if (
      isLifeboatError(error) &&
      ['ARCHIVE_CORRUPT', 'ARCHIVE_FORMAT', 'BACKUP_NOT_FOUND'].includes(error.code)
    ) {
      return `its sidecar is unreadable: ${error.message}`
    }
    throw error
  }
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
