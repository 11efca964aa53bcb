// What the store holds and what it costs a month: current objects (backups, sidecars,
// drill reports, the audit trail) and, on a versioned bucket, the noncurrent versions
// deletes leave behind until the lifecycle rule removes them.
import type { Store, StoredObject, StoredVersion } from '../adapters/store/store.ts'
import { formatBytes, formatCount } from '../core/format.ts'

export interface Amount {
  objects: number
  bytes: number
}

export interface StoreFootprint {
  current: Amount
  /** Undefined when the store keeps no versions or would not list them (`noncurrentNote` says why). */
  noncurrent?: Amount & { deleteMarkers: number }
  noncurrentNote?: string
}

export interface StoragePrices {
  /** Per GB-month (AWS bills a GB as 2^30 bytes). */
  currentGbMonth: number
  noncurrentGbMonth: number
  currency: string
}

export interface CostEstimate {
  currency: string
  current: number
  noncurrent: number
  total: number
}

/** Sums a listing and, when there is one, a version listing. Pure. */
export function footprintOf(
  objects: readonly StoredObject[],
  versions?: readonly StoredVersion[],
): StoreFootprint {
  const current = { objects: objects.length, bytes: objects.reduce((n, o) => n + o.size, 0) }
  if (!versions) return { current }
  const old = versions.filter((v) => !v.current && !v.deleteMarker)
  return {
    current,
    noncurrent: {
      objects: old.length,
      bytes: old.reduce((n, v) => n + v.size, 0),
      deleteMarkers: versions.filter((v) => v.deleteMarker).length,
    },
  }
}

const GB = 1024 ** 3

export function estimateCost(footprint: StoreFootprint, prices: StoragePrices): CostEstimate {
  const current = (footprint.current.bytes / GB) * prices.currentGbMonth
  const noncurrent = ((footprint.noncurrent?.bytes ?? 0) / GB) * prices.noncurrentGbMonth
  return { currency: prices.currency, current, noncurrent, total: current + noncurrent }
}

/** Lists the store, and its versions where it keeps them; a refused version listing is a note, not a failure. */
export async function readFootprint(store: Store): Promise<StoreFootprint> {
  const objects = await store.list('')
  if (!store.versions) {
    return { ...footprintOf(objects), noncurrentNote: 'the folder store keeps no versions' }
  }
  try {
    return footprintOf(objects, await store.versions(''))
  } catch (error) {
    const forbidden = (error as { code?: string }).code === 'STORE_FORBIDDEN'
    return {
      ...footprintOf(objects),
      noncurrentNote: `unknown: ${(error as Error).message}${forbidden ? ' (the role needs s3:ListBucketVersions)' : ''}`,
    }
  }
}

/** The footprint as a Markdown section, with the estimate and the prices it used. */
export function footprintMarkdown(
  footprint: StoreFootprint,
  cost: CostEstimate,
  prices: StoragePrices,
): string {
  const money = (value: number) => `${value.toFixed(2)} ${cost.currency}`
  const rows = [
    `| current | ${formatCount(footprint.current.objects)} | ${formatBytes(footprint.current.bytes)} | ${money(cost.current)} |`,
    footprint.noncurrent
      ? `| noncurrent versions | ${formatCount(footprint.noncurrent.objects)} | ${formatBytes(footprint.noncurrent.bytes)} | ${money(cost.noncurrent)} |`
      : `| noncurrent versions | — | — | — |`,
  ]
  const notes = [
    `Estimated at ${prices.currentGbMonth} ${prices.currency} per GB-month current and ${prices.noncurrentGbMonth} noncurrent (STORAGE_PRICE_GB_MONTH, STORAGE_PRICE_NONCURRENT_GB_MONTH); requests and transfer are not included.`,
  ]
  if (footprint.noncurrentNote) notes.push(`Noncurrent versions: ${footprint.noncurrentNote}.`)
  if (footprint.noncurrent?.deleteMarkers)
    notes.push(`${formatCount(footprint.noncurrent.deleteMarkers)} delete markers.`)
  return [
    '### Store footprint',
    '',
    '| objects | count | size | per month |',
    '| --- | ---: | ---: | ---: |',
    ...rows,
    `| **total** | | | **${money(cost.total)}** |`,
    '',
    ...notes,
  ].join('\n')
}
