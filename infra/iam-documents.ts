// IAM and bucket policy documents as pure functions of plain values (bucket ARN, prefix,
// role ARNs). Components wrap them in `pulumi.all`; tests and docs read them directly.
import { AUDIT_PREFIX, BACKUPS_PREFIX, DRILLS_PREFIX, STATUS_KEY } from '../lib/archive/layout.ts'

export type Condition = Record<string, Record<string, string | string[]>>

export interface PolicyStatement {
  Sid: string
  Effect: 'Allow' | 'Deny'
  Principal?: '*' | Record<string, string | string[]>
  Action: string[]
  Resource?: string | string[]
  NotResource?: string | string[]
  Condition?: Condition
}

export interface PolicyDocument {
  Version: '2012-10-17'
  Statement: PolicyStatement[]
}

export interface BucketScope {
  bucketArn: string
  /** Key prefix without slashes at either end; '' for the bucket root. */
  prefix: string
  kmsKeyArn?: string
}

export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com'
export const GITHUB_OIDC_AUDIENCE = 'sts.amazonaws.com'

/** Object-level actions a human may only take with MFA; the pipeline roles are exempt. */
export const MFA_GUARDED_ACTIONS = [
  's3:GetObject',
  's3:GetObjectVersion',
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:BypassGovernanceRetention',
]

/** Nothing a pipeline role does needs these; an explicit Deny survives a broad policy attached later. */
const BUCKET_TAMPERING_ACTIONS = [
  's3:DeleteObjectVersion',
  's3:BypassGovernanceRetention',
  's3:PutObjectRetention',
  's3:PutObjectLegalHold',
  's3:PutLifecycleConfiguration',
  's3:PutBucketVersioning',
  's3:PutBucketObjectLockConfiguration',
  's3:PutBucketPolicy',
  's3:DeleteBucketPolicy',
  's3:PutEncryptionConfiguration',
  's3:PutBucketPublicAccessBlock',
  's3:PutBucketOwnershipControls',
  's3:DeleteBucket',
]

/** `arn:aws:s3:::bucket/<prefix>/<relative>`. */
export function objectArn(scope: BucketScope, relative: string): string {
  return `${scope.bucketArn}/${scope.prefix ? `${scope.prefix}/` : ''}${relative}`
}

/** The key prefix as ListObjectsV2 receives it. */
export function keyPrefix(scope: BucketScope, relative: string): string {
  return `${scope.prefix ? `${scope.prefix}/` : ''}${relative}`
}

function listStatement(sid: string, scope: BucketScope, relative: string): PolicyStatement {
  const statement: PolicyStatement = {
    Sid: sid,
    Effect: 'Allow',
    Action: ['s3:ListBucket'],
    Resource: scope.bucketArn,
  }
  const prefix = keyPrefix(scope, relative)
  if (prefix) statement.Condition = { StringLike: { 's3:prefix': [`${prefix}*`] } }
  return statement
}

function kmsStatement(scope: BucketScope, actions: string[]): PolicyStatement[] {
  return scope.kmsKeyArn
    ? [{ Sid: 'UseBucketKey', Effect: 'Allow', Action: actions, Resource: scope.kmsKeyArn }]
    : []
}

/** Every job records its consecutive failures in state/status.json (lib/adapters/notify/failure-history.ts). */
function statusStatement(scope: BucketScope): PolicyStatement {
  return {
    Sid: 'ReadWriteJobStatus',
    Effect: 'Allow',
    Action: ['s3:GetObject', 's3:PutObject'],
    Resource: objectArn(scope, STATUS_KEY),
  }
}

function tamperingDeny(scope: BucketScope): PolicyStatement {
  return {
    Sid: 'DenyBucketTampering',
    Effect: 'Deny',
    Action: BUCKET_TAMPERING_ACTIONS,
    Resource: [scope.bucketArn, `${scope.bucketArn}/*`],
  }
}

/**
 * The backup writer: puts archives, sidecars, audit events and its status; lists the prefix;
 * reads earlier sidecars (table names, row counts, checksums — never rows) for the anomaly
 * check. It cannot read archives back (a leaked token cannot exfiltrate old backups) and can
 * delete nothing: the explicit Deny makes that hold even if a broader policy is attached.
 */
export function writerPolicy(scope: BucketScope): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      listStatement('ListLifeboatPrefix', scope, ''),
      {
        Sid: 'WriteBackupsAndAudit',
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
        Resource: [objectArn(scope, `${BACKUPS_PREFIX}*`), objectArn(scope, `${AUDIT_PREFIX}*`)],
      },
      {
        Sid: 'ReadSidecarsForAnomalyCheck',
        Effect: 'Allow',
        Action: ['s3:GetObject'],
        Resource: objectArn(scope, `${BACKUPS_PREFIX}*.manifest.json`),
      },
      statusStatement(scope),
      // Multipart uploads under SSE-KMS need Decrypt to complete; the role still has no GetObject on archives.
      ...kmsStatement(scope, ['kms:GenerateDataKey', 'kms:Encrypt', 'kms:Decrypt']),
      {
        Sid: 'DenyAllDeletes',
        Effect: 'Deny',
        Action: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:DeleteObjectTagging', 's3:DeleteBucket'],
        Resource: [scope.bucketArn, `${scope.bucketArn}/*`],
      },
      tamperingDeny(scope),
    ],
  }
}

/**
 * The retention cleaner: lists and deletes under database-backups/ only, reads the manifest
 * sidecars it decides by, writes audit events and its status. With versioning on, its deletes
 * leave noncurrent versions that lifecycle removes N days later; it can never purge a version.
 */
