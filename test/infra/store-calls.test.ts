// Replays every store call each job made in the integration tests (recorded by
// test/integration/role-permissions.test.ts into fixtures/store-calls.json) against the policies
// the Pulumi program deploys for that job's role, plus the bucket policy: every call must be
// allowed, and the role must allow nothing more: each of its S3 Allow statements is needed by
// some call of a job that runs under it.
import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import type { PolicyDocument } from '../../infra/iam-documents.ts'
import { type BuiltStack, buildStack, documentOf, one } from './harness.ts'
import { evaluate, grantingStatements, type IamRequest } from './iam-evaluator.ts'
import { ResourceType } from './policy.ts'

interface StoreCall {
  operation: string
  action: string
  key?: string
  prefix?: string
  ifNoneMatch?: string
}

const recorded = JSON.parse(
  readFileSync(new URL('./fixtures/store-calls.json', import.meta.url), 'utf8'),
) as Record<string, { role: string; calls: StoreCall[] }>
const BUCKET_ARN = 'arn:aws:s3:::acme-lifeboat-backups'
/** The example stack's second copy (lifeboat:replica). */
const REPLICA_ARN = 'arn:aws:s3:::acme-lifeboat-backups-replica'
const PREFIX = 'production'
/** Statements no recorded call needs, each for a reason the integration tests cannot show. */
const NEEDED_ELSEWHERE: Record<string, string[]> = {
  // AbortMultipartUpload: only after a failed multipart upload (the lifecycle rule also aborts).
  writer: [],
  // AbortMultipartUpload: only for an upload older than a day (test/integration/crash-debris.test.ts).
  cleaner: ['AbortStaleUploads'],
  // The replica statements: the monitor's replica check and a DR test from the replica.
  reader: ['ListReplica', 'ReadReplica'],
}

let stack: BuiltStack
let bucketPolicy: PolicyDocument
let replicaPolicy: PolicyDocument
beforeAll(async () => {
  stack = await buildStack()
  bucketPolicy = documentOf(
    one(stack, ResourceType.bucketPolicy, (r) => r.inputs.bucket === 'acme-lifeboat-backups'),
  )
  replicaPolicy = documentOf(
    one(stack, ResourceType.bucketPolicy, (r) => r.inputs.bucket === 'acme-lifeboat-backups-replica'),
  )
})

const roleDocument = (role: string) =>
  documentOf(one(stack, ResourceType.rolePolicy, (r) => r.name === `access-${role}-policy`))
const roleArn = (role: string) => `arn:aws:iam::123456789012:role/lifeboat-test-${role}`

/** The generic key of a recorded call, made concrete under the stack's bucket and prefix. */
function requestOf(call: StoreCall, role: string, bucketArn = BUCKET_ARN): IamRequest {
  const concrete = (text: string) =>
    `${PREFIX}/${text
      .replace('backup-<id>', 'backup-2027-01-01T020000Z')
      .replace('<yyyy>/<mm>/<dd>/<record>', '2027/01/01/020000-backup-0a1b2c')
      .replace('<yyyy>/<mm>/', '2027/01/')
      .replace(/(drill|dr-test)-<id>/, '$1-2027-01-15T050000Z')
      .replace('access-review-<time>', 'access-review-2027-01-15T050000Z')}`
  const creation = ['PutObject', 'CompleteMultipartUpload', 'CopyObject'].includes(call.operation)
  return {
    action: call.action,
    resource: call.key !== undefined ? `${bucketArn}/${concrete(call.key)}` : bucketArn,
    context: {
      'aws:SecureTransport': 'true',
      'aws:PrincipalArn': roleArn(role),
      ...(call.prefix !== undefined ? { 's3:prefix': concrete(call.prefix) } : {}),
      ...(call.action === 's3:PutObject' ? { 's3:ObjectCreationOperation': String(creation) } : {}),
      ...(call.ifNoneMatch !== undefined ? { 's3:if-none-match': call.ifNoneMatch } : {}),
    },
  }
}

