// Policy checks over the resources a program declares (as recorded under Pulumi mocks, or
// from a preview): the guarantees the backups rely on, each with a rule name, so a test can
// prove that removing one (versioning, encryption, TLS deny, MFA deny …) is caught.

import type { PolicyDocument, PolicyStatement } from '../../infra/iam-documents.ts'
import { BACKSTOP_MARGIN_DAYS } from '../../infra/settings.ts'
import { BACKUPS_PREFIX } from '../../lib/archive/layout.ts'

export interface DeclaredResource {
  type: string
  name: string
  inputs: Record<string, unknown>
  /** Provider-computed values (ARNs), when known: after a deployment or under mocks. */
  outputs?: Record<string, unknown>
  protect?: boolean
  retainOnDelete?: boolean
}

export type PolicyRule =
  | 'bucket-protected'
  | 'guards-retained'
  | 'versioning'
  | 'encryption'
  | 'public-access-block'
  | 'ownership'
  | 'lifecycle'
  | 'tls-deny'
  | 'mfa-deny'
  | 'writer-no-delete'
  | 'cleaner-scope'
  | 'reader-no-delete'
  | 'trust-scoped'
  | 'operator-mfa'

export interface PolicyViolation {
  rule: PolicyRule
  message: string
}

export interface PolicyExpectations {
  prefix: string
  /** The oldest backup the clean job keeps on purpose (settings.ts `retentionReachDays`). */
  retentionReachDays: number
  github: { owner: string; repository: string }
}

export const ResourceType = {
  bucket: 'aws:s3/bucket:Bucket',
  versioning: 'aws:s3/bucketVersioning:BucketVersioning',
  encryption: 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
  publicAccessBlock: 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock',
  ownership: 'aws:s3/bucketOwnershipControls:BucketOwnershipControls',
  lifecycle: 'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
  bucketPolicy: 'aws:s3/bucketPolicy:BucketPolicy',
  objectLock: 'aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration',
  role: 'aws:iam/role:Role',
  rolePolicy: 'aws:iam/rolePolicy:RolePolicy',
  policy: 'aws:iam/policy:Policy',
  oidcProvider: 'aws:iam/openIdConnectProvider:OpenIdConnectProvider',
  actionsSecret: 'github:index/actionsSecret:ActionsSecret',
  environmentSecret: 'github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret',
  actionsVariable: 'github:index/actionsVariable:ActionsVariable',
  environment: 'github:index/repositoryEnvironment:RepositoryEnvironment',
  deploymentPolicy:
    'github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy',
  repositoryFile: 'github:index/repositoryFile:RepositoryFile',
  oidcTemplate:
    'github:index/actionsRepositoryOidcSubjectClaimCustomizationTemplate:ActionsRepositoryOidcSubjectClaimCustomizationTemplate',
  ruleset: 'github:index/repositoryRuleset:RepositoryRuleset',
  replication: 'aws:s3/bucketReplicationConfig:BucketReplicationConfig',
  trail: 'aws:cloudtrail/trail:Trail',
  eventRule: 'aws:cloudwatch/eventRule:EventRule',
  eventTarget: 'aws:cloudwatch/eventTarget:EventTarget',
  topic: 'aws:sns/topic:Topic',
  topicPolicy: 'aws:sns/topicPolicy:TopicPolicy',
  topicSubscription: 'aws:sns/topicSubscription:TopicSubscription',
} as const

const DELETE_ACTIONS = ['s3:DeleteObject', 's3:DeleteObjectVersion']

/** Removing any of these would weaken the bucket (`pulumi destroy --exclude-protected` used to). */
const GUARD_TYPES = [
  ResourceType.versioning,
  ResourceType.encryption,
  ResourceType.publicAccessBlock,
  ResourceType.ownership,
  ResourceType.lifecycle,
  ResourceType.bucketPolicy,
  ResourceType.objectLock,
]

