// The DR test's access review: the diff highlights every added or removed principal, trusted
// subject, allow and deny; the stored reviews are compared newest to newest (folder store).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FileStore } from '../../lib/adapters/store/file-store.ts'
import { reviewAccess } from '../../lib/drills/access-review.ts'
import { type AccessReview, diffAccessReviews, grantsOf } from '../../lib/drills/access-review-report.ts'

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