export function cleanerPolicy(scope: BucketScope): PolicyDocument {
  const backups = objectArn(scope, `${BACKUPS_PREFIX}*`)
  return {
    Version: '2012-10-17',
    Statement: [
      listStatement('ListBackups', scope, BACKUPS_PREFIX),
      {
        Sid: 'ReadSidecars',
        Effect: 'Allow',
        Action: ['s3:GetObject'],
        Resource: objectArn(scope, `${BACKUPS_PREFIX}*.manifest.json`),
      },
      { Sid: 'DeleteExpiredBackups', Effect: 'Allow', Action: ['s3:DeleteObject'], Resource: backups },
      {
        Sid: 'WriteAudit',
        Effect: 'Allow',
        Action: ['s3:PutObject'],
        Resource: objectArn(scope, `${AUDIT_PREFIX}*`),
      },
      statusStatement(scope),
      ...kmsStatement(scope, ['kms:GenerateDataKey', 'kms:Decrypt']),
      { Sid: 'DenyDeletesOutsideBackups', Effect: 'Deny', Action: ['s3:DeleteObject'], NotResource: backups },
      tamperingDeny(scope),
    ],
  }
}

/**
 * The restore/drill reader: reads and lists everything under the prefix (verify, monitor,
 * drills, DR tests, reports). Drills and DR tests run under this role and must record their
 * reports and audit events, so it may put drills/* and audit/* (and its status), nothing else.
 */
export function readerPolicy(scope: BucketScope): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      listStatement('ListLifeboatPrefix', scope, ''),
      {
        Sid: 'ReadLifeboatObjects',
        Effect: 'Allow',
        Action: ['s3:GetObject'],
        Resource: objectArn(scope, '*'),
      },
      {
        Sid: 'WriteDrillReportsAndAudit',
        Effect: 'Allow',
        Action: ['s3:PutObject'],
        Resource: [objectArn(scope, `${DRILLS_PREFIX}*`), objectArn(scope, `${AUDIT_PREFIX}*`)],
      },
      statusStatement(scope),
      ...kmsStatement(scope, ['kms:Decrypt', 'kms:GenerateDataKey']),
      {
        Sid: 'DenyAllDeletes',
        Effect: 'Deny',
        Action: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:DeleteObjectTagging', 's3:DeleteBucket'],
        Resource: [scope.bucketArn, `${scope.bucketArn}/*`],
      },
      tamperingDeny(scope),
    ],
  }
}

const MFA_PRESENT: Condition = { Bool: { 'aws:MultiFactorAuthPresent': 'true' } }

/**
 * What a person on call may do, and only with MFA: list, read and restore old versions
 * (`ListBucketVersions`, `GetObjectVersion`, copy back with `PutObject`), delete a backup
 * (a delete marker). Purging versions or bypassing Object Lock stays with break-glass admins.
 */
export function operatorPolicy(scope: BucketScope): PolicyDocument {
  const objects = objectArn(scope, '*')
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ListWithMfa',
        Effect: 'Allow',
        Action: ['s3:ListBucket', 's3:ListBucketVersions', 's3:GetBucketLocation', 's3:GetBucketVersioning'],
        Resource: scope.bucketArn,
        Condition: MFA_PRESENT,
      },
      {
        Sid: 'ReadRestoreDeleteWithMfa',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:DeleteObject'],
        Resource: objects,
        Condition: MFA_PRESENT,
      },
      ...(scope.kmsKeyArn
        ? [
            {
              Sid: 'UseBucketKeyWithMfa',
              Effect: 'Allow' as const,
              Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
              Resource: scope.kmsKeyArn,
              Condition: MFA_PRESENT,
            },
          ]
        : []),
      {
        Sid: 'DenyWithoutMfa',
        Effect: 'Deny',
        Action: ['s3:*'],
        Resource: [scope.bucketArn, `${scope.bucketArn}/*`],
        Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } },
      },
    ],
  }
}

/**
 * The bucket policy: no request without TLS, from anyone; and no object read or delete by a
 * principal without MFA, except the pipeline roles (web-identity sessions carry no MFA claim).
 */
export function bucketPolicy(bucketArn: string, pipelineRoleArns: string[]): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: ['s3:*'],
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
      {
        Sid: 'DenyObjectReadDeleteWithoutMfa',
        Effect: 'Deny',
        Principal: '*',
        Action: MFA_GUARDED_ACTIONS,
        Resource: `${bucketArn}/*`,
        Condition: {
          BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' },
          // ArnNotLike with several values: the deny applies when the caller is none of them.
          ArnNotLike: { 'aws:PrincipalArn': pipelineRoleArns },
        },
      },
    ],
  }
}

/** `repo:<owner>/<repo>:environment:<name>`: the subject GitHub puts in a job's OIDC token. */
export function environmentSubject(owner: string, repository: string, environment: string): string {
  return `repo:${owner}/${repository}:environment:${environment}`
}

/** Trust for GitHub's OIDC tokens from the named subjects only, for STS. */
export function githubTrustPolicy(providerArn: string, subjects: string[]): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'GitHubActionsFromNamedEnvironments',
        Effect: 'Allow',
        Principal: { Federated: providerArn },
        Action: ['sts:AssumeRoleWithWebIdentity'],
        Condition: {
          StringEquals: {
            [`${GITHUB_OIDC_HOST}:aud`]: GITHUB_OIDC_AUDIENCE,
            [`${GITHUB_OIDC_HOST}:sub`]: subjects,
          },
        },
      },
    ],
  }
}