/** Runs every check; an empty list means the declared resources keep every guarantee. */
export function checkPolicies(
  resources: readonly DeclaredResource[],
  expect: PolicyExpectations,
): PolicyViolation[] {
  const violations: PolicyViolation[] = []
  const fail = (rule: PolicyRule, message: string) => violations.push({ rule, message })
  const ofType = (type: string) => resources.filter((r) => r.type === type)

  // The backup bucket (the replica and the trail's bucket have checks of their own in hardening.test.ts).
  const buckets = ofType(ResourceType.bucket).filter(
    (b) => (tag(b, 'lifeboat:bucket') ?? 'backups') === 'backups',
  )
  if (buckets.length === 0) fail('versioning', 'no S3 bucket is declared')
  const roles = rolesByDuty(resources)

  for (const bucket of buckets) {
    const name = String(bucket.inputs.bucket ?? bucket.name)
    const bucketArn = `arn:aws:s3:::${name}`
    const forBucket = (type: string) => ofType(type).filter((r) => r.inputs.bucket === name)
    const samples = sampleObjectArns(bucketArn, expect.prefix)

    if (bucket.protect !== true) fail('bucket-protected', `bucket ${name} is not protected against deletion`)
    for (const type of GUARD_TYPES) {
      for (const guard of forBucket(type)) {
        if (guard.protect !== true || guard.retainOnDelete !== true)
          fail('guards-retained', `${guard.name} (${type}) is not protected and retained on delete`)
      }
    }

    const versioning = forBucket(ResourceType.versioning)
    if (!versioning.some((v) => get(v.inputs, 'versioningConfiguration', 'status') === 'Enabled')) {
      fail('versioning', `bucket ${name} has no versioning with status Enabled`)
    }

    const encryption = forBucket(ResourceType.encryption)
    const algorithms = encryption.flatMap((e) =>
      list(e.inputs.rules).map((rule) => get(rule, 'applyServerSideEncryptionByDefault', 'sseAlgorithm')),
    )
    if (
      algorithms.length === 0 ||
      !algorithms.every((a) => a === 'AES256' || a === 'aws:kms' || a === 'aws:kms:dsse')
    ) {
      fail('encryption', `bucket ${name} has no default server-side encryption (AES256 or aws:kms)`)
    }

    const blocks = forBucket(ResourceType.publicAccessBlock)
    const flags = ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets']
    if (!blocks.some((b) => flags.every((flag) => b.inputs[flag] === true))) {
      fail('public-access-block', `bucket ${name} does not set all four public access block flags`)
    }

    const ownership = forBucket(ResourceType.ownership)
    if (!ownership.some((o) => get(o.inputs, 'rule', 'objectOwnership') === 'BucketOwnerEnforced')) {
      fail('ownership', `bucket ${name} does not enforce bucket-owner object ownership (ACLs off)`)
    }

    checkLifecycle(forBucket(ResourceType.lifecycle), name, expect, fail)

    const policies = forBucket(ResourceType.bucketPolicy).map((p) => parseDocument(p.inputs.policy))
    const statements = policies.flatMap((d) => d?.Statement ?? [])
    if (!statements.some((s) => isTlsDeny(s, bucketArn))) {
      fail(
        'tls-deny',
        `bucket ${name} policy does not deny requests without TLS (aws:SecureTransport = false)`,
      )
    }
    const pipelineArns = Object.values(roles)
      .flat()
      .map((r) => String(r.outputs?.arn ?? ''))
    if (!statements.some((s) => isMfaDeny(s, bucketArn, samples, pipelineArns))) {
      fail(
        'mfa-deny',
        `bucket ${name} policy does not deny object reads and deletes without MFA (BoolIfExists aws:MultiFactorAuthPresent = false), ` +
          'exempting only the pipeline roles',
      )
    }

    const backupsPrefix = `${bucketArn}/${expect.prefix ? `${expect.prefix}/` : ''}${BACKUPS_PREFIX}`
    for (const role of roles.writer ?? []) {
      const doc = roleDocuments(resources, role)
      const deletable = samples.filter((arn) => DELETE_ACTIONS.some((a) => isAllowed(doc, a, arn)))
      if (deletable.length > 0)
        fail('writer-no-delete', `writer role ${role.name} may delete ${deletable.join(', ')}`)
      if (!samples.every((arn) => isExplicitlyDenied(doc, 's3:DeleteObject', arn))) {
        fail(
          'writer-no-delete',
          `writer role ${role.name} has no explicit Deny of s3:DeleteObject on the bucket`,
        )
      }
    }
    for (const role of roles.reader ?? []) {
      const doc = roleDocuments(resources, role)
      const deletable = samples.filter((arn) => DELETE_ACTIONS.some((a) => isAllowed(doc, a, arn)))
      if (deletable.length > 0)
        fail('reader-no-delete', `reader role ${role.name} may delete ${deletable.join(', ')}`)
    }
    for (const role of roles.cleaner ?? []) {
      const doc = roleDocuments(resources, role)
      const outside = samples.filter(
        (arn) => !arn.startsWith(backupsPrefix) && isAllowed(doc, 's3:DeleteObject', arn),
      )
      if (outside.length > 0)
        fail(
          'cleaner-scope',
          `cleaner role ${role.name} may delete outside ${BACKUPS_PREFIX}: ${outside.join(', ')}`,
        )
      if (samples.some((arn) => isAllowed(doc, 's3:DeleteObjectVersion', arn))) {
        fail(
          'cleaner-scope',
          `cleaner role ${role.name} may delete object versions (purge instead of delete marker)`,
        )
      }
    }
  }

  const subjectPrefix = `repo:${expect.github.owner}/${expect.github.repository}:`
  for (const role of Object.values(roles).flat()) {
    const trust = parseDocument(role.inputs.assumeRolePolicy)
    const problem = trustProblem(trust, subjectPrefix)
    if (problem) fail('trust-scoped', `role ${role.name}: ${problem}`)
  }

  for (const policy of ofType(ResourceType.policy).filter((p) => tag(p, 'lifeboat:access') === 'operator')) {
    const doc = parseDocument(policy.inputs.policy)
    const allows = doc?.Statement.filter((s) => s.Effect === 'Allow') ?? []
    if (
      allows.length === 0 ||
      !allows.every((s) => truthy(s.Condition?.Bool?.['aws:MultiFactorAuthPresent']))
    ) {
      fail(
        'operator-mfa',
        `operator policy ${policy.name} allows something without aws:MultiFactorAuthPresent = true`,
      )
    }
  }
  return violations
}

