// Composes the infrastructure stack: bucket → pipeline access (roles need the bucket ARN) →
// bucket policy (exempts the roles) → replica (optional) → trail and alarm → GitHub wiring
// (variables carry the outputs, the access review among them). Tests build it under mocks.
import * as pulumi from '@pulumi/pulumi'
import {
  GitHubVariable,
  type GitHubVariableName,
  StackOutput,
  type StackOutputName,
} from '../lib/core/stack-outputs.ts'
import type { AccessPrincipal, AccessReview } from '../lib/drills/access-review-report.ts'
import { grantsOf } from '../lib/drills/access-review-report.ts'
import { DOCUMENTS, PipelineAccess, type PipelineRole, roleSubjects } from './access.ts'
import { BackupBucket } from './bucket.ts'
import type { LifeboatConfig } from './config.ts'
import { GitHubWiring, type WorkflowFile } from './github.ts'
import { operatorPolicy } from './iam-documents.ts'
import { BucketMonitoring } from './monitoring.ts'
import { ReplicaBucket, replicaBucketPolicy, replicationPolicy } from './replica.ts'
import { type LifeboatSettings, neededSecrets, type ReplicaSettings } from './settings.ts'

export interface LifeboatArgs {
  config: LifeboatConfig
  workflowFiles: WorkflowFile[]
}

export type LifeboatOutputs = Record<StackOutputName, pulumi.Output<string | string[]>>

/** IAM names are at most 64 characters; the longest suffix is `-replication`. */
const MAX_NAME_PREFIX = 64 - '-replication'.length

interface Names {
  namePrefix: string
  tags: Record<string, string>
}

interface Stores {
  backupStore: pulumi.Output<string>
  replicaStore: pulumi.Output<string>
}

function kmsOf(settings: LifeboatSettings): { kmsKeyArn?: string } {
  return settings.kmsKeyArn ? { kmsKeyArn: settings.kmsKeyArn } : {}
}

export class Lifeboat extends pulumi.ComponentResource {
  readonly storage: BackupBucket
  readonly access: PipelineAccess
  readonly replica?: ReplicaBucket
  readonly monitoring: BucketMonitoring
  readonly github: GitHubWiring
  readonly outputs: LifeboatOutputs

  constructor(name: string, args: LifeboatArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:index:Lifeboat', name, {}, opts)
    const { settings, stack } = args.config
    const names = {
      namePrefix: `lifeboat-${stack}`.slice(0, MAX_NAME_PREFIX),
      tags: { 'lifeboat:stack': stack, 'managed-by': 'pulumi' },
    }
    this.storage = this.#backupBucket(settings, names.tags)
    if (settings.replica) this.replica = this.#replicaBucket(settings, settings.replica, names)
    this.access = this.#pipelineAccess(settings, names)
    const roles = this.access.roles
    this.storage.attachPolicy([roles.writer.arn, roles.cleaner.arn, roles.reader.arn])
    this.replica?.storage.attachPolicy([this.replica.role.arn, roles.reader.arn], replicaBucketPolicy)
    this.monitoring = new BucketMonitoring(
      'monitoring',
      {
        namePrefix: names.namePrefix,
        logBucketName: `${settings.bucketName.slice(0, 63 - '-trail'.length)}-trail`,
        bucket: this.storage.bucket,
        settings: settings.monitoring,
        tags: { ...names.tags, 'lifeboat:bucket': 'trail' },
      },
      { parent: this },
    )

    const stores = this.#stores(settings)
    const accessReview = this.#accessReview(args.config)
    this.github = new GitHubWiring(
      'github',
      {
        github: settings.github,
        environments: settings.environments,
        variables: this.#variables(settings, stores, accessReview),
        workflowFiles: args.workflowFiles,
      },
      { parent: this },
    )
    this.outputs = this.#outputs(settings, stores, accessReview, args.workflowFiles)
    this.registerOutputs(this.outputs)
  }

