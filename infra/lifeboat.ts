// Composes the stack: bucket → pipeline access (roles need the bucket ARN) → bucket policy
// (exempts the roles) → GitHub wiring (variables carry the outputs). Tests build it under mocks.
import * as pulumi from '@pulumi/pulumi'
import {
  GitHubVariable,
  type GitHubVariableName,
  StackOutput,
  type StackOutputName,
} from '../lib/core/stack-outputs.ts'
import { PipelineAccess } from './access.ts'
import { BackupBucket } from './bucket.ts'
import type { LifeboatConfig } from './config.ts'
import { GitHubWiring, type WorkflowFile } from './github.ts'

export interface LifeboatArgs {
  config: LifeboatConfig
  workflowFiles: WorkflowFile[]
}

export type LifeboatOutputs = Record<StackOutputName, pulumi.Output<string | string[]>>

/** IAM names are at most 64 characters; the longest suffix is `-operator`. */
const MAX_NAME_PREFIX = 64 - '-operator'.length

export class Lifeboat extends pulumi.ComponentResource {
  readonly storage: BackupBucket
  readonly access: PipelineAccess
  readonly github: GitHubWiring
  readonly outputs: LifeboatOutputs

  constructor(name: string, args: LifeboatArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:index:Lifeboat', name, {}, opts)
    const { settings, secrets, stack } = args.config
    const namePrefix = `lifeboat-${stack}`.slice(0, MAX_NAME_PREFIX)
    const tags = { 'lifeboat:stack': stack, 'managed-by': 'pulumi' }

    this.storage = new BackupBucket(
      'backups',
      {
        bucketName: settings.bucketName,
        prefix: settings.prefix,
        noncurrentVersionDays: settings.noncurrentVersionDays,
        backstopExpirationDays: settings.backstopExpirationDays,
        objectLock: settings.objectLock,
        ...(settings.kmsKeyArn ? { kmsKeyArn: settings.kmsKeyArn } : {}),
        tags,
      },
      { parent: this },
    )

    this.access = new PipelineAccess(
      'access',
      {
        namePrefix,
        bucketArn: this.storage.bucket.arn,
        prefix: settings.prefix,
        ...(settings.kmsKeyArn ? { kmsKeyArn: settings.kmsKeyArn } : {}),
        github: settings.github,
        ...(settings.existingOidcProviderArn
          ? { existingOidcProviderArn: settings.existingOidcProviderArn }
          : {}),
        tags,
      },
      { parent: this },
    )
    const roles = this.access.roles
    this.storage.attachPolicy([roles.writer.arn, roles.cleaner.arn, roles.reader.arn])

    const backupStore = pulumi.interpolate`s3://${this.storage.bucket.bucket}${settings.prefix ? `/${settings.prefix}` : ''}`
    const variables: Partial<Record<GitHubVariableName, pulumi.Input<string>>> = {
      [GitHubVariable.region]: settings.region,
      [GitHubVariable.bucket]: this.storage.bucket.bucket,
      [GitHubVariable.backupStore]: backupStore,
      [GitHubVariable.retentionDays]: String(settings.retention.days),
      [GitHubVariable.retentionMinKeep]: String(settings.retention.minKeep),
      [GitHubVariable.retentionDaily]: String(settings.retention.daily),
      [GitHubVariable.retentionWeekly]: String(settings.retention.weekly),
      [GitHubVariable.retentionMonthly]: String(settings.retention.monthly),
      [GitHubVariable.writerRoleArn]: roles.writer.arn,
      [GitHubVariable.cleanerRoleArn]: roles.cleaner.arn,
      [GitHubVariable.readerRoleArn]: roles.reader.arn,
    }
    if (settings.alerts.oncallEmail) variables[GitHubVariable.oncallEmail] = settings.alerts.oncallEmail
    if (settings.alerts.pagerDutyEventsUrl) {
      variables[GitHubVariable.pagerDutyEventsUrl] = settings.alerts.pagerDutyEventsUrl
    }

    this.github = new GitHubWiring(
      'github',
      {
        owner: settings.github.owner,
        repository: settings.github.repository,
        workflowBranch: settings.github.workflowBranch,
        environments: settings.environments,
        secrets,
        variables,
        workflowFiles: args.workflowFiles,
      },
      { parent: this },
    )

    this.outputs = {
      [StackOutput.bucketName]: this.storage.bucket.bucket,
      [StackOutput.region]: pulumi.output(settings.region),
      [StackOutput.backupStore]: backupStore,
      [StackOutput.writerRoleArn]: roles.writer.arn,
      [StackOutput.cleanerRoleArn]: roles.cleaner.arn,
      [StackOutput.readerRoleArn]: roles.reader.arn,
      [StackOutput.operatorPolicyArn]: this.access.operatorPolicy.arn,
      [StackOutput.oidcProviderArn]: this.access.oidcProviderArn,
      [StackOutput.workflowFiles]: pulumi.output(args.workflowFiles.map((f) => f.path)),
    }
    this.registerOutputs(this.outputs)
  }
}
