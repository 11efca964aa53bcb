// Issue 15 under Pulumi's mocks: disjoint OIDC subjects (no subject trusted by two roles), a
// writer that can neither delete nor overwrite, the second copy (replica bucket, replication
// rule and role), the trail and the alarm on guard changes, the default branch ruleset, and
// the access review the stack publishes for the DR test.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { GUARD_CHANGE_EVENTS } from '../../infra/monitoring.ts'
import { StackOutput } from '../../lib/core/stack-outputs.ts'
import { grantsOf, parseAccessReview } from '../../lib/drills/access-review-report.ts'
import {
  type BuiltStack,
  buildStack,
  documentOf,
  editPolicy,
  ofType,
  one,
  REPLICA_KMS_KEY,
  REPOSITORY_ROOT,
  replicaWithKey,
  tamper,
} from './harness.ts'
import { evaluate, type IamRequest } from './iam-evaluator.ts'
import { ResourceType } from './policy.ts'

const BUCKET_ARN = 'arn:aws:s3:::acme-lifeboat-backups'
const REPLICA = 'acme-lifeboat-backups-replica'
const SUB = 'token.actions.githubusercontent.com:sub'

let stack: BuiltStack
beforeAll(async () => {
  stack = await buildStack()
})

const roleDocument = (duty: string) =>
  documentOf(one(stack, ResourceType.rolePolicy, (r) => r.name === `access-${duty}-policy`))

describe('identities', () => {
  it('no OIDC subject is trusted by two roles, and every role trusts only exact subjects', () => {
    const { owners, shared } = subjectOwners(stack)
    expect(shared).toEqual([])
    expect(owners.size).toBe(5)
    for (const subject of owners.keys()) expect(subject).not.toMatch(/[*?]/)
  })

  it('the check fails when a role is made to trust another duty’s subject', async () => {
    const tampered = await buildStack({
      transformations: [
        tamper(ResourceType.role, 'access-cleaner', (p) => ({
          ...p,
          assumeRolePolicy: editPolicy(p.assumeRolePolicy, (doc) => ({
            ...doc,
            Statement: doc.Statement.map((s) => ({
              ...s,
              Condition: {
                StringEquals: {
                  'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
                  [SUB]: [
                    'repo:acme/lifeboat:environment:production:job_workflow_ref:acme/lifeboat/.github/workflows/backup.yml@refs/heads/main',
                  ],
                },
              },
            })),
          })),
        })),
      ],
    })
    expect(subjectOwners(tampered).shared).toEqual([
      'repo:acme/lifeboat:environment:production:job_workflow_ref:acme/lifeboat/.github/workflows/backup.yml@refs/heads/main',
    ])
  })
})

/** Which role trusts each subject, and the subjects more than one role trusts. */
function subjectOwners(built: BuiltStack): { owners: Map<string, string>; shared: string[] } {
  const owners = new Map<string, string>()
  const shared: string[] = []
  for (const role of ofType(built, ResourceType.role)) {
    for (const statement of documentOf(role, 'assumeRolePolicy').Statement) {
      expect(statement.Condition?.StringLike, role.name).toBeUndefined()
      for (const subject of [statement.Condition?.StringEquals?.[SUB] ?? []].flat()) {
        if (owners.has(subject)) shared.push(subject)
        else owners.set(subject, role.name)
      }
    }
  }
  return { owners, shared }
}

describe('the writer', () => {
  const key = `${BUCKET_ARN}/production/database-backups/backup-2027-01-01T020000Z.tar.gz`
  const audit = `${BUCKET_ARN}/production/audit/2027/01/01/020000-backup-abc.json`
  const put = (resource: string, context: IamRequest['context']): IamRequest => ({
    action: 's3:PutObject',
    resource,
    context: { 'aws:SecureTransport': 'true', ...context },
  })

  it('creates backups and audit events only with If-None-Match: * (no overwrite)', () => {
    const doc = roleDocument('writer')
    for (const resource of [key, audit]) {
      expect(
        evaluate([doc], put(resource, { 's3:ObjectCreationOperation': 'true', 's3:if-none-match': '*' })),
      ).toBe('allow')
      // A plain PutObject, a CompleteMultipartUpload without the header, a CopyObject: refused.
      expect(evaluate([doc], put(resource, { 's3:ObjectCreationOperation': 'true' }))).toBe('explicit-deny')
      expect(
        evaluate([doc], put(resource, { 's3:ObjectCreationOperation': 'true', 's3:if-match': '"etag"' })),
      ).toBe('explicit-deny')
      // CreateMultipartUpload and UploadPart carry no conditional header; the completion decides.
      expect(evaluate([doc], put(resource, { 's3:ObjectCreationOperation': 'false' }))).toBe('allow')
    }
  })

  it('deletes nothing, not even a version', () => {
    const doc = roleDocument('writer')
    for (const action of ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutLifecycleConfiguration']) {
      expect(evaluate([doc], { action, resource: key, context: {} })).toBe('explicit-deny')
    }
  })

  it('may replace its status file (the one object it overwrites)', () => {
    const status = `${BUCKET_ARN}/production/state/status.json`
    expect(evaluate([roleDocument('writer')], put(status, { 's3:ObjectCreationOperation': 'true' }))).toBe(
      'allow',
    )
  })

  it('the cleaner and the reader create audit events and reports only, too', () => {
    const drill = `${BUCKET_ARN}/production/drills/drill-2027.json`
    expect(evaluate([roleDocument('cleaner')], put(audit, { 's3:ObjectCreationOperation': 'true' }))).toBe(
      'explicit-deny',
    )
    expect(evaluate([roleDocument('reader')], put(drill, { 's3:ObjectCreationOperation': 'true' }))).toBe(
      'explicit-deny',
    )
    expect(
      evaluate(
        [roleDocument('reader')],
        put(drill, { 's3:ObjectCreationOperation': 'true', 's3:if-none-match': '*' }),
      ),
    ).toBe('allow')
  })
})

