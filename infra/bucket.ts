// The backup bucket: versioned, encrypted, private, owner-enforced, with lifecycle rules,
// optional Object Lock, and a policy that denies plain HTTP and MFA-less human access.
// Every guard resource is protected and retained on delete, so no destroy (not even
// `--exclude-protected`) suspends versioning or drops a deny. Also used for the replica.
// Lifecycle and retention interplay: docs/infrastructure.md "Retention, versioning and lifecycle".
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'
import { BACKUPS_PREFIX } from '../lib/archive/layout.ts'
import { bucketPolicy } from './iam-documents.ts'
import type { ObjectLockMode } from './settings.ts'

export interface BackupBucketArgs {
  bucketName: string
  prefix: string
  /** Noncurrent versions (what a delete or overwrite leaves behind) are removed after this many days. */
  noncurrentVersionDays: number
  /** Lifecycle expiry of current backups, a late backstop only; 0 = none. */
  backstopExpirationDays: number
  objectLock: { mode: ObjectLockMode; days: number }
  kmsKeyArn?: string
  tags: Record<string, string>
  /** Replaces the lifecycle rules (the replica's expire current backups, since deletes are not replicated). */
  lifecycleRules?: aws.types.input.s3.BucketLifecycleConfigurationRule[]
}

/** A guard resource: `pulumi destroy` refuses it, and a forced delete leaves it in AWS. */
export const GUARD = { protect: true, retainOnDelete: true } as const

export class BackupBucket extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket
  readonly versioning: aws.s3.BucketVersioning
  readonly publicAccessBlock: aws.s3.BucketPublicAccessBlock
  policy?: aws.s3.BucketPolicy
  readonly #name: string

  constructor(name: string, args: BackupBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:storage:BackupBucket', name, {}, opts)
    this.#name = name
    const parent = { parent: this }

    // protect: a `pulumi destroy` or an accidental replacement must never take the backups with it.
    this.bucket = new aws.s3.Bucket(
      name,
      { bucket: args.bucketName, forceDestroy: false, tags: args.tags },
      { ...parent, ...GUARD },
    )
    const guard = { ...parent, ...GUARD }
    const bucket = this.bucket.id

    this.versioning = new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket, versioningConfiguration: { status: 'Enabled' } },
      guard,
    )

    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket,
        rules: [
          args.kmsKeyArn
            ? {
                applyServerSideEncryptionByDefault: {
                  sseAlgorithm: 'aws:kms',
                  kmsMasterKeyId: args.kmsKeyArn,
                },
                // S3 Bucket Keys cut KMS requests (and cost) by orders of magnitude for large archives.
                bucketKeyEnabled: true,
              }
            : { applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } },
        ],
      },
      guard,
    )

    this.publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      {
        bucket,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      guard,
    )

    new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket, rule: { objectOwnership: 'BucketOwnerEnforced' } },
      guard,
    )

    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      { bucket, rules: args.lifecycleRules ?? lifecycleRules(args) },
      { ...guard, dependsOn: [this.versioning] },
    )

    if (args.objectLock.mode !== 'off') {
      // Enables Object Lock on a new or existing versioned bucket. It cannot be turned off again.
      new aws.s3.BucketObjectLockConfiguration(
        `${name}-object-lock`,
        {
          bucket,
          objectLockEnabled: 'Enabled',
          rule: {
            defaultRetention: { mode: args.objectLock.mode.toUpperCase(), days: args.objectLock.days },
          },
        },
        { ...guard, dependsOn: [this.versioning] },
      )
    }

    this.registerOutputs({ bucketName: this.bucket.bucket, bucketArn: this.bucket.arn })
  }

  /** Attaches the bucket policy once the pipeline roles exist (they are exempt from the MFA deny). */
  attachPolicy(
    pipelineRoleArns: pulumi.Input<string>[],
    document: (bucketArn: string, roles: string[]) => object = bucketPolicy,
  ): aws.s3.BucketPolicy {
    this.policy = new aws.s3.BucketPolicy(
      `${this.#name}-policy`,
      {
        bucket: this.bucket.id,
        policy: pulumi
          .all([this.bucket.arn, pulumi.all(pipelineRoleArns)])
          .apply(([arn, roles]) => JSON.stringify(document(arn, roles))),
      },
      { parent: this, ...GUARD, dependsOn: [this.publicAccessBlock] },
    )
    return this.policy
  }
}

/**
 * Noncurrent versions expire after N days (the undo window after a clean or an overwrite),
 * unfinished multipart uploads after a day, expired delete markers are tidied, and current
 * backups expire only as a backstop set well past the clean job's window (settings.ts checks it).
 */
export function lifecycleRules(
  args: Pick<BackupBucketArgs, 'prefix' | 'noncurrentVersionDays' | 'backstopExpirationDays'>,
) {
  const rules: aws.types.input.s3.BucketLifecycleConfigurationRule[] = [
    {
      id: 'expire-noncurrent-versions',
      status: 'Enabled',
      filter: {},
      noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionDays },
      expiration: { expiredObjectDeleteMarker: true },
    },
    {
      id: 'abort-incomplete-multipart-uploads',
      status: 'Enabled',
      filter: {},
      abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
    },
  ]
  if (args.backstopExpirationDays > 0) {
    rules.push({
      id: 'backstop-expire-current-backups',
      status: 'Enabled',
      filter: { prefix: args.prefix ? `${args.prefix}/${BACKUPS_PREFIX}` : BACKUPS_PREFIX },
      expiration: { days: args.backstopExpirationDays },
    })
  }
  return rules
}
