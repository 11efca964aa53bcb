// Anomaly rules over sidecar summaries: row drops against the median of the previous 7,
// disappearing tables, total size moves; each finding names the table and the numbers.
import { describe, expect, it } from 'vitest'
import { SettingsReader } from '../../lib/core/config.ts'
import {
  ANOMALY_DEFAULTS,
  detectAnomalies,
  type ManifestSummary,
  median,
  readAnomalySettings,
} from '../../lib/monitor/anomalies.ts'

let serial = 0

/** A summary with `{ 'public.orders': 1000 }` rows; bytes default to 100 per row. */
function summary(rows: Record<string, number>, bytes?: number): ManifestSummary {
  const tables = Object.entries(rows).map(([name, count]) => {
    const [schema, table] = name.split('.')
    return { schema: schema!, name: table!, rows: count }
  })
  const total = tables.reduce((n, t) => n + t.rows, 0)
  serial++
  return {
    id: `backup-2026-11-${String(serial % 28 || 28).padStart(2, '0')}T020000Z-${serial}`,
    tables,
    totals: { rows: total, bytes: bytes ?? total * 100 },
  }
}

const history = (...counts: number[]) =>
  counts.map((n) => summary({ 'public.orders': n, 'public.users': 500 }))

describe('detectAnomalies: row drops', () => {
  it('reports a table that shrinks by 50% with its rows, the median and the drop', () => {
    const [anomaly, ...rest] = detectAnomalies(
      summary({ 'public.orders': 500, 'public.users': 500 }),
      history(1000),
    )
    expect(rest.filter((a) => a.kind !== 'size-change')).toEqual([])
    expect(anomaly).toMatchObject({
      kind: 'row-drop',
      table: 'public.orders',
      rows: 500,
      median: 1000,
      drop: 0.5,
    })
    expect(anomaly!.message).toBe(
      'table public.orders has 500 rows, 50% fewer than the median 1,000 of the previous 1 backup (threshold 20%)',
    )
  })

  it('stays quiet at exactly the threshold and speaks just past it', () => {
    expect(detectAnomalies(summary({ 'public.orders': 800, 'public.users': 500 }), history(1000))).toEqual([])
    const past = detectAnomalies(summary({ 'public.orders': 799, 'public.users': 500 }), history(1000))
    expect(past.map((a) => a.kind)).toEqual(['row-drop'])
  })

  it('compares with the median of the previous 7, so one odd backup does not move the baseline', () => {
    // The previous backup was itself an outlier (10 rows); the median of 7 is still 1000.
    const previous = history(10, 1000, 1000, 1000, 1000, 1000, 1000, 1)
    const found = detectAnomalies(summary({ 'public.orders': 700, 'public.users': 500 }), previous)
    expect(found[0]).toMatchObject({ kind: 'row-drop', median: 1000, rows: 700 })
    expect(found[0]!.message).toContain('of the previous 7 backups')
    // Only 7 are used: the eighth (1 row) is ignored.
    expect(detectAnomalies(summary({ 'public.orders': 1000, 'public.users': 500 }), previous)).toEqual([])
  })

  it('uses the mean of the middle two for an even baseline', () => {
    const found = detectAnomalies(summary({ 'public.orders': 100, 'public.users': 500 }), history(200, 400))
    expect(found[0]).toMatchObject({ median: 300, drop: 0.667 })
  })

  it('ignores growth, an empty table staying empty, and a new table', () => {
    expect(
      detectAnomalies(summary({ 'public.orders': 5000, 'public.users': 500 }), history(1000, 1000)),
    ).toEqual([expect.objectContaining({ kind: 'size-change' })])
    const empty = [summary({ 'public.log': 0 })]
    expect(detectAnomalies(summary({ 'public.log': 0 }), empty)).toEqual([])
    expect(detectAnomalies(summary({ 'public.log': 0, 'public.new': 5 }), empty)).toEqual([])
  })

  it('reports a table emptied completely', () => {
    const found = detectAnomalies(summary({ 'public.orders': 0, 'public.users': 500 }), history(1000))
    expect(found[0]).toMatchObject({ kind: 'row-drop', rows: 0, drop: 1 })
    expect(found[0]!.message).toContain('100% fewer')
  })

  it('honours a custom threshold', () => {
    const strict = { ...ANOMALY_DEFAULTS, rowDrop: 0.05 }
    expect(
      detectAnomalies(summary({ 'public.orders': 900, 'public.users': 500 }), history(1000), strict),
    ).toHaveLength(1)
  })
})

