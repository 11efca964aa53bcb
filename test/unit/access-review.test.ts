// The DR test's access review: the diff highlights every added or removed principal, trusted
// subject, allow and deny; the stored reviews are compared newest to newest (folder store).
import { mkdtempSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FileStore } from '../../lib/adapters/store/file-store.ts'
import { readDrTestConfig } from '../../lib/core/drill-config.ts'
import type { LifeboatError } from '../../lib/core/errors.ts'
import { reviewAccess, reviewAccessForReport } from '../../lib/drills/access-review.ts'
import {
  type AccessChange,
  type AccessReview,
  diffAccessReviews,
  grantsOf,
  type ReportedAccessReview,
} from '../../lib/drills/access-review-report.ts'
import { buildDrillReport, type DrillMeasurements } from '../../lib/drills/report.ts'
import { renderDrillMarkdown } from '../../lib/drills/report-markdown.ts'
import { reportSchemaProblems } from '../helpers/report-schema.ts'

const base: AccessReview = {
  version: 1,
  stack: 'prod',
  bucket: 'arn:aws:s3:::b',
  principals: [
    {
      name: 'writer',
      kind: 'role',
      arn: 'arn:aws:iam::1:role/w',
      trusts: ['repo:o/r:environment:production'],
      ...grantsOf({
        Statement: [
          { Sid: 'Put', Effect: 'Allow', Action: ['s3:PutObject'], Resource: 'arn:aws:s3:::b/*' },
          { Sid: 'NoDelete', Effect: 'Deny', Action: ['s3:DeleteObject'], Resource: 'arn:aws:s3:::b/*' },
        ],
      }),
    },
  ],
}

/** A DR test that went well, measured: the report's decisions are the access review's alone. */
function drTestMeasurements(overrides: Partial<DrillMeasurements> = {}): DrillMeasurements {
  return {
    kind: 'dr-test',
    id: 'dr-test-2027-04-01T060000Z',
    backup: { id: 'backup-2027-04-01T020000Z', time: new Date('2027-04-01T02:00:00Z') },
    pick: { method: 'newest', seed: null, windowDays: null, candidates: 3 },
    stores: {
      backups: 's3://acme-lifeboat-backups/production',
      records: 's3://acme-lifeboat-backups/production',
    },
    startedAt: new Date('2027-04-01T06:00:00Z'),
    finishedAt: new Date('2027-04-01T06:10:00Z'),
    target: { kind: 'staging', host: '127.0.0.1', port: 5432, database: 'staging' },
    phases: { prepare: 1, download: 10, verify: 10, load: 30, verifyTables: 10, postChecks: 5, total: 66 },
    rtoTargetSeconds: 4 * 3600,
    rpoTargetSeconds: 24 * 3600,
    restoredBytes: 1_000_000,
    production: { backupId: 'backup-2027-04-01T020000Z', bytes: 1_000_000 },
    sizes: { tables: 1, rows: 10, dataBytes: 1_000_000, archiveBytes: 200_000 },
    tables: [{ table: 'public.a', rowsExpected: 10, rowsRestored: 10, sha256Match: true }],
    checks: [{ name: 'sequences', ok: true, detail: '1 sequence' }],
    restoreWarnings: [],
    failedTables: [],
    ...overrides,
  }
}

describe('access review diff', () => {
  it('finds nothing when nothing changed, and nothing on the first review', () => {
    expect(diffAccessReviews(base, structuredClone(base))).toEqual([])
    expect(diffAccessReviews(undefined, base)).toEqual([])
  })

  it('highlights a new trusted subject, a widened allow, a dropped deny and a new principal', () => {
    const next = structuredClone(base)
    const writer = next.principals[0]!
    writer.trusts.push('repo:o/r:pull_request')
    writer.allows[0]!.actions.push('s3:DeleteObject')
    writer.denies = []
    next.principals.push({
      name: 'intruder',
      kind: 'role',
      arn: 'arn:aws:iam::1:role/x',
      trusts: [],
      allows: [],
      denies: [],
    })
    const messages = diffAccessReviews(base, next).map((c) => `${c.kind}: ${c.message}`)
    expect(messages).toEqual([
      'trust: writer now trusts repo:o/r:pull_request',
      'allows: writer allows: + s3:PutObject, s3:DeleteObject on arn:aws:s3:::b/* [Put]',
      'allows: writer allows: − s3:PutObject on arn:aws:s3:::b/* [Put]',
      'denies: writer denies: − s3:DeleteObject on arn:aws:s3:::b/* [NoDelete]',
      'added: intruder (arn:aws:iam::1:role/x) can now reach the bucket',
    ])
  })
})

