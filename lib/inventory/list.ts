// The restorable backups of a store, newest first, described from the sidecar
// manifests alone (no archive is downloaded): what `backup:list` shows.
import type { Store } from '../adapters/store/store.ts'
import { describeClockAhead } from './inventory.ts'
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
  /** `clock-ahead`: dated later than the store recorded it; `empty`: holds no table. Never `latest`. */
  flags: ('clock-ahead' | 'empty')[]
}

export interface BackupListing {
  store: string
  backups: ListedBackup[]
  /** Archives without a sidecar: uploads that never finished, never restorable. */
  incomplete: string[]
  /** Sidecars that could not be read. */
  problems: string[]
  /** One line per flagged backup, saying what is wrong with it. */
  warnings: string[]
}

export async function listBackups(store: Store): Promise<BackupListing> {
  const records = await listInventory(store)
  const complete = records.filter((r) => r.complete)
  const { manifests, problems } = await readSidecars(store, complete)
  const warnings: string[] = []
  return {
    store: store.location,
    backups: complete.map((record) => {
      const manifest = manifests.get(record.id)
      const flags: ListedBackup['flags'] = []
      if (record.clockAhead) {
        flags.push('clock-ahead')
        warnings.push(describeClockAhead(record))
      }
      if (manifest && manifest.totals.tables === 0) {
        flags.push('empty')
        warnings.push(
          `${record.id} holds no table: it is never taken as latest nor counted toward the retention floor`,
        )
      }
      return {
        flags,
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
    warnings,
  }
}
