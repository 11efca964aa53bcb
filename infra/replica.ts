// The second copy: a bucket in another region (and, optionally, another account) with its own
// versioning, encryption, Object Lock and lifecycle, and the replication rule and role that
// copy every new object of the primary's prefix to it. Delete markers are not replicated, so
// a clean (or an attacker with the cleaner role) cannot hide a backup in the replica too.
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'
import { BACKUPS_PREFIX } from '../lib/archive/layout.ts'
import { BackupBucket, GUARD } from './bucket.ts'
import type { PolicyDocument } from './iam-documents.ts'
import type { ReplicaSettings } from './settings.ts'

export interface ReplicaArgs {
  namePrefix: string
  settings: ReplicaSettings
  /** The primary bucket and its versioning (replication needs it enabled first). */
  source: { bucket: aws.s3.Bucket; versioning: aws.s3.BucketVersioning; prefix: string; kmsKeyArn?: string }
  noncurrentVersionDays: number
  tags: Record<string, string>
}

export class ReplicaBucket extends pulumi.ComponentResource {
  readonly storage: BackupBucket
  readonly role: aws.iam.Role
  readonly replication: aws.s3.BucketReplicationConfig

  constructor(name: string, args: ReplicaArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:storage:ReplicaBucket', name, {}, opts)
    const { settings } = args
    const provider = new aws.Provider(
      `${name}-provider`,
      {
        region: settings.region as aws.Region,
        ...(settings.deployRoleArn ? { assumeRoles: [{ roleArn: settings.deployRoleArn }] } : {}),
      },
      { parent: this },
    )
    this.storage = new BackupBucket(
      name,
      {
        bucketName: settings.bucketName,
        prefix: args.source.prefix,
        noncurrentVersionDays: args.noncurrentVersionDays,
        backstopExpirationDays: 0,
        objectLock: settings.objectLock,
        ...(settings.kmsKeyArn ? { kmsKeyArn: settings.kmsKeyArn } : {}),
        tags: args.tags,
        lifecycleRules: replicaLifecycleRules(args.source.prefix, settings, args.noncurrentVersionDays),
      },
      { parent: this, providers: [provider] },
    )

    this.role = this.#replicationRole(name, args)
    this.replication = new aws.s3.BucketReplicationConfig(
      `${name}-rule`,
      {
        bucket: args.source.bucket.id,
        role: this.role.arn,
        rules: [replicationRule(args, this.storage.bucket.arn)],
      },
      { parent: this, ...GUARD, dependsOn: [args.source.versioning, this.storage.versioning] },
    )
    this.registerOutputs({ replicaBucket: this.storage.bucket.bucket, replicationRole: this.role.arn })
  }

  /** The role S3 assumes to copy the primary's new objects into the replica. */
  #replicationRole(name: string, args: ReplicaArgs): aws.iam.Role {
    const { settings } = args
    const role = new aws.iam.Role(
      `${name}-replication`,
      {
        name: `${args.namePrefix}-replication`,
        description: 'Lifeboat replication: S3 copies new backups to the replica bucket',
        assumeRolePolicy: JSON.stringify(s3ServiceTrust()),
        tags: { ...args.tags, 'lifeboat:access': 'replication' },
      },
      { parent: this },
    )
    new aws.iam.RolePolicy(
      `${name}-replication-policy`,
      {
        role: role.name,
        policy: pulumi.all([args.source.bucket.arn, this.storage.bucket.arn]).apply(([source, replica]) =>
          JSON.stringify(
            replicationPolicy({
              sourceArn: source,
              replicaArn: replica,
              prefix: args.source.prefix,
              ...(args.source.kmsKeyArn ? { sourceKmsKeyArn: args.source.kmsKeyArn } : {}),
              ...(settings.kmsKeyArn ? { replicaKmsKeyArn: settings.kmsKeyArn } : {}),
            }),
          ),
        ),
      },
      { parent: this },
    )
    return role
  }
}

