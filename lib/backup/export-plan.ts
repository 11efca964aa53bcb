// How a backup splits its work: big tables with an integer primary key are cut into
// key ranges that several connections (sharing one snapshot) export in parallel;
// the parts are joined in key order, so the data file is the same as unsplit. Pure.

/** Below this estimated size a table is exported in one piece. */
export const SPLIT_MIN_BYTES = 64 * 1024 * 1024

const INTEGER_TYPES = new Set(['smallint', 'integer', 'bigint'])

/** A half-open range of a key: `lower <= key < upper`; a missing end is unbounded. */
export interface KeyRange {
  column: string
  lower?: bigint
  upper?: bigint
}

export interface SplittableTable {
  primaryKey: readonly string[]
  columns: readonly { name: string; type: string }[]
  estimatedBytes: number
}

/** The column a table can be split on: a single-column integer primary key. */
export function splitKeyOf(table: SplittableTable): string | undefined {
  if (table.primaryKey.length !== 1) return undefined
  const column = table.columns.find((c) => c.name === table.primaryKey[0])
  return column && INTEGER_TYPES.has(column.type) ? column.name : undefined
}

/** How many parts a table is exported in: enough to keep `jobs` connections busy. */
export function partCountFor(table: SplittableTable, jobs: number, minBytes = SPLIT_MIN_BYTES): number {
  if (jobs <= 1 || table.estimatedBytes < minBytes || !splitKeyOf(table)) return 1
  return Math.max(1, Math.min(jobs * 2, Math.ceil(table.estimatedBytes / Math.max(1, minBytes))))
}

/**
 * Cuts [min, max] into at most `parts` ranges of equal width, in ascending order. The
 * first and last are open-ended so that no row can fall outside them whatever the key.
 */
export function splitKeyRange(column: string, min: bigint, max: bigint, parts: number): KeyRange[] {
  const width = max - min + 1n
  const count = BigInt(Math.max(1, parts)) > width ? Number(width > 0n ? width : 1n) : Math.max(1, parts)
  if (count <= 1) return [{ column }]
  const bounds: bigint[] = []
  for (let k = 1; k < count; k++) bounds.push(min + (width * BigInt(k)) / BigInt(count))
  return Array.from({ length: count }, (_, k) => ({
    column,
    ...(k > 0 ? { lower: bounds[k - 1]! } : {}),
    ...(k < count - 1 ? { upper: bounds[k]! } : {}),
  }))
}
