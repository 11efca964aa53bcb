// Progress: the share done, rate and time left per phase and table, from estimates; one
// status line that fits the terminal; a plain line per running phase every interval.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createProgressRenderer } from '../../lib/cli/progress.ts'
import { formatEta, ProgressModel, plainLine, statusLine } from '../../lib/cli/progress-model.ts'

function exportOf(model: ProgressModel, rows: number, at: number): void {
  model.apply(
    { type: 'table-progress', phase: 'export', table: 'public.metrics', rows, bytes: rows * 100 },
    at,
  )
}

describe('ProgressModel', () => {
  it('gives the share done, the rate and the time left from the estimates', () => {
    const model = new ProgressModel()
    model.apply({ type: 'phase-start', phase: 'export', total: { rows: 4_000_000, tables: 2 } }, 0)
    model.apply(
      {
        type: 'table-start',
        phase: 'export',
        table: 'public.metrics',
        index: 0,
        total: 2,
        estimatedRows: 3_000_000,
      },
      0,
    )
    exportOf(model, 1_000_000, 2000)
    const [snapshot] = model.running(2000)
    expect(snapshot).toMatchObject({ phase: 'export', unit: 'rows', done: 1_000_000, total: 4_000_000 })
    expect(snapshot!.fraction).toBeCloseTo(0.25)
    expect(snapshot!.perSecond).toBe(500_000)
    expect(snapshot!.etaSeconds).toBe(6)
    expect(snapshot!.tables).toEqual([{ name: 'public.metrics', fraction: 1 / 3 }])
  })

  it('adds finished tables to the running ones', () => {
    const model = new ProgressModel()
    model.apply({ type: 'phase-start', phase: 'load', total: { rows: 300 } }, 0)
    model.apply({ type: 'table-start', table: 'a', index: 0, total: 2, estimatedRows: 100 }, 0)
    model.apply({ type: 'table-done', table: 'a', rows: 100, bytes: 1, seconds: 1 }, 1000)
    model.apply({ type: 'table-start', table: 'b', index: 1, total: 2, estimatedRows: 200 }, 1000)
    model.apply({ type: 'table-progress', table: 'b', rows: 50, bytes: 1 }, 1500)
    expect(model.running(1500)[0]).toMatchObject({ phase: 'load', done: 150, tablesDone: 1, fraction: 0.5 })
  })

  it('never shows 100% before the phase is done, whatever the estimate said', () => {
    const model = new ProgressModel()
    model.apply({ type: 'phase-start', phase: 'export', total: { rows: 10 } }, 0)
    model.apply(
      { type: 'table-start', phase: 'export', table: 't', index: 0, total: 1, estimatedRows: 10 },
      0,
    )
    model.apply({ type: 'table-progress', phase: 'export', table: 't', rows: 50, bytes: 1 }, 1000)
    expect(model.running(1000)[0]!.fraction).toBe(0.99)
    model.apply({ type: 'phase-done', phase: 'export' }, 2000)
    expect(model.running(2000)).toEqual([])
    expect(model.snapshot('export', 2000)!.fraction).toBe(1)
  })

  it('counts download and verify in bytes', () => {
    const model = new ProgressModel()
    model.apply({ type: 'phase-start', phase: 'download', total: { bytes: 1000 } }, 0)
    model.apply({ type: 'phase-progress', phase: 'download', done: { bytes: 250 } }, 1000)
    expect(model.running(1000)[0]).toMatchObject({ unit: 'bytes', fraction: 0.25, etaSeconds: 3 })
  })

  it('shows no share when nothing says how much there is (a table never analyzed)', () => {
    const model = new ProgressModel()
    model.apply({ type: 'table-start', table: 't', index: 0, total: 1 }, 0)
    model.apply({ type: 'table-progress', table: 't', rows: 10, bytes: 100 }, 1000)
    const [snapshot] = model.running(1000)
    expect(snapshot).toMatchObject({ fraction: undefined, etaSeconds: undefined })
  })
})

describe('statusLine', () => {
  const model = new ProgressModel()
  model.apply({ type: 'phase-start', phase: 'export', total: { rows: 4_000_000 } }, 0)
  for (const [i, name] of ['public.metrics_with_a_long_name', 'public.events'].entries()) {
    model.apply(
      { type: 'table-start', phase: 'export', table: name, index: i, total: 2, estimatedRows: 2e6 },
      0,
    )
    model.apply({ type: 'table-progress', phase: 'export', table: name, rows: 500_000, bytes: 1 }, 2000)
  }

  it('shows share, counts, rate, time left and the running tables', () => {
    expect(statusLine(model.running(2000), 200)).toBe(
      'export 25% 1.0M/~4.0M rows 500k/s ETA 6s · public.metrics_with_a_long_name 25%, public.events 25%',
    )
  })

  it.each([20, 40, 60, 80])('fits a %i-column terminal without wrapping', (columns) => {
    const line = statusLine(model.running(2000), columns)
    expect([...line].length).toBeLessThan(columns)
  })

  it('writes a plain line for logs with full numbers', () => {
    expect(plainLine(model.running(2000)[0]!)).toBe(
      'export: 25% (1,000,000 of ~4,000,000 rows), 500,000 rows/s, ETA 6s, 2 s elapsed, 0/2 tables done; running public.metrics_with_a_long_name, public.events',
    )
  })
})

