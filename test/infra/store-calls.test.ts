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
const PREFIX = 'production'
/** Statements no recorded call needs, each for a reason the integration tests cannot show. */
const NEEDED_ELSEWHERE: Record<string, string[]> = {
  // AbortMultipartUpload: only after a failed multipart upload (the lifecycle rule also aborts).
  writer: [],
  cleaner: [],
  // The replica statements: the monitor's replica check and a DR test from the replica.
  reader: ['ListReplica', 'ReadReplica'],
}

let stack: BuiltStack
let bucketPolicy: PolicyDocument
beforeAll(async () => {
  stack = await buildStack()
  bucketPolicy = documentOf(
    one(stack, ResourceType.bucketPolicy, (r) => r.inputs.bucket === 'acme-lifeboat-backups'),
  )
})

const roleDocument = (role: string) =>
  documentOf(one(stack, ResourceType.rolePolicy, (r) => r.name === `access-${role}-policy`))
const roleArn = (role: string) => `arn:aws:iam::123456789012:role/lifeboat-test-${role}`

/** The generic key of a recorded call, made concrete under the stack's bucket and prefix. */
function requestOf(call: StoreCall, role: string): IamRequest {
  const concrete = (text: string) =>
    `${PREFIX}/${text
      .replace('backup-<id>', 'backup-2027-01-01T020000Z')
      .replace('<yyyy>/<mm>/<dd>/<record>', '2027/01/01/020000-backup-0a1b2c')
      .replace('<yyyy>/<mm>/', '2027/01/')
      .replace(/(drill|dr-test)-<id>/, '$1-2027-01-15T050000Z')}`
  const creation = ['PutObject', 'CompleteMultipartUpload', 'CopyObject'].includes(call.operation)
  return {
    action: call.action,
    resource: call.key !== undefined ? `${BUCKET_ARN}/${concrete(call.key)}` : BUCKET_ARN,
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