describe('detectAnomalies: disappearing tables', () => {
  it('reports a table the previous backup had, naming it and its last row count', () => {
    const previous = [summary({ 'public.orders': 1000, 'billing.invoices': 42 })]
    const found = detectAnomalies(summary({ 'public.orders': 1000 }), previous, {
      ...ANOMALY_DEFAULTS,
      sizeChange: 1,
    })
    expect(found).toEqual([
      {
        kind: 'table-missing',
        table: 'billing.invoices',
        previousRows: 42,
        previousId: previous[0]!.id,
        message: expect.stringMatching(
          /^table billing\.invoices is missing from backup-\S+; backup-\S+ had it with 42 rows$/,
        ),
      },
    ])
  })

  it('does not report again a table that was already gone from the previous backup', () => {
    const previous = [summary({ 'public.orders': 1000 }), summary({ 'public.orders': 1000, 'public.old': 5 })]
    expect(detectAnomalies(summary({ 'public.orders': 1000 }), previous)).toEqual([])
  })
})

describe('detectAnomalies: total size', () => {
  it('reports a size that moves more than 50% either way, with both numbers', () => {
    const previous = [summary({ 'public.a': 1 }, 1_000_000), summary({ 'public.a': 1 }, 1_000_000)]
    const down = detectAnomalies(summary({ 'public.a': 1 }, 400_000), previous)
    expect(down).toEqual([
      expect.objectContaining({ kind: 'size-change', bytes: 400_000, median: 1_000_000, change: -0.6 }),
    ])
    expect(down[0]!.message).toBe(
      'total data size 400,000 bytes is 60% below the median 1,000,000 bytes of the previous 2 backups (threshold 50%)',
    )
    const up = detectAnomalies(summary({ 'public.a': 1 }, 1_600_000), previous)
    expect(up[0]!.message).toContain('60% above')
    expect(detectAnomalies(summary({ 'public.a': 1 }, 1_500_000), previous)).toEqual([])
    expect(detectAnomalies(summary({ 'public.a': 1 }, 500_000), previous)).toEqual([])
  })
})

describe('detectAnomalies: baseline', () => {
  it('finds nothing without a previous backup, or when the only previous one is itself', () => {
    const current = summary({ 'public.orders': 1 })
    expect(detectAnomalies(current, [])).toEqual([])
    expect(detectAnomalies(current, [current])).toEqual([])
  })

  it('lists several findings in table order, size last', () => {
    const previous = [summary({ 'public.b': 1000, 'public.a': 1000, 'public.c': 1000 })]
    const found = detectAnomalies(summary({ 'public.b': 100, 'public.a': 100 }), previous)
    expect(found.map((a) => ('table' in a ? a.table : a.kind))).toEqual([
      'public.a',
      'public.b',
      'public.c',
      'size-change',
    ])
  })
})

describe('median', () => {
  it('handles odd, even, unsorted and empty inputs', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([])).toBe(0)
  })
})

describe('readAnomalySettings', () => {
  it('defaults to 20% and 50% over the previous 7', () => {
    const reader = new SettingsReader({})
    expect(readAnomalySettings(reader)).toEqual({ rowDrop: 0.2, sizeChange: 0.5, baseline: 7 })
    reader.finish()
  })

  it('reads fractions and refuses a row drop above 1', () => {
    expect(
      readAnomalySettings(new SettingsReader({ ANOMALY_ROW_DROP: '0.1', ANOMALY_SIZE_CHANGE: '0.3' })),
    ).toMatchObject({
      rowDrop: 0.1,
      sizeChange: 0.3,
    })
    const reader = new SettingsReader({ ANOMALY_ROW_DROP: '20' })
    readAnomalySettings(reader)
    expect(() => reader.finish()).toThrow(/ANOMALY_ROW_DROP must be a number from 0 to 1, got "20"/)
  })
})