describe('the second copy', () => {
  const onReplica = (r: { inputs: Record<string, unknown> }) => r.inputs.bucket === REPLICA

  it('declares the replica bucket, protected, versioned, encrypted, Object Lock in compliance mode', () => {
    expect(one(stack, ResourceType.bucket, onReplica).protect).toBe(true)
    expect(one(stack, ResourceType.versioning, onReplica).inputs.versioningConfiguration).toEqual({
      status: 'Enabled',
    })
    expect(one(stack, ResourceType.encryption, onReplica).inputs.rules).toEqual([
      { applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } },
    ])
    expect(one(stack, ResourceType.objectLock, onReplica).inputs.rule).toEqual({
      defaultRetention: { mode: 'COMPLIANCE', days: 35 },
    })
    const rules = one(stack, ResourceType.lifecycle, onReplica).inputs.rules as {
      id: string
      expiration?: unknown
    }[]
    expect(rules.find((r) => r.id === 'expire-replicated-backups')?.expiration).toEqual({ days: 400 })
    expect(one(stack, 'pulumi:providers:aws', (p) => p.name === 'replica-provider').inputs.region).toBe(
      'eu-west-1',
    )
  })

  it('replicates the prefix with its own role, never replicating deletes', () => {
    const replication = one(stack, ResourceType.replication)
    expect(replication.inputs).toMatchObject({
      bucket: 'acme-lifeboat-backups',
      role: 'arn:aws:iam::123456789012:role/lifeboat-test-replication',
      rules: [
        {
          status: 'Enabled',
          filter: { prefix: 'production/' },
          deleteMarkerReplication: { status: 'Disabled' },
          destination: { bucket: `arn:aws:s3:::${REPLICA}` },
        },
      ],
    })
    expect(replication.protect).toBe(true)
    const trust = documentOf(
      one(stack, ResourceType.role, (r) => r.name === 'replica-replication'),
      'assumeRolePolicy',
    )
    expect(trust.Statement[0]!.Principal).toEqual({ Service: 's3.amazonaws.com' })
    const policy = documentOf(
      one(stack, ResourceType.rolePolicy, (r) => r.name === 'replica-replication-policy'),
    )
    expect(
      evaluate([policy], {
        action: 's3:ReplicateDelete',
        resource: `arn:aws:s3:::${REPLICA}/production/x`,
        context: {},
      }),
    ).toBe('explicit-deny')
  })

  it('lets the reader list and read the replica (monitor, DR test from the replica)', () => {
    const doc = roleDocument('reader')
    const context = { 's3:prefix': 'production/database-backups/' }
    expect(evaluate([doc], { action: 's3:ListBucket', resource: `arn:aws:s3:::${REPLICA}`, context })).toBe(
      'allow',
    )
    expect(stack.outputs[StackOutput.replicaStore]).toBe(`s3://${REPLICA}/production`)
  })

  describe('with KMS keys on both buckets', () => {
    const PRIMARY_KEY = 'arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'
    let kms: BuiltStack
    beforeAll(async () => {
      kms = await buildStack({
        overrides: { 'lifeboat:kmsKeyArn': PRIMARY_KEY, 'lifeboat:replica': replicaWithKey() },
      })
    })
    const deployed = (name: string) => documentOf(one(kms, ResourceType.rolePolicy, (r) => r.name === name))

    it('lets the reader decrypt the replica’s objects with the replica’s own key', () => {
      const decrypt = (resource: string) =>
        evaluate([deployed('access-reader-policy')], { action: 'kms:Decrypt', resource, context: {} })
      expect(decrypt(REPLICA_KMS_KEY)).toBe('allow')
      expect(decrypt(PRIMARY_KEY)).toBe('allow')
    })

    it('publishes an access review holding the key grants the stack deploys', () => {
      const review = parseAccessReview(String(kms.outputs[StackOutput.accessReview]))
      const allows = (name: string) => review.principals.find((p) => p.name === name)!.allows
      expect(allows('reader')).toEqual(grantsOf(deployed('access-reader-policy')).allows)
      expect(allows('replication')).toEqual(grantsOf(deployed('replica-replication-policy')).allows)
    })
  })

  it('is absent without lifeboat:replica', async () => {
    const built = await buildStack({ remove: ['lifeboat:replica'] })
    expect(ofType(built, ResourceType.replication)).toEqual([])
    expect(built.outputs[StackOutput.replicaStore]).toBe('')
  })
})

