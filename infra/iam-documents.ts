// IAM and bucket policy documents as pure functions of plain values (bucket ARN, prefix,
// role ARNs). Components wrap them in `pulumi.all`; tests and docs read them directly.
import { AUDIT_PREFIX, BACKUPS_PREFIX, DRILLS_PREFIX, STATUS_KEY } from '../lib/archive/layout.ts'
import { SIGNATURE_SUFFIX } from '../lib/trust/backup-signature.ts'
import { STORAGE_PREFIXES, storageSweepStatements, storageWriterStatements } from './storage-iam.ts'

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

function readStatement(sid: string, resource: string): PolicyStatement {
  return { Sid: sid, Effect: 'Allow', Action: ['s3:GetObject'], Resource: resource }
}

function kmsStatement(scope: BucketScope, actions: string[], sid = 'UseBucketKey'): PolicyStatement[] {
  return scope.kmsKeyArn ? [{ Sid: sid, Effect: 'Allow', Action: actions, Resource: scope.kmsKeyArn }] : []
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
 * Create-only under these prefixes: an object-creating write (PutObject, CopyObject,
 * CompleteMultipartUpload) must carry `If-None-Match: *`, so S3 refuses it (412) when the key
 * exists and nothing stored there can be replaced. CreateMultipartUpload and UploadPart carry
 * no conditional header; `s3:ObjectCreationOperation` is false for them, so they pass and the
 * completion decides (AWS, "Enforce conditional writes on Amazon S3 buckets").
 */
function createOnlyDeny(sid: string, scope: BucketScope, relatives: string[]): PolicyStatement {
  return {
    Sid: sid,
    Effect: 'Deny',
    Action: ['s3:PutObject'],
    Resource: relatives.map((relative) => objectArn(scope, relative)),
    Condition: {
      Null: { 's3:if-none-match': 'true' },
      Bool: { 's3:ObjectCreationOperation': 'true' },
    },
  }
}

/**
 * The backup writer: puts archives, sidecars, audit events and its status; lists the prefix;
 * reads earlier sidecars (table names, row counts, checksums — never rows) for the anomaly
 * check. It cannot read archives back (a leaked token cannot exfiltrate old backups), can
 * delete nothing and overwrite nothing under database-backups/ and audit/ (create-only puts):
 * the explicit Denies make that hold even if a broader policy is attached. Only its status
 * file may be replaced.
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
      readStatement('ReadSidecarsForAnomalyCheck', objectArn(scope, `${BACKUPS_PREFIX}*.manifest.json`)),
      // A create-only put whose answer was lost finds its key taken: the signature read back tells its own.
      readStatement(
        'ReadSidecarSignatures',
        objectArn(scope, `${BACKUPS_PREFIX}*.manifest.json${SIGNATURE_SUFFIX}`),
      ),
      statusStatement(scope),
      // Multipart uploads under SSE-KMS need Decrypt to complete; the role still has no GetObject on archives.
      ...kmsStatement(scope, ['kms:GenerateDataKey', 'kms:Encrypt', 'kms:Decrypt']),
      ...storageWriterStatements((relative) => objectArn(scope, relative)),
      createOnlyDeny('DenyOverwrites', scope, [`${BACKUPS_PREFIX}*`, `${AUDIT_PREFIX}*`]),
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
 * sidecars it decides by, aborts unfinished uploads there, writes audit events and its status. With versioning on, its deletes
 * leave noncurrent versions that lifecycle removes N days later; it can never purge a version.
 */
export function cleanerPolicy(scope: BucketScope): PolicyDocument {
  const backups = objectArn(scope, `${BACKUPS_PREFIX}*`)
  return {
    Version: '2012-10-17',
    Statement: [
      listStatement('ListBackups', scope, BACKUPS_PREFIX),
      readStatement('ReadSidecars', objectArn(scope, `${BACKUPS_PREFIX}*.manifest.json*`)), // and their .minisig
      { Sid: 'DeleteExpiredBackups', Effect: 'Allow', Action: ['s3:DeleteObject'], Resource: backups },
      // Stale multipart uploads of killed backups (billed until aborted); S3 offers no
      // prefix condition for listing uploads, and aborting is limited to database-backups/.
      {
        Sid: 'ListUnfinishedUploads',
        Effect: 'Allow',
        Action: ['s3:ListBucketMultipartUploads'],
        Resource: scope.bucketArn,
      },
      { Sid: 'AbortStaleUploads', Effect: 'Allow', Action: ['s3:AbortMultipartUpload'], Resource: backups },
      {
        Sid: 'WriteAudit',
        Effect: 'Allow',
        Action: ['s3:PutObject'],
        Resource: objectArn(scope, `${AUDIT_PREFIX}*`),
      },
      statusStatement(scope),
      ...kmsStatement(scope, ['kms:GenerateDataKey', 'kms:Decrypt']),
      createOnlyDeny('DenyAuditOverwrites', scope, [`${AUDIT_PREFIX}*`]),
      ...storageSweepStatements(
        (relative) => objectArn(scope, relative),
        (sid, relative) => listStatement(sid, scope, relative),
      ),
      {
        Sid: 'DenyDeletesOutsideBackups',
        Effect: 'Deny',
        Action: ['s3:DeleteObject'],
        NotResource: [backups, ...STORAGE_PREFIXES.map((p) => objectArn(scope, `${p}*`))],
      },
      tamperingDeny(scope),
    ],
  }
}

/**
 * The restore/drill reader: reads and lists everything under the prefix (verify, monitor,
 * drills, DR tests, reports). Drills and DR tests run under this role and must record their
 * reports and audit events, so it may create drills/* and audit/* (create-only) and replace
 * its status, nothing else.
 */
export function readerPolicy(scope: BucketScope, replica?: BucketScope): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      listStatement('ListLifeboatPrefix', scope, ''),
      readStatement('ReadLifeboatObjects', objectArn(scope, '*')),
      // The monitor compares the replica's listing with the primary's; a reader session may restore from it.
      ...(replica
        ? [
            listStatement('ListReplica', replica, ''),
            {
              Sid: 'ReadReplica',
              Effect: 'Allow' as const,
              Action: ['s3:GetObject'],
              Resource: objectArn(replica, '*'),
            },
            // The replica's objects are encrypted with its own key (another region's).
            ...kmsStatement(replica, ['kms:Decrypt'], 'DecryptReplica'),
          ]
        : []),
      {
        Sid: 'WriteDrillReportsAndAudit',
        Effect: 'Allow',
        Action: ['s3:PutObject'],
        Resource: [objectArn(scope, `${DRILLS_PREFIX}*`), objectArn(scope, `${AUDIT_PREFIX}*`)],
      },
      statusStatement(scope),
      ...kmsStatement(scope, ['kms:Decrypt', 'kms:GenerateDataKey']),
      createOnlyDeny('DenyReportOverwrites', scope, [`${DRILLS_PREFIX}*`, `${AUDIT_PREFIX}*`]),
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
 * (`ListBucketVersions`, `GetObjectVersion`, copy back with `PutObject`: the undo of a bad
 * clean, runbooks/undo-clean.md, needs nothing more), delete a backup (a delete marker).
 * Purging versions (`DeleteObjectVersion`) or bypassing Object Lock stays with break-glass admins.
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

/** The claims the repository's OIDC subject is built from (infra/github.ts sets the template). */
export const OIDC_SUBJECT_CLAIMS = ['repo', 'context', 'job_workflow_ref'] as const

/** `repo:<owner>/<repo>:environment:<name>`: GitHub's default subject for a job in an environment. */
export function environmentSubject(owner: string, repository: string, environment: string): string {
  return `repo:${owner}/${repository}:environment:${environment}`
}

/**
 * The subject of a job in `environment` running `workflowPath` from `branch`, under the
 * repository's customised template (OIDC_SUBJECT_CLAIMS):
 * `repo:o/r:environment:e:job_workflow_ref:o/r/.github/workflows/backup.yml@refs/heads/main`.
 * Each duty has its own environment and workflow file, so no two roles share a subject.
 */
export function workflowSubject(args: {
  owner: string
  repository: string
  environment: string
  workflowPath: string
  branch: string
}): string {
  const repo = `${args.owner}/${args.repository}`
  return `${environmentSubject(args.owner, args.repository, args.environment)}:job_workflow_ref:${repo}/${args.workflowPath}@refs/heads/${args.branch}`
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
