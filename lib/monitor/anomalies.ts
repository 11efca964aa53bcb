// Anomalies between a backup and the ones before it, from sidecar manifests only: a table
// whose rows drop sharply against the median of the previous backups, a table that
// disappears, a total size that jumps or collapses. Pure; each finding names its numbers.
import type { SettingsReader } from '../core/config.ts'
import { formatCount } from '../core/format.ts'
import { byText } from '../core/order.ts'
import { SETTINGS } from '../settings/settings.ts'

export const ANOMALY_DEFAULTS = { rowDrop: 0.2, sizeChange: 0.5, baseline: 7 } as const

/** The parts of a manifest the checks read (a full Manifest fits). */
export interface ManifestSummary {
  id: string
  tables: readonly { schema: string; name: string; rows: number }[]
  totals: { bytes: number; rows: number }
}

export interface AnomalyOptions {
  /** A drop of more than this fraction of the median row count is reported (0.2 = 20%). */
  rowDrop: number
  /** A total size more than this fraction away from the median is reported, up or down. */
  sizeChange: number
  /** How many previous backups form the baseline. */
  baseline: number
}

export type Anomaly =
  | { kind: 'row-drop'; table: string; rows: number; median: number; drop: number; message: string }
  | { kind: 'table-missing'; table: string; previousRows: number; previousId: string; message: string }
  | { kind: 'size-change'; bytes: number; median: number; change: number; message: string }

/**
 * Compares `current` with `previous` (newest first; only the first `baseline` are used).
 * No previous backup, no baseline, no findings.
 */
export function detectAnomalies(
  current: ManifestSummary,
  previous: readonly ManifestSummary[],
  options: AnomalyOptions = ANOMALY_DEFAULTS,
): Anomaly[] {
  const baseline = previous.filter((p) => p.id !== current.id).slice(0, Math.max(1, options.baseline))
  if (baseline.length === 0) return []
  const found: Anomaly[] = []
  const now = new Map(current.tables.map((t) => [`${t.schema}.${t.name}`, t.rows]))
  const span = `the previous ${baseline.length} backup${baseline.length === 1 ? '' : 's'}`

  const history = new Map<string, number[]>()
  for (const backup of baseline) {
    for (const t of backup.tables) {
      const name = `${t.schema}.${t.name}`
      history.set(name, [...(history.get(name) ?? []), t.rows])
    }
  }
  for (const [table, counts] of [...history].sort(([a], [b]) => byText(a, b))) {
    const rows = now.get(table)
    if (rows === undefined) {
      // Only a table the immediately previous backup had: a table dropped long ago is old news.
      const last = baseline[0]!.tables.find((t) => `${t.schema}.${t.name}` === table)
      if (last) {
        found.push({
          kind: 'table-missing',
          table,
          previousRows: last.rows,
          previousId: baseline[0]!.id,
          message: `table ${table} is missing from ${current.id}; ${baseline[0]!.id} had it with ${formatCount(last.rows, 1)} rows`,
        })
      }
      continue
    }
    const med = median(counts)
    if (med <= 0) continue
    const drop = (med - rows) / med
    if (drop > options.rowDrop) {
      found.push({
        kind: 'row-drop',
        table,
        rows,
        median: med,
        drop: round(drop),
        message: `table ${table} has ${formatCount(rows, 1)} rows, ${percent(drop)} fewer than the median ${formatCount(med, 1)} of ${span} (threshold ${percent(options.rowDrop)})`,
      })
    }
  }

  const medianBytes = median(baseline.map((b) => b.totals.bytes))
  if (medianBytes > 0) {
    const change = (current.totals.bytes - medianBytes) / medianBytes
    if (Math.abs(change) > options.sizeChange) {
      found.push({
        kind: 'size-change',
        bytes: current.totals.bytes,
        median: medianBytes,
        change: round(change),
        message: `total data size ${formatCount(current.totals.bytes, 1)} bytes is ${percent(Math.abs(change))} ${change < 0 ? 'below' : 'above'} the median ${formatCount(medianBytes, 1)} bytes of ${span} (threshold ${percent(options.sizeChange)})`,
      })
    }
  }
  return found
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** `ANOMALY_ROW_DROP` (0.2) and `ANOMALY_SIZE_CHANGE` (0.5), as fractions. */
export function readAnomalySettings(reader: SettingsReader): AnomalyOptions {
  const rowDrop = reader.number(SETTINGS.anomalyRowDrop)
  const sizeChange = reader.number(SETTINGS.anomalySizeChange)
  return { rowDrop, sizeChange, baseline: ANOMALY_DEFAULTS.baseline }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000
}

function percent(fraction: number): string {
  const value = fraction * 100
  return `${Number.isInteger(value) ? value : value.toFixed(1)}%`
}
