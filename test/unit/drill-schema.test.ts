// The report schema in docs/drills.md is the one the code writes: every kind of report
// (success, warning, failure, DR test) validates against it, field by field.
import { describe, expect, it } from 'vitest'
import { buildDrillReport, type DrillMeasurements } from '../../lib/drills/report.ts'
import { documentedSchema, validate } from '../helpers/report-schema.ts'

const base: DrillMeasurements = {
  kind: 'drill',
  id: 'drill-2026-11-15T050000Z',
  backup: { id: 'backup-2026-11-03T020000Z', time: new Date('2026-11-03T02:00:00Z') },
  pick: { method: 'random', seed: 'k3x9', windowDays: 30, candidates: 30 },
  stores: {
    backups: 's3://acme-lifeboat-backups/production',
    records: 's3://acme-lifeboat-backups/production',
  },
  startedAt: new Date('2026-11-15T05:00:00Z'),
  finishedAt: new Date('2026-11-15T05:12:00Z'),
  target: { kind: 'throwaway', host: '127.0.0.1', port: 41234, database: 'lifeboat_drill' },
  phases: { prepare: 3.2, download: 40, verify: 60, load: 400, verifyTables: 200, postChecks: 2, total: 710 },
  rtoTargetSeconds: 14_400,
  restoredBytes: 5_000_000_000,
  production: { backupId: 'backup-2026-11-15T020000Z', bytes: 5_400_000_000 },
  sizes: { tables: 40, rows: 12_000_000, dataBytes: 5_000_000_000, archiveBytes: 900_000_000 },
  tables: [{ table: 'public.orders', rowsExpected: 12_000_000, rowsRestored: 12_000_000, sha256Match: true }],
  checks: [{ name: 'sequences', ok: true, detail: '12 sequences' }],
  restoreWarnings: [],
  failedTables: [],
}

describe('the documented report schema', () => {
  const schema = documentedSchema()

  it.each([
    ['a passing drill', base],
    ['a drill over its RTO', { ...base, rtoTargetSeconds: 60 }],
    [
      'a DR test',
      { ...base, kind: 'dr-test' as const, id: 'dr-test-2026-10-01T060000Z', rpoTargetSeconds: 86_400 },
    ],
    [
      'a failed drill',
      {
        ...base,
        id: 'drill-2026-11-15T050000Z-2',
        phases: {
          ...base.phases,
          download: null,
          verify: null,
          load: null,
          verifyTables: null,
          postChecks: null,
        },
        restoredBytes: undefined,
        tables: [{ table: 'public.orders', rowsExpected: 12_000_000, rowsRestored: null, sha256Match: null }],
        error: { code: 'VERIFY_FAILED', message: 'data/public.orders.ndjson: sha256 does not match' },
        failedTables: ['public.orders'],
      },
    ],
    [
      'a run that failed before choosing a backup',
      {
        ...base,
        backup: null,
        target: null,
        sizes: null,
        production: undefined,
        error: { code: 'BACKUP_NOT_FOUND', message: 'x' },
      },
    ],
  ])('%s validates', (_name, measurements) => {
    const report = JSON.parse(JSON.stringify(buildDrillReport(measurements as DrillMeasurements)))
    expect(validate(schema, report)).toEqual([])
  })

  it('the validator is strict: an undocumented field or a wrong type is reported', () => {
    const report = JSON.parse(JSON.stringify(buildDrillReport(base)))
    report.extra = 1
    report.rto.met = 'yes'
    expect(validate(schema, report)).toEqual([
      '$.rto.met: string is not boolean or null',
      '$: extra is not documented',
    ])
  })
})
