// The drill report's decisions: RTO and RPO against their targets, the projection to
// the production size, the recommendation, failed tables, and the Markdown people read.
import { describe, expect, it } from 'vitest'
import { parseDuration, readDrillConfig, readDrTestConfig } from '../../lib/core/drill-config.ts'
import type { LifeboatError } from '../../lib/core/errors.ts'
import {
  buildDrillReport,
  type DrillMeasurements,
  failedTablesOf,
  formatSeconds,
  niceCeil,
  parseDrillReport,
  recommendRto,
} from '../../lib/drills/report.ts'
import { renderDrillMarkdown } from '../../lib/drills/report-markdown.ts'

const HOUR = 3600

function measurements(overrides: Partial<DrillMeasurements> = {}): DrillMeasurements {
  return {
    kind: 'drill',
    id: 'drill-2026-11-25T050000Z',
    backup: { id: 'backup-2026-11-20T020000Z', time: new Date('2026-11-20T02:00:00Z') },
    pick: { method: 'random', seed: 'abc', windowDays: 30, candidates: 12 },
    stores: {
      backups: 's3://acme-lifeboat-backups/production',
      records: 's3://acme-lifeboat-backups/production',
    },
    startedAt: new Date('2026-11-25T05:00:00Z'),
    finishedAt: new Date('2026-11-25T05:20:00Z'),
    target: { kind: 'throwaway', host: '127.0.0.1', port: 5433, database: 'lifeboat_drill' },
    phases: {
      prepare: 10,
      download: 100,
      verify: 200,
      load: 500,
      verifyTables: 150,
      postChecks: 50,
      total: 1100,
    },
    rtoTargetSeconds: 4 * HOUR,
    restoredBytes: 1_000_000_000,
    production: { backupId: 'backup-2026-11-25T020000Z', bytes: 1_000_000_000 },
    sizes: { tables: 2, rows: 3000, dataBytes: 1_000_000_000, archiveBytes: 200_000_000 },
    tables: [
      { table: 'public.a', rowsExpected: 1000, rowsRestored: 1000, sha256Match: true },
      { table: 'public.b', rowsExpected: 2000, rowsRestored: 2000, sha256Match: true },
    ],
    checks: [{ name: 'sequences', ok: true, detail: '2 sequences' }],
    restoreWarnings: [],
    failedTables: [],
    ...overrides,
  }
}

describe('parseDuration', () => {
  it.each([
    ['4h', 14_400],
    ['90m', 5_400],
    ['90min', 5_400],
    ['30s', 30],
    ['0.001s', 0.001],
    ['1500ms', 1.5],
    ['1d', 86_400],
    ['14400', 14_400],
    [' 2 h ', 7_200],
  ])('%s is %d seconds', (text, seconds) => {
    expect(parseDuration(text)).toBeCloseTo(seconds, 6)
  })

  it.each(['', 'four hours', '4x', '-1h', '0', '0s', 'h'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined()
  })
})

describe('settings', () => {
  const env = { BACKUP_STORE: 'file:///tmp/store' }

  it('defaults: RTO 4 h, a 30-day window, a throwaway target', () => {
    const config = readDrillConfig(env, {})
    expect(config.rtoTargetSeconds).toBe(14_400)
    expect(config.days).toBe(30)
    expect(config.target).toBeUndefined()
  })

  it('reports every bad setting at once', () => {
    let error: LifeboatError | undefined
    try {
      readDrillConfig(
        { ...env, RTO_TARGET: 'soon', STAGING_DATABASE_URL: 'mysql://x' },
        { backup: 'yesterday' },
      )
    } catch (e) {
      error = e as LifeboatError
    }
    expect(error?.code).toBe('CONFIG_INVALID')
    expect(error?.details).toHaveLength(3)
  })

  it('the DR test prefers an empty database, then a server to create one on, then a throwaway', () => {
    const url = 'postgresql://u:p@db.example.com:5432/dr'
    const staging = 'postgresql://u:p@staging.example.com:5432/app'
    expect(
      readDrTestConfig({ ...env, DR_TEST_DATABASE_URL: url, STAGING_DATABASE_URL: staging }, {}).target?.kind,
    ).toBe('database')
    expect(readDrTestConfig({ ...env, STAGING_DATABASE_URL: staging }, {}).target?.kind).toBe('server')
    expect(readDrTestConfig(env, {}).target).toBeUndefined()
    expect(readDrTestConfig({ ...env, RPO_HOURS: '6' }, {}).rpoTargetSeconds).toBe(6 * HOUR)
  })
})