function checkLifecycle(
  lifecycles: DeclaredResource[],
  bucket: string,
  expect: PolicyExpectations,
  fail: (rule: PolicyRule, message: string) => void,
): void {
  const rules = lifecycles.flatMap((l) => list(l.inputs.rules)).filter((r) => get(r, 'status') === 'Enabled')
  if (!rules.some((r) => Number(get(r, 'noncurrentVersionExpiration', 'noncurrentDays')) > 0)) {
    fail('lifecycle', `bucket ${bucket} never expires noncurrent versions`)
  }
  if (!rules.some((r) => Number(get(r, 'abortIncompleteMultipartUpload', 'daysAfterInitiation')) === 1)) {
    fail('lifecycle', `bucket ${bucket} does not abort incomplete multipart uploads after 1 day`)
  }
  const floor = expect.retentionReachDays + BACKSTOP_MARGIN_DAYS
  for (const rule of rules) {
    const days = get(rule, 'expiration', 'days')
    if (days !== undefined && Number(days) < floor) {
      fail(
        'lifecycle',
        `bucket ${bucket} rule ${String(get(rule, 'id'))} expires current objects after ${String(days)} days, ` +
          `before the clean job's reach plus margin (${floor})`,
      )
    }
  }
}

function isTlsDeny(s: PolicyStatement, bucketArn: string): boolean {
  return (
    s.Effect === 'Deny' &&
    isEveryone(s.Principal) &&
    actionsOf(s).some((a) => matches(a, 's3:GetObject')) &&
    actionsOf(s).some((a) => matches(a, 's3:PutObject')) &&
    actionsOf(s).some((a) => matches(a, 's3:ListBucket')) &&
    coversResource(s, bucketArn) &&
    coversResource(s, `${bucketArn}/any-key`) &&
    falsy(s.Condition?.Bool?.['aws:SecureTransport']) &&
    Object.keys(s.Condition ?? {}).length === 1
  )
}

