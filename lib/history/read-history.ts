// Gathers the history `backup:report` shows: the sidecars of every complete backup, the
// failed runs in the audit trail, every drill or DR-test report under drills/.
// Unreadable objects are listed, not fatal.
import type { Store } from '../adapters/store/store.ts'
import { DRILLS_PREFIX } from '../archive/layout.ts'
import { listAudit } from '../audit/trail.ts'
import { type ErrorCode, ExitCode, errorCatalogue } from '../core/errors.ts'
import { type DrillReport, parseDrillReport } from '../drills/report.ts'
import { listInventory, readSidecars } from '../inventory/read-inventory.ts'
import {
  assembleHistory,
  type BackupHistoryRow,
  backupRowOf,
  type FailedRun,
  type History,
} from './history.ts'

/** The jobs whose failed runs the history shows (drills report their own). */
const SCHEDULED = new Set(['backup', 'verify', 'clean', 'monitor'])
const DAY = 86_400_000

export async function readHistory(store: Store, now: Date): Promise<History> {
  const inventory = await listInventory(store)
  const oldest = inventory.at(-1)?.time.getTime() ?? now.getTime()
  const failures = await readFailures(store, new Date(Math.min(oldest, now.getTime() - 30 * DAY)), now)
  const { manifests, problems } = await readSidecars(store, inventory)
  const backups: BackupHistoryRow[] = inventory.flatMap((record) => {
    const manifest = manifests.get(record.id)
    return manifest ? [backupRowOf(record, manifest)] : []
  })
  const drills: DrillReport[] = []
  for (const object of await store.list(DRILLS_PREFIX)) {
    // The DR test's access reviews live beside the reports (lib/engine/access-review.ts).
    if (!object.key.endsWith('.json') || object.key.startsWith(`${DRILLS_PREFIX}access-review-`)) continue
    const where = store.locate(object.key)
    const parsed = parseDrillReport(await readText(store, object.key), where)
    if ('report' in parsed) drills.push(parsed.report)
    else problems.push(parsed.problem)
  }
  return assembleHistory({ now, backups, failures, drills, problems })
}

/**
 * Failed runs in the audit trail since `since`. A job stopped by bad usage or configuration
 * did not run (docs/alerts.md): it is no longer audited, and the records earlier versions
 * wrote for one (outcome failure, an exit-2 code) are not failed runs either.
 */
async function readFailures(store: Store, since: Date, now: Date): Promise<FailedRun[]> {
  const records = await listAudit(store, { since, until: now, limit: 2000 })
  return records.flatMap(({ record }) =>
    record && record.outcome === 'failure' && SCHEDULED.has(record.event) && !isUsageError(record.error?.code)
      ? [
          {
            at: record.at,
            event: record.event,
            code: record.error?.code ?? 'failure',
            message: record.error?.message ?? '',
          },
        ]
      : [],
  )
}

function isUsageError(code: string | undefined): boolean {
  return code !== undefined && Object.hasOwn(errorCatalogue, code)
    ? errorCatalogue[code as ErrorCode].exit === ExitCode.usage
    : false
}

async function readText(store: Store, key: string): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of await store.get(key)) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks).toString('utf8')
}