describe('the recorded store calls', () => {
  it('cover every job the workflows run, and the ones a person runs', () => {
    expect(Object.keys(recorded).sort()).toEqual([
      'audit',
      'backup',
      'clean',
      'dr-test',
      'drill',
      'monitor',
      'restore',
      'verify',
    ])
    expect(recorded.backup!.role).toBe('writer')
    expect(recorded.clean!.role).toBe('cleaner')
  })

  it.each(Object.keys(recorded))('%s: every call is allowed by its role and the bucket policy', (job) => {
    const { role, calls } = recorded[job]!
    const refused = calls.filter(
      (call) => evaluate([roleDocument(role), bucketPolicy], requestOf(call, role)) !== 'allow',
    )
    expect(refused).toEqual([])
  })

  it.each(['writer', 'cleaner', 'reader'])('the %s role allows nothing the jobs do not need', (role) => {
    const used = new Set<string>()
    for (const { role: jobRole, calls } of Object.values(recorded)) {
      if (jobRole !== role) continue
      for (const call of calls)
        for (const sid of grantingStatements([roleDocument(role)], requestOf(call, role))) used.add(sid)
    }
    const s3Allows = roleDocument(role)
      .Statement.filter((s) => s.Effect === 'Allow' && s.Action.some((a) => a.startsWith('s3:')))
      .map((s) => s.Sid)
    expect(s3Allows.filter((sid) => !used.has(sid) && !NEEDED_ELSEWHERE[role]!.includes(sid))).toEqual([])
  })

  it('a call the role does not allow is caught (the replay can fail)', () => {
    const deleteByWriter: StoreCall = {
      operation: 'DeleteObject',
      action: 's3:DeleteObject',
      key: 'database-backups/backup-<id>.tar.gz',
    }
    const overwrite: StoreCall = {
      operation: 'PutObject',
      action: 's3:PutObject',
      key: 'database-backups/backup-<id>.tar.gz',
    }
    expect(evaluate([roleDocument('writer'), bucketPolicy], requestOf(deleteByWriter, 'writer'))).toBe(
      'explicit-deny',
    )
    expect(evaluate([roleDocument('writer'), bucketPolicy], requestOf(overwrite, 'writer'))).toBe(
      'explicit-deny',
    )
  })
})

describe('a DR test from the replica (dr-test.yml with source: replica)', () => {
  // The same calls as the recorded DR test, split as LIFEBOAT_RECORD_STORE splits them: the
  // records (report, access review, audit event, status) to the primary, the rest to the replica.
  const isRecord = (call: StoreCall) => /^(drills|audit|state)\//.test(call.key ?? call.prefix ?? '')
  const { role, calls } = recorded['dr-test']!
  const reads = calls.filter((call) => !isRecord(call))
  const records = calls.filter(isRecord)

  it('reads backups, sidecars, signatures and Storage files from the replica with the reader’s grants', () => {
    expect(reads.map((c) => c.action)).not.toContain('s3:PutObject')
    expect(reads.length).toBeGreaterThan(0)
    const refused = reads.filter(
      (call) => evaluate([roleDocument(role), replicaPolicy], requestOf(call, role, REPLICA_ARN)) !== 'allow',
    )
    expect(refused).toEqual([])
  })

  it('writes every record to the primary with the reader’s grants', () => {
    expect(records.filter((c) => c.action === 's3:PutObject').map((c) => c.key)).toEqual(
      expect.arrayContaining([
        'audit/<yyyy>/<mm>/<dd>/<record>.json',
        'drills/access-review-<time>.json',
        'drills/dr-test-<id>.json',
        'state/status.json',
      ]),
    )
    const refused = records.filter(
      (call) => evaluate([roleDocument(role), bucketPolicy], requestOf(call, role)) !== 'allow',
    )
    expect(refused).toEqual([])
  })

  it('could write none of them to the replica: why the records need a store of their own', () => {
    const writes = records.filter((c) => c.action === 's3:PutObject')
    const allowed = writes.filter(
      (call) => evaluate([roleDocument(role), replicaPolicy], requestOf(call, role, REPLICA_ARN)) === 'allow',
    )
    expect(allowed).toEqual([])
  })
})