function isMfaDeny(
  s: PolicyStatement,
  bucketArn: string,
  samples: string[],
  pipelineArns: string[],
): boolean {
  if (s.Effect !== 'Deny' || !isEveryone(s.Principal)) return false
  const guarded = ['s3:GetObject', 's3:DeleteObject', 's3:DeleteObjectVersion']
  if (!guarded.every((action) => actionsOf(s).some((a) => matches(a, action)))) return false
  if (!samples.every((arn) => coversResource(s, arn)) || !coversResource(s, `${bucketArn}/any-key`))
    return false
  const condition = s.Condition ?? {}
  if (!falsy(condition.BoolIfExists?.['aws:MultiFactorAuthPresent'])) return false
  // Any other condition narrows the deny; only an exemption of exactly the pipeline roles is allowed.
  for (const [operator, keys] of Object.entries(condition)) {
    if (operator === 'BoolIfExists' && Object.keys(keys).length === 1) continue
    if ((operator === 'ArnNotLike' || operator === 'ArnNotEquals') && Object.keys(keys).length === 1) {
      const exempt = asArray(keys['aws:PrincipalArn'])
      if (exempt.length > 0 && exempt.every((arn) => pipelineArns.includes(arn) && !arn.includes('*')))
        continue
    }
    return false
  }
  return true
}

function trustProblem(trust: PolicyDocument | undefined, subjectPrefix: string): string | undefined {
  if (!trust) return 'no trust policy'
  for (const s of trust.Statement.filter((st) => st.Effect === 'Allow')) {
    if (!actionsOf(s).every((a) => a === 'sts:AssumeRoleWithWebIdentity')) {
      return `trust allows ${actionsOf(s).join(', ')}, not only sts:AssumeRoleWithWebIdentity`
    }
    const equals = s.Condition?.StringEquals ?? {}
    if (equals['token.actions.githubusercontent.com:aud'] !== 'sts.amazonaws.com') {
      return 'trust does not pin the audience to sts.amazonaws.com'
    }
    const subjects = asArray(equals['token.actions.githubusercontent.com:sub'])
    if (subjects.length === 0) return 'trust does not name the subjects (repository environments) it accepts'
    const loose = subjects.filter((sub) => !sub.startsWith(subjectPrefix) || /[*?]/.test(sub))
    if (loose.length > 0)
      return `trust accepts subjects outside this repository or with wildcards: ${loose.join(', ')}`
    if (s.Condition?.StringLike !== undefined) return 'trust adds StringLike conditions (wildcard subjects)'
  }
  return undefined
}

type Duty = 'writer' | 'cleaner' | 'reader'

function rolesByDuty(resources: readonly DeclaredResource[]): Partial<Record<Duty, DeclaredResource[]>> {
  const result: Partial<Record<Duty, DeclaredResource[]>> = {}
  for (const role of resources.filter((r) => r.type === ResourceType.role)) {
    const duty = tag(role, 'lifeboat:access')
    if (duty === 'writer' || duty === 'cleaner' || duty === 'reader')
      result[duty] = [...(result[duty] ?? []), role]
  }
  return result
}