describe('buildDrillReport', () => {
  it('a drill within the target succeeds, with its RTO and projection', () => {
    const report = buildDrillReport(measurements())
    expect(report.outcome).toBe('success')
    expect(report.rto).toEqual({ targetSeconds: 14_400, measuredSeconds: 1100, met: true })
    expect(report.projection).toMatchObject({ projectedSeconds: 1100, met: true })
    expect(report.rpo).toBeNull()
    expect(report.warnings).toEqual([])
    expect(report.error).toBeNull()
    expect(report.backupTime).toBe('2026-11-20T02:00:00.000Z')
  })

  it('projects the production size at the measured throughput, on top of the fixed work', () => {
    // 1000 s of size-dependent work for 1 GB, 100 s fixed: 3 GB take 3100 s.
    const report = buildDrillReport(
      measurements({ production: { backupId: 'backup-2026-11-25T020000Z', bytes: 3_000_000_000 } }),
    )
    expect(report.projection).toEqual({
      productionBackupId: 'backup-2026-11-25T020000Z',
      productionBytes: 3_000_000_000,
      restoredBytes: 1_000_000_000,
      throughputBytesPerSecond: 1_000_000,
      projectedSeconds: 3100,
      met: true,
    })
  })

  it('an RTO exceeded is a warning with a recommendation to raise the target', () => {
    const report = buildDrillReport(measurements({ rtoTargetSeconds: 0.001 }))
    expect(report.outcome).toBe('warning')
    expect(report.rto.met).toBe(false)
    expect(report.warnings[0]).toMatch(/^RTO exceeded: the restore took 18 min 20 s/)
    expect(report.recommendation).toMatch(/^Raise RTO_TARGET to at least 30 min/)
  })

  it('a projection over the target warns even when the drilled backup was fast enough', () => {
    const report = buildDrillReport(
      measurements({
        production: { backupId: 'backup-x', bytes: 20_000_000_000 },
        rtoTargetSeconds: 2 * HOUR,
      }),
    )
    expect(report.rto.met).toBe(true)
    expect(report.projection!.met).toBe(false)
    expect(report.outcome).toBe('warning')
    expect(report.warnings.join()).toContain('projected RTO exceeded')
  })

  it('the DR test reports the RPO achieved: the backup age when the restore started', () => {
    const report = buildDrillReport(measurements({ kind: 'dr-test', rpoTargetSeconds: 24 * HOUR }))
    expect(report.rpo).toEqual({ targetSeconds: 86_400, achievedSeconds: 5 * 86_400 + 3 * HOUR, met: false })
    expect(report.outcome).toBe('warning')
    expect(report.warnings.join()).toContain('RPO not met')
  })

  it('a failure has no RTO measurement, keeps the error and the failed tables', () => {
    const report = buildDrillReport(
      measurements({
        error: { code: 'VERIFY_FAILED', message: 'bad' },
        failedTables: ['public.a'],
        restoredBytes: undefined,
      }),
    )
    expect(report.outcome).toBe('failure')
    expect(report.rto).toEqual({ targetSeconds: 14_400, measuredSeconds: null, met: null })
    expect(report.projection).toBeNull()
    expect(report.recommendation).toBeNull()
    expect(report.failedTables).toEqual(['public.a'])
    expect(report.error).toEqual({ code: 'VERIFY_FAILED', message: 'bad' })
  })
})

describe('recommendRto', () => {
  it('suggests tightening a target ten times larger than the restore, with a margin', () => {
    expect(recommendRto(100, 120, 4 * HOUR)).toMatch(/^RTO_TARGET could be tightened to 5 min/)
  })
  it('says nothing in between', () => {
    expect(recommendRto(2 * HOUR, undefined, 4 * HOUR)).toBeNull()
  })
  it('suggests raising above the worst of measured and projected', () => {
    expect(recommendRto(3 * HOUR, 5 * HOUR, 4 * HOUR)).toMatch(
      /^Raise RTO_TARGET to at least 8 h .*projected/,
    )
  })
  it('rounds to durations a person would write', () => {
    expect([0.3, 7, 61, 3000, 5 * HOUR, 30 * HOUR].map(niceCeil)).toEqual([1, 10, 120, 3600, 21_600, 172_800])
  })
})

