// The history chart is a valid SVG image with one mark per backup and per drill,
// whatever the history holds: many runs, one, none, failures, awkward names.
import { describe, expect, it } from 'vitest'
import { buildDrillReport, type DrillReport } from '../../lib/drills/report.ts'
import { escapeXml, niceTicks, renderHistoryChart } from '../../lib/history/chart.ts'
import { assembleHistory, type BackupHistoryRow, renderHistoryMarkdown } from '../../lib/history/history.ts'
import { parseSvg } from '../helpers/svg.ts'

const DAY = 86_400_000
const start = Date.parse('2026-09-01T02:00:00Z')

function backups(count: number): BackupHistoryRow[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `backup-${new Date(start + i * DAY).toISOString().slice(0, 10)}T020000Z`,
    time: new Date(start + i * DAY).toISOString(),
    tables: 12,
    rows: 100_000 + i * 1000,
    dataBytes: 50_000_000 + i * 400_000,
    archiveBytes: 9_000_000 + i * 80_000,
    durationSeconds: 40 + i,
    encrypted: true,
  }))
}

function drill(
  day: number,
  options: { seconds?: number; target?: number; failed?: boolean } = {},
): DrillReport {
  const at = new Date(start + day * DAY + 3 * 3_600_000)
  return buildDrillReport({
    kind: day % 90 === 0 ? 'dr-test' : 'drill',
    id: `drill-${at.toISOString().slice(0, 10)}T050000Z`,
    backup: { id: `backup-${at.toISOString().slice(0, 10)}T020000Z`, time: new Date(start + day * DAY) },
    pick: { method: 'random', seed: 's', windowDays: 30, candidates: 30 },
    stores: {
      backups: 's3://acme-lifeboat-backups/production',
      records: 's3://acme-lifeboat-backups/production',
    },
    startedAt: at,
    finishedAt: at,
    target: { kind: 'throwaway', host: '127.0.0.1', port: 5432, database: 'lifeboat_drill' },
    phases: {
      prepare: 1,
      download: 1,
      verify: 2,
      load: 5,
      verifyTables: 2,
      postChecks: 1,
      total: options.seconds ?? 12,
    },
    rtoTargetSeconds: options.target ?? 14_400,
    restoredBytes: 50_000_000,
    production: { backupId: 'backup-x', bytes: 80_000_000 },
    sizes: { tables: 12, rows: 1, dataBytes: 1, archiveBytes: 1 },
    tables: [],
    checks: [],
    restoreWarnings: [],
    ...(options.failed ? { error: { code: 'VERIFY_FAILED', message: 'data/public.<x>&y.ndjson' } } : {}),
    failedTables: options.failed ? ['public.<x>&y'] : [],
  })
}

const now = new Date('2026-12-01T00:00:00Z')

describe('renderHistoryChart', () => {
  it('draws a bar per backup and a mark per drill, as valid SVG', () => {
    const history = assembleHistory({
      now,
      backups: backups(90),
      drills: [
        drill(14),
        drill(44, { seconds: 30_000 }),
        drill(74, { failed: true }),
        drill(89, { target: 600 }),
      ],
      problems: [],
    })
    const svg = parseSvg(renderHistoryChart(history))
    expect(svg.count('g', 'backup')).toBe(90)
    expect(svg.count('g', 'drill')).toBe(4)
    expect(svg.count('path', 'rto-target')).toBe(1)
    expect(svg.count('circle', 'projected')).toBe(3)
  })

  it('escapes names, so a table called <x>&y keeps the document well-formed', () => {
    const text = renderHistoryChart(
      assembleHistory({ now, backups: [], drills: [drill(3, { failed: true })], problems: [] }),
    )
    expect(text).toContain('public.&lt;x&gt;&amp;y')
    expect(parseSvg(text).count('g', 'drill')).toBe(1)
  })

  it('an empty store still renders an image that says so', () => {
    const text = renderHistoryChart(assembleHistory({ now, backups: [], drills: [], problems: [] }))
    parseSvg(text)
    expect(text).toContain('no complete backup in the store')
    expect(text).toContain('no drill yet')
  })

  it('a single backup and drill on the same day get room on both sides', () => {
    const history = assembleHistory({ now, backups: backups(1), drills: [drill(0)], problems: [] })
    const svg = parseSvg(renderHistoryChart(history))
    expect(svg.count('g', 'backup')).toBe(1)
    expect(svg.count('g', 'drill')).toBe(1)
  })
})

describe('helpers', () => {
  it('niceTicks steps by 1, 2 or 5 times a power of ten', () => {
    expect(niceTicks(93)).toEqual([0, 20, 40, 60, 80, 100])
    expect(niceTicks(0)).toEqual([0])
  })
  it('escapeXml covers the five reserved characters', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;')
  })
})

describe('renderHistoryMarkdown', () => {
  it('lists backups and drills newest first, with failures and their tables', () => {
    const history = assembleHistory({
      now,
      backups: backups(2),
      drills: [drill(0), drill(1, { failed: true })],
      problems: ['s3://b/p/drills/bad.json: not valid JSON'],
    })
    const markdown = renderHistoryMarkdown(history, { chart: 'lifeboat-report.svg' })
    const lines = markdown.split('\n')
    const first = lines.findIndex((l) => l.startsWith('| `backup-'))
    expect(lines[first]).toBe(
      '| `backup-2026-09-02T020000Z` | 2026-09-02 02:00 | 12 | 101,000 | 48.1 MiB | 8.7 MiB (age) | 41.0 s |',
    )
    expect(markdown).toContain('**failure** (public.<x>&y)')
    expect(markdown).toContain('| 12.0 s | 4 h | met |')
    expect(markdown).toContain('- s3://b/p/drills/bad.json: not valid JSON')
  })
})
