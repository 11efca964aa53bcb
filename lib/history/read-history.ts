// Gathers the history `backup:report` shows: the sidecars of every complete backup and
// every drill or DR-test report under drills/. Unreadable objects are listed, not fatal.
import type { Store } from '../adapters/store/store.ts'
import { DRILLS_PREFIX } from '../archive/layout.ts'
import { type DrillReport, parseDrillReport } from '../drills/report.ts'
import { listInventory, readSidecars } from '../inventory/read-inventory.ts'
import { assembleHistory, type BackupHistoryRow, backupRowOf, type History } from './history.ts'

export async function readHistory(store: Store, now: Date): Promise<History> {
  const inventory = await listInventory(store)
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
  return assembleHistory({ now, backups, drills, problems })
}

async function readText(store: Store, key: string): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of await store.get(key)) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks).toString('utf8')
}