/** Every policy that applies to a role: its inline RolePolicies. */
function roleDocuments(resources: readonly DeclaredResource[], role: DeclaredResource): PolicyDocument {
  const roleName = role.inputs.name ?? role.name
  const statements = resources
    .filter((r) => r.type === ResourceType.rolePolicy && r.inputs.role === roleName)
    .flatMap((r) => parseDocument(r.inputs.policy)?.Statement ?? [])
  return { Version: '2012-10-17', Statement: statements }
}

/** An Allow (conditions ignored: a condition may hold) that no unconditional Deny overrides. */
export function isAllowed(doc: PolicyDocument, action: string, resource: string): boolean {
  const applies = (s: PolicyStatement) =>
    actionsOf(s).some((a) => matches(a, action)) && coversResource(s, resource)
  if (doc.Statement.some((s) => s.Effect === 'Deny' && !s.Condition && applies(s))) return false
  return doc.Statement.some((s) => s.Effect === 'Allow' && applies(s))
}

export function isExplicitlyDenied(doc: PolicyDocument, action: string, resource: string): boolean {
  return doc.Statement.some(
    (s) =>
      s.Effect === 'Deny' &&
      !s.Condition &&
      actionsOf(s).some((a) => matches(a, action)) &&
      coversResource(s, resource),
  )
}

/** One object per kind of key Lifeboat writes, plus one outside its prefix. */
function sampleObjectArns(bucketArn: string, prefix: string): string[] {
  const p = prefix ? `${prefix}/` : ''
  return [
    `${bucketArn}/${p}${BACKUPS_PREFIX}backup-2026-01-01T020000Z.tar.gz`,
    `${bucketArn}/${p}${BACKUPS_PREFIX}backup-2026-01-01T020000Z.manifest.json`,
    `${bucketArn}/${p}audit/2026/01/01/020000-backup.json`,
    `${bucketArn}/${p}drills/drill-2026-01-15.json`,
    `${bucketArn}/${p}state/status.json`,
  ]
}

function coversResource(s: PolicyStatement, arn: string): boolean {
  if (s.NotResource !== undefined)
    return !asArray(s.NotResource).some((pattern) => matches(pattern, arn, true))
  return asArray(s.Resource).some((pattern) => matches(pattern, arn, true))
}

/** IAM wildcard matching: `*` any run, `?` one character; actions compare case-insensitively. */
export function matches(pattern: string, value: string, caseSensitive = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${source}$`, caseSensitive ? '' : 'i').test(value)
}

function actionsOf(s: PolicyStatement): string[] {
  return asArray(s.Action)
}

function isEveryone(principal: PolicyStatement['Principal']): boolean {
  if (principal === '*') return true
  return principal !== undefined && asArray(principal.AWS).includes('*')
}

function parseDocument(value: unknown): PolicyDocument | undefined {
  if (typeof value === 'string') {
    try {
      return normalise(JSON.parse(value))
    } catch {
      return undefined
    }
  }
  return value && typeof value === 'object' ? normalise(value) : undefined
}

function normalise(doc: unknown): PolicyDocument | undefined {
  if (!doc || typeof doc !== 'object') return undefined
  const statements = (doc as { Statement?: unknown }).Statement
  return { Version: '2012-10-17', Statement: asArray(statements as PolicyStatement | PolicyStatement[]) }
}

function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return []
  return Array.isArray(value) ? value : [value]
}

function list(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? (value as Record<string, unknown>[]) : []
}

function get(value: unknown, ...path: string[]): unknown {
  let current = value
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined
    current = (current as Record<string, unknown>)[key]
  }
  return current
}

function tag(resource: DeclaredResource, key: string): unknown {
  return get(resource.inputs, 'tags', key)
}

function truthy(value: unknown): boolean {
  return value === true || value === 'true'
}

function falsy(value: unknown): boolean {
  return value === false || value === 'false'
}