  #backupBucket(settings: LifeboatSettings, tags: Record<string, string>): BackupBucket {
    return new BackupBucket(
      'backups',
      {
        bucketName: settings.bucketName,
        prefix: settings.prefix,
        noncurrentVersionDays: settings.noncurrentVersionDays,
        backstopExpirationDays: settings.backstopExpirationDays,
        objectLock: settings.objectLock,
        ...kmsOf(settings),
        tags: { ...tags, 'lifeboat:bucket': 'backups' },
      },
      { parent: this },
    )
  }

  #replicaBucket(settings: LifeboatSettings, replica: ReplicaSettings, names: Names): ReplicaBucket {
    return new ReplicaBucket(
      'replica',
      {
        namePrefix: names.namePrefix,
        settings: replica,
        source: {
          bucket: this.storage.bucket,
          versioning: this.storage.versioning,
          prefix: settings.prefix,
          ...kmsOf(settings),
        },
        noncurrentVersionDays: settings.noncurrentVersionDays,
        tags: { ...names.tags, 'lifeboat:bucket': 'replica' },
      },
      { parent: this },
    )
  }

  #pipelineAccess(settings: LifeboatSettings, names: Names): PipelineAccess {
    return new PipelineAccess(
      'access',
      {
        namePrefix: names.namePrefix,
        bucketArn: this.storage.bucket.arn,
        prefix: settings.prefix,
        ...kmsOf(settings),
        github: settings.github,
        ...(settings.existingOidcProviderArn
          ? { existingOidcProviderArn: settings.existingOidcProviderArn }
          : {}),
        ...(this.replica ? { replicaBucketArn: this.replica.storage.bucket.arn } : {}),
        ...(settings.replica?.kmsKeyArn ? { replicaKmsKeyArn: settings.replica.kmsKeyArn } : {}),
        tags: names.tags,
      },
      { parent: this },
    )
  }

  /** The `s3://` locations the jobs are given: the bucket and the replica ('' without one). */
  #stores(settings: LifeboatSettings): Stores {
    // Replication keeps the keys: the replica holds the backups under the primary's prefix.
    const prefix = settings.prefix ? `/${settings.prefix}` : ''
    const backupStore = pulumi.interpolate`s3://${this.storage.bucket.bucket}${prefix}`
    const replicaStore = this.replica
      ? pulumi.interpolate`s3://${this.replica.storage.bucket.bucket}${prefix}`
      : pulumi.output('')
    return { backupStore, replicaStore }
  }

  /** The repository variables the workflows read (names in lib/core/stack-outputs.ts). */
  #variables(
    settings: LifeboatSettings,
    stores: Stores,
    accessReview: pulumi.Output<string>,
  ): Partial<Record<GitHubVariableName, pulumi.Input<string>>> {
    const roles = this.access.roles
    const variables: Partial<Record<GitHubVariableName, pulumi.Input<string>>> = {
      [GitHubVariable.region]: settings.region,
      [GitHubVariable.bucket]: this.storage.bucket.bucket,
      [GitHubVariable.backupStore]: stores.backupStore,
      [GitHubVariable.retentionDays]: String(settings.retention.days),
      [GitHubVariable.retentionMinKeep]: String(settings.retention.minKeep),
      [GitHubVariable.retentionDaily]: String(settings.retention.daily),
      [GitHubVariable.retentionWeekly]: String(settings.retention.weekly),
      [GitHubVariable.retentionMonthly]: String(settings.retention.monthly),
      [GitHubVariable.writerRoleArn]: roles.writer.arn,
      [GitHubVariable.cleanerRoleArn]: roles.cleaner.arn,
      [GitHubVariable.readerRoleArn]: roles.reader.arn,
      [GitHubVariable.accessReview]: accessReview,
      [GitHubVariable.signingPublicKeys]: settings.signingPublicKeys,
    }
    if (settings.alerts.oncallEmail) variables[GitHubVariable.oncallEmail] = settings.alerts.oncallEmail
    if (settings.alerts.pagerDutyEventsUrl) {
      variables[GitHubVariable.pagerDutyEventsUrl] = settings.alerts.pagerDutyEventsUrl
    }
    if (settings.replica) {
      variables[GitHubVariable.replicaStore] = stores.replicaStore
      variables[GitHubVariable.replicaRegion] = settings.replica.region
      variables[GitHubVariable.replicaLagHours] = String(settings.replica.lagHours)
    }
    // Endpoints only: the access keys are the secrets stack's, in the jobs' environments.
    const { source, staging } = settings.storage
    if (source) {
      variables[GitHubVariable.storageS3Url] = source.url
      variables[GitHubVariable.storageS3Region] = source.region
    }
    if (staging) {
      variables[GitHubVariable.stagingStorageS3Url] = staging.url
      variables[GitHubVariable.stagingStorageS3Region] = staging.region
    }
    return variables
  }

  #outputs(
    settings: LifeboatSettings,
    stores: Stores,
    accessReview: pulumi.Output<string>,
    workflowFiles: WorkflowFile[],
  ): LifeboatOutputs {
    const roles = this.access.roles
    return {
      [StackOutput.bucketName]: this.storage.bucket.bucket,
      [StackOutput.region]: pulumi.output(settings.region),
      [StackOutput.backupStore]: stores.backupStore,
      [StackOutput.writerRoleArn]: roles.writer.arn,
      [StackOutput.cleanerRoleArn]: roles.cleaner.arn,
      [StackOutput.readerRoleArn]: roles.reader.arn,
      [StackOutput.operatorPolicyArn]: this.access.operatorPolicy.arn,
      [StackOutput.oidcProviderArn]: this.access.oidcProviderArn,
      [StackOutput.workflowFiles]: pulumi.output(
        this.github.files.length > 0 ? workflowFiles.map((f) => f.path) : [],
      ),
      [StackOutput.replicaStore]: stores.replicaStore,
      [StackOutput.replicaRegion]: pulumi.output(settings.replica?.region ?? ''),
      [StackOutput.accessReview]: accessReview,
      [StackOutput.githubSecrets]: pulumi.output(neededSecrets(settings).map((s) => s.key)),
    }
  }

  /** Every principal that can reach the bucket, from the documents the stack deploys. */
  #accessReview(config: LifeboatConfig): pulumi.Output<string> {
    const { settings, stack } = config
    const roles = this.access.roles
    const kms = settings.kmsKeyArn ? { kmsKeyArn: settings.kmsKeyArn } : {}
    return pulumi
      .all([
        this.storage.bucket.arn,
        roles.writer.arn,
        roles.cleaner.arn,
        roles.reader.arn,
        this.access.operatorPolicy.arn,
        this.replica?.storage.bucket.arn ?? '',
        this.replica?.role.arn ?? '',
      ])
      .apply(([bucketArn, writer, cleaner, reader, operator, replicaArn, replicationRole]) => {
        const scope = { bucketArn, prefix: settings.prefix, ...kms }
        const replicaKms = settings.replica?.kmsKeyArn ? { kmsKeyArn: settings.replica.kmsKeyArn } : {}
        const replica = replicaArn
          ? { bucketArn: replicaArn, prefix: settings.prefix, ...replicaKms }
          : undefined
        const arns: Record<PipelineRole, string> = { writer, cleaner, reader }
        const principals: AccessPrincipal[] = (['writer', 'cleaner', 'reader'] as const).map((duty) => ({
          name: duty,
          kind: 'role',
          arn: arns[duty],
          trusts: roleSubjects(duty, settings.github),
          ...grantsOf(DOCUMENTS[duty](scope, replica)),
        }))
        principals.push({
          name: 'operator',
          kind: 'policy',
          arn: operator,
          trusts: [],
          ...grantsOf(operatorPolicy(scope)),
        })
        if (replica) {
          principals.push({
            name: 'replication',
            kind: 'role',
            arn: replicationRole,
            trusts: ['s3.amazonaws.com'],
            ...grantsOf(
              replicationPolicy({
                sourceArn: bucketArn,
                replicaArn,
                prefix: settings.prefix,
                ...(settings.kmsKeyArn ? { sourceKmsKeyArn: settings.kmsKeyArn } : {}),
                ...(settings.replica?.kmsKeyArn ? { replicaKmsKeyArn: settings.replica.kmsKeyArn } : {}),
              }),
            ),
          })
        }
        const review: AccessReview = { version: 1, stack, bucket: bucketArn, principals }
        return JSON.stringify(review)
      })
  }
}