describe('reviewAccess', () => {
  it('stores each review create-only and compares with the newest stored one', async () => {
    const store = new FileStore(mkdtempSync(join(tmpdir(), 'access-review-')))
    const first = await reviewAccess(store, JSON.stringify(base), new Date('2027-01-01T06:00:00Z'))
    expect(first.changes).toEqual([])
    expect(first.markdown).toContain('First review')
    const widened = structuredClone(base)
    widened.principals[0]!.trusts.push('repo:o/r:environment:staging')
    const second = await reviewAccess(store, JSON.stringify(widened), new Date('2027-04-01T06:00:00Z'))
    expect(second.previousKey).toBe(first.key)
    expect(second.markdown).toContain('**writer now trusts repo:o/r:environment:staging**')
  })
})

describe('the access review in the DR-test report', () => {
  const reported = (changes: AccessChange[]): ReportedAccessReview => ({
    key: 'drills/access-review-2027-04-01T060000Z.json',
    previousKey: 'drills/access-review-2027-01-01T060000Z.json',
    changes,
    review: base,
  })
  const widening: AccessChange = {
    principal: 'writer',
    kind: 'trust',
    message: 'writer now trusts repo:o/r:pull_request',
  }

  it('carries the review and turns every change into a warning a person confirms', () => {
    const report = buildDrillReport(drTestMeasurements({ accessReview: reported([widening]) }))
    expect(report.accessReview?.changes).toEqual([widening])
    expect(report.outcome).toBe('warning')
    expect(report.warnings).toEqual([
      'access review: 1 change since the last review, confirm each was intended: writer now trusts repo:o/r:pull_request',
    ])
    expect(reportSchemaProblems(report)).toEqual([])
  })

  it('leaves a review without changes a success, and shows it in the Markdown', () => {
    const report = buildDrillReport(drTestMeasurements({ accessReview: reported([]) }))
    expect(report.outcome).toBe('success')
    const markdown = renderDrillMarkdown(report)
    expect(markdown).toContain('## Access review: arn:aws:s3:::b (stack prod)')
    expect(markdown).toContain('No change since the last review.')
    expect(markdown).toContain('### writer (role)')
  })

  it('says so in a DR test without the review, and keeps it out of a drill', () => {
    const drTest = renderDrillMarkdown(buildDrillReport(drTestMeasurements()))
    expect(drTest).toContain('**Access review:** not done: set LIFEBOAT_ACCESS_REVIEW')
    const drill = renderDrillMarkdown(buildDrillReport(drTestMeasurements({ kind: 'drill' })))
    expect(drill).not.toContain('Access review')
  })

  it('is refused at start when LIFEBOAT_ACCESS_REVIEW is not a review (exit 2, nothing run)', () => {
    const env = { BACKUP_STORE: 'file:///tmp/nowhere', LIFEBOAT_ACCESS_REVIEW: '{"version": 2}' }
    const error = (() => {
      try {
        readDrTestConfig(env, {})
      } catch (e) {
        return e as LifeboatError
      }
      return undefined
    })()
    expect(error?.code).toBe('CONFIG_INVALID')
    expect(error?.message).toContain('LIFEBOAT_ACCESS_REVIEW is not an access review')
    const ok = readDrTestConfig({ ...env, LIFEBOAT_ACCESS_REVIEW: JSON.stringify(base) }, {})
    expect(ok.accessReview).toBe(JSON.stringify(base))
  })
})

describe('reviewAccessForReport', () => {
  it('gives a second review in the same second its own key, compared with the first', async () => {
    const store = new FileStore(mkdtempSync(join(tmpdir(), 'access-review-')))
    const now = new Date('2027-01-01T06:00:00Z')
    const first = await reviewAccessForReport(store, JSON.stringify(base), now)
    const next = structuredClone(base)
    next.principals[0]!.trusts.push('repo:o/r:environment:staging')
    const second = await reviewAccessForReport(store, JSON.stringify(next), now)
    const third = await reviewAccessForReport(store, JSON.stringify(next), now)
    expect(first.reported?.key).toBe('drills/access-review-2027-01-01T060000Z.json')
    expect(second.reported?.key).toBe('drills/access-review-2027-01-01T060000Z-2.json')
    expect(second.reported?.previousKey).toBe(first.reported?.key)
    expect(second.reported?.changes.map((c) => c.message)).toEqual([
      'writer now trusts repo:o/r:environment:staging',
    ])
    expect(third.reported?.previousKey).toBe(second.reported?.key)
    expect(third.reported?.changes).toEqual([])
  })

  it('makes a store that refuses the review a warning, not a failed DR test', async () => {
    const notAFolder = join(mkdtempSync(join(tmpdir(), 'access-review-')), 'file')
    await writeFile(notAFolder, 'not a folder')
    const store = new FileStore(notAFolder)
    const result = await reviewAccessForReport(store, JSON.stringify(base), new Date())
    expect(result.reported).toBeUndefined()
    expect(result.warning).toMatch(/^access review not done: /)
  })
})