describe('failedTablesOf', () => {
  const tables = [
    { schema: 'public', name: 'orders', file: 'data/public.orders.ndjson' },
    { schema: 'public', name: 'order', file: 'data/public.order.ndjson' },
    { schema: 'auth', name: 'users', file: 'data/auth.users.ndjson' },
  ]

  it('maps failing data files from archive verification to tables', () => {
    const error = {
      message:
        's3://b/p/database-backups/backup-x.tar.gz failed verification (failing: data/public.orders.ndjson): data/public.orders.ndjson: sha256 does not match the manifest',
      details: ['data/public.orders.ndjson: sha256 does not match the manifest'],
    }
    expect(failedTablesOf(error, tables)).toEqual(['public.orders'])
  })

  it('maps tables named by the load and the after-load comparison', () => {
    const error = {
      message:
        'verifying the restored tables failed, rolled back; the target is unchanged: 1 restored table differ',
      details: ['auth.users: 3 rows restored (4 in the backup), sha256 differs'],
    }
    expect(failedTablesOf(error, tables)).toEqual(['auth.users'])
  })
})

describe('formatSeconds', () => {
  it.each([
    [0.0123, '0.012 s'],
    [4.5, '4.5 s'],
    [42.25, '42.3 s'],
    [200, '3 min 20 s'],
    [600, '10 min'],
    [3 * HOUR + 300, '3 h 05 min'],
    [4 * HOUR, '4 h'],
    [3 * 86_400 + 4 * HOUR, '3 d 4 h'],
  ])('%d s reads %s', (seconds, text) => {
    expect(formatSeconds(seconds)).toBe(text)
  })
})

describe('renderDrillMarkdown', () => {
  it('shows verdict, RTO, projection, phases, tables and checks', () => {
    const markdown = renderDrillMarkdown(buildDrillReport(measurements()), {
      location: 's3://b/p/drills/x.json',
    })
    expect(markdown).toContain('## Restore drill passed: backup-2026-11-20T020000Z')
    expect(markdown).toContain('| Restore time (RTO) | 18 min 20 s against a target of 4 h: met |')
    expect(markdown).toContain('picked at random among 12 complete backups of the last 30 days (seed `abc`)')
    expect(markdown).toContain('| public.b | 2,000 | 2,000 | match |')
    expect(markdown).toContain('| load (schema, data, indexes, foreign-key check) | 500.00 |')
    expect(markdown).toContain('`s3://b/p/drills/x.json`')
    expect(markdown).toContain('**Recommendation:** RTO_TARGET could be tightened')
  })

  it('a failure names the error and the failed tables', () => {
    const report = buildDrillReport(
      measurements({
        error: { code: 'VERIFY_FAILED', message: 'data/public.a.ndjson: sha256 | differs' },
        failedTables: ['public.a'],
        tables: [{ table: 'public.a', rowsExpected: 1000, rowsRestored: null, sha256Match: null }],
      }),
    )
    const markdown = renderDrillMarkdown(report)
    expect(markdown).toContain('## Restore drill FAILED')
    expect(markdown).toContain('**Error** `VERIFY_FAILED`')
    expect(markdown).toContain('**Failed tables:** `public.a`')
    expect(markdown).toContain('| public.a | 1,000 | — | **FAILED** |')
    expect(markdown).toContain('not measured (the run failed)')
  })
})

describe('parseDrillReport', () => {
  it('reads back what was written and refuses other JSON', () => {
    const report = buildDrillReport(measurements())
    expect(parseDrillReport(JSON.stringify(report), 'x')).toEqual({ report })
    expect(parseDrillReport('{"format":2}', 'x')).toEqual({ problem: 'x: not a drill report of format 1' })
    expect(parseDrillReport('nope', 'x')).toEqual({ problem: 'x: not valid JSON' })
  })
})