describe('who did what, and the alarm', () => {
  it('records object writes on the bucket with CloudTrail, into a protected bucket of its own', () => {
    const trail = one(stack, ResourceType.trail)
    expect(trail.protect).toBe(true)
    expect(trail.inputs.enableLogFileValidation).toBe(true)
    expect(JSON.stringify(trail.inputs.advancedEventSelectors)).toContain(`${BUCKET_ARN}/`)
    const logBucket = one(
      stack,
      ResourceType.bucket,
      (b) => b.inputs.bucket === 'acme-lifeboat-backups-trail',
    )
    expect(logBucket.protect).toBe(true)
  })

  it('mails the on-call people when the bucket policy, lifecycle or Object Lock changes', () => {
    const pattern = JSON.parse(String(one(stack, ResourceType.eventRule).inputs.eventPattern))
    expect(pattern.detail.eventName).toEqual(
      expect.arrayContaining([
        'PutBucketPolicy',
        'DeleteBucketPolicy',
        'PutBucketLifecycleConfiguration',
        'PutObjectLockConfiguration',
        'PutBucketVersioning',
      ]),
    )
    expect(pattern.detail.eventName).toEqual([...GUARD_CHANGE_EVENTS])
    expect(pattern.detail.requestParameters.bucketName).toEqual(['acme-lifeboat-backups'])
    const topic = one(stack, ResourceType.topic)
    expect(one(stack, ResourceType.eventTarget).inputs.arn).toBe(topic.outputs?.arn)
    expect(ofType(stack, ResourceType.topicSubscription).map((s) => s.inputs)).toEqual([
      expect.objectContaining({ protocol: 'email', endpoint: 'security@example.com' }),
    ])
  })
})

describe('the alarm topic', () => {
  it('takes messages from EventBridge only when they come from the guard-change rule', () => {
    const topic = String(one(stack, ResourceType.topic).outputs?.arn)
    const rule = String(one(stack, ResourceType.eventRule).outputs?.arn)
    const doc = documentOf(one(stack, ResourceType.topicPolicy))
    const publish = (sourceArn: string | undefined) =>
      evaluate([doc], { action: 'sns:Publish', resource: topic, context: { 'aws:SourceArn': sourceArn } })
    expect(rule).toMatch(/^arn:aws:events:.+:rule\/lifeboat-test-guard-changes$/)
    expect(publish(rule)).toBe('allow')
    expect(publish('arn:aws:events:eu-central-1:999999999999:rule/someone-else')).toBe('implicit-deny')
    expect(publish(undefined)).toBe('implicit-deny')
  })
})

describe('the default branch', () => {
  it('takes changes only through an approved pull request whose CI check passed', () => {
    const ruleset = one(stack, ResourceType.ruleset)
    expect(ruleset.inputs).toMatchObject({
      repository: 'lifeboat',
      target: 'branch',
      enforcement: 'active',
      conditions: { refName: { includes: ['~DEFAULT_BRANCH'] } },
      rules: {
        deletion: true,
        nonFastForward: true,
        pullRequest: {
          requiredApprovingReviewCount: 1,
          dismissStaleReviewsOnPush: true,
          requireLastPushApproval: true,
        },
      },
    })
    expect(ruleset.inputs.bypassActors).toBeUndefined()
    const ci = parse(readFileSync(join(REPOSITORY_ROOT, '.github/workflows/ci.yml'), 'utf8')) as {
      jobs: Record<string, { name: string }>
    }
    const checks = (
      ruleset.inputs.rules as { requiredStatusChecks: { requiredChecks: { context: string }[] } }
    ).requiredStatusChecks.requiredChecks
    expect(checks.map((c) => c.context)).toEqual(Object.values(ci.jobs).map((j) => j.name))
  })
})

describe('the access review the DR test compares', () => {
  it('names every principal that can reach the bucket, whom it trusts and what it may do', () => {
    const review = parseAccessReview(String(stack.outputs[StackOutput.accessReview]))
    expect(review.bucket).toBe(BUCKET_ARN)
    expect(review.principals.map((p) => p.name)).toEqual([
      'writer',
      'cleaner',
      'reader',
      'operator',
      'replication',
    ])
    const writer = review.principals.find((p) => p.name === 'writer')!
    expect(writer.trusts).toHaveLength(1)
    expect(writer.trusts[0]).toContain(':environment:production:job_workflow_ref:')
    expect(writer.denies.map((g) => g.sid)).toEqual(
      expect.arrayContaining(['DenyOverwrites', 'DenyAllDeletes']),
    )
    const text = JSON.stringify(review)
    expect(text).not.toMatch(/password|SECRET-KEY|hooks\.slack/i)
  })
})
