// The restorable backups of a store, newest first, described from the sidecar
// manifests alone (no archive is downloaded): what `backup:list` shows.
import type { Store } from '../adapters/store/store.ts'
import { listInventory, readSidecars } from './read-inventory.ts'

export interface ListedBackup {
  id: string
  /** The backup's start (from its id), ISO 8601 UTC. */
  time: string
  finishedAt: string | undefined
  location: string
  archiveBytes: number
  encrypted: boolean
  tables: number | undefined
  rows: number | undefined
  dataBytes: number | undefined
  schemaSql: boolean | undefined
}

export interface BackupListing {
  store: string
  backups: ListedBackup[]
  /** Archives without a sidecar: uploads that never finished, never restorable. */
  incomplete: string[]
  /** Sidecars that could not be read. */
  problems: string[]
}

export async function listBackups(store: Store): Promise<BackupListing> {
  const records = await listInventory(store)
  const complete = records.filter((r) => r.complete)
  const { manifests, problems } = await readSidecars(store, complete)
  return {
    store: store.location,
    backups: complete.map((record) => {
      const manifest = manifests.get(record.id)
      return {
        id: record.id,
        time: record.time.toISOString(),
        finishedAt: manifest?.finishedAt,
        location: store.locate(record.archive!.key),
        archiveBytes: record.archive!.size,
        encrypted: record.archive!.encrypted,
        tables: manifest?.totals.tables,
        rows: manifest?.totals.rows,
        dataBytes: manifest?.totals.bytes,
        schemaSql: manifest ? manifest.schemaSql !== null : undefined,
      }
    }),
    incomplete: records.filter((r) => !r.complete).map((r) => r.id),
    problems,
  }
}