describe('formatEta', () => {
  it.each([
    [5.4, '5s'],
    [65, '1m05s'],
    [3725, '1h02m'],
  ])('%s s is %s', (seconds, text) => {
    expect(formatEta(seconds)).toBe(text)
  })
})

describe('createProgressRenderer', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  function output() {
    const chunks: string[] = []
    return { chunks, columns: 50, write: (text: string) => chunks.push(text) > 0 }
  }

  it('without a terminal prints a line per running phase every interval, and no redraws', () => {
    vi.useFakeTimers()
    const out = output()
    const renderer = createProgressRenderer(out, { live: false, quiet: false, intervalMs: 10_000 })
    renderer.emit({ type: 'phase-start', phase: 'export', total: { rows: 1000 } })
    renderer.emit({
      type: 'table-start',
      phase: 'export',
      table: 't',
      index: 0,
      total: 1,
      estimatedRows: 1000,
    })
    for (let second = 1; second <= 35; second++) {
      renderer.emit({ type: 'table-progress', phase: 'export', table: 't', rows: second * 20, bytes: 0 })
      vi.advanceTimersByTime(1000)
    }
    renderer.close()
    expect(out.chunks[0]).toBe('export: started (~1,000 rows)\n')
    const lines = out.chunks.filter((c) => c.startsWith('export:') && !c.includes('started'))
    expect(lines).toHaveLength(3)
    expect(lines[0]).toMatch(/^export: \d+% \(\d+ of ~1,000 rows\)/)
    expect(out.chunks.join('')).not.toContain('\r')
  })

  it('on a terminal redraws one line in place, cut to its width', () => {
    vi.useFakeTimers()
    const out = output()
    const renderer = createProgressRenderer(out, { live: true, quiet: false })
    renderer.emit({ type: 'phase-start', phase: 'export', total: { rows: 1_000_000 } })
    renderer.emit({
      type: 'table-start',
      phase: 'export',
      table: 'public.a_table_with_a_long_name',
      index: 0,
      total: 1,
    })
    vi.advanceTimersByTime(2000)
    renderer.emit({
      type: 'table-progress',
      phase: 'export',
      table: 'public.a_table_with_a_long_name',
      rows: 400_000,
      bytes: 0,
    })
    vi.advanceTimersByTime(200)
    renderer.close()
    const drawn = out.chunks.filter((c) => c.startsWith('export'))
    expect(drawn.some((c) => c.startsWith('export 40%'))).toBe(true)
    for (const line of drawn) expect([...line].length).toBeLessThan(50)
    expect(out.chunks).toContain('\r\x1b[2K')
  })

  it('on a terminal that reports 0 columns draws an 80-column line, not a 10-column stub', () => {
    vi.useFakeTimers()
    const out = { ...output(), columns: 0 }
    const renderer = createProgressRenderer(out, { live: true, quiet: false })
    renderer.emit({ type: 'phase-start', phase: 'export', total: { rows: 1_000_000 } })
    renderer.emit({ type: 'table-start', phase: 'export', table: 'public.orders', index: 0, total: 1 })
    vi.advanceTimersByTime(2000)
    renderer.emit({
      type: 'table-progress',
      phase: 'export',
      table: 'public.orders',
      rows: 400_000,
      bytes: 0,
    })
    vi.advanceTimersByTime(200)
    renderer.close()
    const drawn = out.chunks.filter((c) => c.startsWith('export'))
    expect(drawn.at(-1)).toMatch(/^export 40% .*public\.orders/)
    for (const line of drawn) expect([...line].length).toBeLessThan(80)
  })

  it('logs a finished table with its rows and bytes, and without bytes where none moved', () => {
    const out = output()
    const renderer = createProgressRenderer(out, { live: false, quiet: false })
    renderer.emit({
      type: 'table-done',
      phase: 'load',
      table: 'public.a',
      rows: 1200,
      bytes: 3072,
      seconds: 0.42,
    })
    renderer.emit({ type: 'table-done', phase: 'check', table: 'public.a', rows: 1, bytes: 0, seconds: 0.01 })
    renderer.close()
    expect(out.chunks).toEqual(['public.a: 1,200 rows, 3.0 KiB in 0.4 s\n', 'public.a: 1 row in 0.0 s\n'])
  })

  it('ends a phase that moved no bytes with its time alone', () => {
    const out = output()
    const renderer = createProgressRenderer(out, { live: false, quiet: false })
    renderer.emit({ type: 'phase-start', phase: 'post-data' })
    renderer.emit({ type: 'phase-done', phase: 'post-data' })
    renderer.close()
    expect(out.chunks.at(-1)).toMatch(/^post-data done in \d+s\n$/)
  })

  it('with --quiet prints only warnings', () => {
    const out = output()
    const renderer = createProgressRenderer(out, { live: false, quiet: true })
    renderer.emit({ type: 'step', message: 'hello' })
    renderer.emit({ type: 'warning', message: 'careful' })
    renderer.close()
    expect(out.chunks).toEqual(['warning: careful\n'])
  })
})