/** Copies every new object under the primary's prefix; deletes stay on the primary. */
function replicationRule(args: ReplicaArgs, replicaArn: pulumi.Input<string>) {
  const { settings } = args
  const filterPrefix = args.source.prefix ? `${args.source.prefix}/` : ''
  return {
    id: 'lifeboat-second-copy',
    status: 'Enabled',
    priority: 1,
    filter: { prefix: filterPrefix },
    // A delete on the primary (a clean, or a stolen cleaner role) stays there.
    deleteMarkerReplication: { status: 'Disabled' },
    ...(args.source.kmsKeyArn
      ? { sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' } } }
      : {}),
    destination: {
      bucket: replicaArn,
      storageClass: 'STANDARD_IA',
      ...(settings.accountId
        ? { account: settings.accountId, accessControlTranslation: { owner: 'Destination' } }
        : {}),
      ...(settings.kmsKeyArn ? { encryptionConfiguration: { replicaKmsKeyId: settings.kmsKeyArn } } : {}),
    },
  }
}

/**
 * Noncurrent versions go after N days as on the primary; current backups after
 * `expirationDays` (the clean job never runs on the replica, and deletes are not replicated).
 */
export function replicaLifecycleRules(
  prefix: string,
  settings: Pick<ReplicaSettings, 'expirationDays'>,
  noncurrentVersionDays: number,
): aws.types.input.s3.BucketLifecycleConfigurationRule[] {
  return [
    {
      id: 'expire-noncurrent-versions',
      status: 'Enabled',
      filter: {},
      noncurrentVersionExpiration: { noncurrentDays: noncurrentVersionDays },
      expiration: { expiredObjectDeleteMarker: true },
    },
    {
      id: 'abort-incomplete-multipart-uploads',
      status: 'Enabled',
      filter: {},
      abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
    },
    {
      id: 'expire-replicated-backups',
      status: 'Enabled',
      filter: { prefix: prefix ? `${prefix}/${BACKUPS_PREFIX}` : BACKUPS_PREFIX },
      expiration: { days: settings.expirationDays },
    },
  ]
}

function s3ServiceTrust(): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'S3Replication',
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: ['sts:AssumeRole'],
      },
    ],
  }
}

/** What S3 replication needs: read versions of the source prefix, replicate them into the replica. */
export function replicationPolicy(args: {
  sourceArn: string
  replicaArn: string
  prefix: string
  sourceKmsKeyArn?: string
  replicaKmsKeyArn?: string
}): PolicyDocument {
  const p = args.prefix ? `${args.prefix}/` : ''
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ReadReplicationConfiguration',
        Effect: 'Allow',
        Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
        Resource: args.sourceArn,
      },
      {
        Sid: 'ReadSourceVersions',
        Effect: 'Allow',
        Action: [
          's3:GetObjectVersionForReplication',
          's3:GetObjectVersionAcl',
          's3:GetObjectVersionTagging',
          's3:GetObjectRetention',
          's3:GetObjectLegalHold',
        ],
        Resource: `${args.sourceArn}/${p}*`,
      },
      {
        Sid: 'WriteReplicas',
        Effect: 'Allow',
        Action: ['s3:ReplicateObject', 's3:ReplicateTags', 's3:ObjectOwnerOverrideToBucketOwner'],
        Resource: `${args.replicaArn}/${p}*`,
      },
      ...(args.sourceKmsKeyArn
        ? [
            {
              Sid: 'DecryptSource',
              Effect: 'Allow' as const,
              Action: ['kms:Decrypt'],
              Resource: args.sourceKmsKeyArn,
            },
          ]
        : []),
      ...(args.replicaKmsKeyArn
        ? [
            {
              Sid: 'EncryptReplica',
              Effect: 'Allow' as const,
              Action: ['kms:Encrypt', 'kms:GenerateDataKey'],
              Resource: args.replicaKmsKeyArn,
            },
          ]
        : []),
      {
        Sid: 'NeverDeleteReplicas',
        Effect: 'Deny',
        Action: ['s3:ReplicateDelete', 's3:DeleteObject', 's3:DeleteObjectVersion'],
        Resource: [`${args.replicaArn}/*`, `${args.sourceArn}/*`],
      },
    ],
  }
}

/**
 * The replica's bucket policy: TLS only; the replication role may write replicas (another
 * account needs the grant here); the reader may list and read (monitor, a restore by hand); nobody may
 * read or delete without MFA except those two.
 */
export function replicaBucketPolicy(
  bucketArn: string,
  [replicationRoleArn, readerRoleArn]: string[],
): PolicyDocument {
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
        Sid: 'ReplicationWrites',
        Effect: 'Allow',
        Principal: { AWS: replicationRoleArn! },
        Action: ['s3:ReplicateObject', 's3:ReplicateTags', 's3:ObjectOwnerOverrideToBucketOwner'],
        Resource: `${bucketArn}/*`,
      },
      {
        Sid: 'ReaderLists',
        Effect: 'Allow',
        Principal: { AWS: readerRoleArn! },
        Action: ['s3:ListBucket'],
        Resource: bucketArn,
      },
      {
        Sid: 'ReaderReads',
        Effect: 'Allow',
        Principal: { AWS: readerRoleArn! },
        Action: ['s3:GetObject'],
        Resource: `${bucketArn}/*`,
      },
      {
        Sid: 'DenyObjectReadDeleteWithoutMfa',
        Effect: 'Deny',
        Principal: '*',
        Action: [
          's3:GetObject',
          's3:GetObjectVersion',
          's3:DeleteObject',
          's3:DeleteObjectVersion',
          's3:BypassGovernanceRetention',
        ],
        Resource: `${bucketArn}/*`,
        Condition: {
          BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' },
          ArnNotLike: { 'aws:PrincipalArn': [replicationRoleArn!, readerRoleArn!] },
        },
      },
    ],
  }
}
