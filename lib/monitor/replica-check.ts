// The second copy, checked from listings alone: every complete backup of the primary store
// older than the replication lag must be complete in the replica too (archive and sidecar,
// which S3 replicates one by one). A backup missing there is reported, never fatal: the
// primary copy is still good, but the protection against a lost region or account is not.
import type { Store } from '../adapters/store/store.ts'
import { BACKUPS_PREFIX } from '../archive/layout.ts'
import { type BackupRecord, inventoryOf } from '../inventory/inventory.ts'

export interface ReplicaCheckOptions {
  now: Date
  /** Backups younger than this may still be on their way. */
  lagHours: number
}

export interface ReplicaCheckResult {
  store: string
  /** Primary backups old enough to be expected in the replica. */
  checked: number
  /** Their ids, newest first, when the replica lacks them (or holds them incomplete). */
  missing: string[]
  /** One line per problem, for the alert path. */
  warnings: string[]
}

export async function checkReplica(
  replica: Store,
  primary: readonly BackupRecord[],
  options: ReplicaCheckOptions,
): Promise<ReplicaCheckResult> {
  const cutoff = options.now.getTime() - options.lagHours * 3_600_000
  const expected = primary.filter((r) => r.complete && r.time.getTime() <= cutoff)
  let present: Set<string>
  try {
    present = new Set(
      inventoryOf(await replica.list(BACKUPS_PREFIX))
        .filter((r) => r.complete)
        .map((r) => r.id),
    )
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    return {
      store: replica.location,
      checked: expected.length,
      missing: [],
      warnings: [
        `replica ${replica.location} could not be listed, so the second copy is unchecked: ${message}`,
      ],
    }
  }
  const missing = expected.filter((r) => !present.has(r.id)).map((r) => r.id)
  return {
    store: replica.location,
    checked: expected.length,
    missing,
    warnings: missing.map(
      (id) =>
        `${id} is missing from the replica ${replica.location} (older than ${options.lagHours} h: replication is broken or far behind)`,
    ),
  }
}
