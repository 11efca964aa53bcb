// The Storage part of a drill report: unchecked files never pass clean, rows and files that
// do not match are warnings, and the check row and the Markdown say restored or verified.
import { describe, expect, it } from 'vitest'
import { buildDrillReport, type DrillMeasurements } from '../../lib/drills/report.ts'
import { renderDrillMarkdown } from '../../lib/drills/report-markdown.ts'
import {
  type DrillStorageReport,
  describeDrillStorage,
  plannedStorage,
  storageCheck,
  storageWarnings,
} from '../../lib/drills/storage-report.ts'

const FILES = { buckets: 2, objects: 4, bytes: 50_023 }

function measured(storage: DrillStorageReport | null): DrillMeasurements {
  return {
    kind: 'drill',
    id: 'drill-2026-11-25T050000Z',
    backup: { id: 'backup-2026-11-20T020000Z', time: new Date('2026-11-20T02:00:00Z') },
    pick: { method: 'forced', seed: null, windowDays: null, candidates: 1 },
    stores: {
      backups: 's3://acme-lifeboat-backups/production',
      records: 's3://acme-lifeboat-backups/production',
    },
    startedAt: new Date('2026-11-25T05:00:00Z'),
    finishedAt: new Date('2026-11-25T05:20:00Z'),
    target: { kind: 'throwaway', host: '127.0.0.1', port: 5433, database: 'lifeboat_drill' },
    phases: { prepare: 1, download: 1, verify: 1, load: 1, verifyTables: 1, postChecks: 1, total: 1000 },
    rtoTargetSeconds: 3600,
    sizes: null,
    tables: [],
    checks: [],
    restoreWarnings: [],
    failedTables: [],
    storage,
  }
}

function restored(overrides: Partial<DrillStorageReport> = {}): DrillStorageReport {
  return {
    ...plannedStorage('restored', FILES, 'http://staging.example/storage/v1/s3'),
    objectsChecked: 4,
    bytesChecked: 50_023,
    written: 3,
    seconds: 2.5,
    ok: true,
    rowsWithoutFile: 0,
    filesWithoutRow: 0,
    cleanup: 'removed',
    ...overrides,
  }
}

describe('the Storage part of a drill report', () => {
  it('passes clean when every file was restored and read back, with a storage check', () => {
    const report = buildDrillReport(measured(restored()))
    expect(report.outcome).toBe('success')
    expect(report.storage).toEqual(restored())
    expect(storageCheck(report.storage)).toEqual({
      name: 'storage',
      ok: true,
      detail:
        '4 objects (48.9 KiB) in 2 buckets restored into http://staging.example/storage/v1/s3, each read back or found identical by sha256',
    })
  })

  it('warns about rows without file and files without row', () => {
    const storage = restored({ rowsWithoutFile: 2, filesWithoutRow: 1 })
    expect(storageWarnings(storage)).toEqual([
      'storage: storage.objects rows without a restored file: 2',
      'storage: restored files without a storage.objects row: 1',
    ])
    expect(buildDrillReport(measured(storage)).outcome).toBe('warning')
  })

  it('never passes clean with the files unchecked (--no-storage)', () => {
    const report = buildDrillReport(measured(plannedStorage('skipped', FILES, null)))
    expect(report.outcome).toBe('warning')
    expect(report.warnings).toEqual([
      'the backup holds 4 Storage files (48.9 KiB) that were not checked (--no-storage)',
    ])
    expect(storageCheck(report.storage)).toBeUndefined()
  })

  it('says the files were verified, not restored, without lowering the outcome', () => {
    const verified = {
      ...plannedStorage('verified', FILES, null),
      objectsChecked: 4,
      bytesChecked: 50_023,
      ok: true,
      seconds: 1,
    }
    const report = buildDrillReport(measured(verified))
    expect(report.outcome).toBe('success')
    expect(storageCheck(verified)!.detail).toMatch(
      /verified, not restored: every blob read back from the store/,
    )
    expect(renderDrillMarkdown(report)).toContain(
      '| Storage files | 4 objects (48.9 KiB) in 2 buckets **verified, not restored** in 1.0 s',
    )
  })

  it('names the failing objects in the check and the Markdown', () => {
    const failed = {
      ...plannedStorage('verified', FILES, null),
      ok: false,
      problems: ['documents/q1.pdf: sha256 differs'],
    }
    expect(storageCheck(failed)).toMatchObject({
      ok: false,
      detail: expect.stringContaining('documents/q1.pdf: sha256 differs'),
    })
    expect(describeDrillStorage(failed)).toContain('**FAILED**: documents/q1.pdf: sha256 differs')
  })

  it('has no part and no check for a backup without files', () => {
    const report = buildDrillReport(measured(null))
    expect(report.storage).toBeNull()
    expect(storageWarnings(null)).toEqual([])
    expect(storageCheck(null)).toBeUndefined()
    expect(renderDrillMarkdown(report)).not.toContain('Storage files')
  })
})
