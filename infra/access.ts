// Who may touch the bucket: GitHub's OIDC provider (created, or an existing one referenced),
// one role per pipeline duty (write, clean, read), each assumable only by the jobs of its duty
// (an environment per duty, and the workflow file in the subject: disjoint subjects), and a
// policy for people that works only with MFA.
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'
import {
  GitHubEnvironment,
  type GitHubEnvironmentName,
  WORKFLOWS_DIRECTORY,
} from '../lib/core/stack-outputs.ts'
import {
  type BucketScope,
  cleanerPolicy,
  GITHUB_OIDC_AUDIENCE,
  GITHUB_OIDC_HOST,
  githubTrustPolicy,
  operatorPolicy,
  type PolicyDocument,
  readerPolicy,
  workflowSubject,
  writerPolicy,
} from './iam-documents.ts'

export type PipelineRole = 'writer' | 'cleaner' | 'reader'

/**
 * Longest session each role allows; the workflows ask for exactly this (`role-duration-seconds`)
 * and their job timeouts fit inside it (test/infra/workflows.test.ts checks both).
 */
export const ROLE_SESSION_SECONDS: Record<PipelineRole, number> = {
  writer: 3 * 3600,
  cleaner: 3600,
  reader: 4 * 3600,
}

/** A job that may assume a role: its workflow file and the environment it runs in. */
export interface DutyJob {
  workflow: string
  environment: GitHubEnvironmentName
}

/**
 * Which jobs may assume each role. A role trusts exactly these subjects and no two roles share
 * one (test/infra/trust.test.ts): only backup.yml's backup job can become the writer, only its
 * clean job the cleaner; a job holding one role can never assume another.
 */
export const ROLE_JOBS: Record<PipelineRole, DutyJob[]> = {
  writer: [{ workflow: 'backup.yml', environment: GitHubEnvironment.production }],
  cleaner: [{ workflow: 'backup.yml', environment: GitHubEnvironment.productionClean }],
  reader: [
    { workflow: 'backup.yml', environment: GitHubEnvironment.productionRead },
    { workflow: 'drill.yml', environment: GitHubEnvironment.staging },
    { workflow: 'dr-test.yml', environment: GitHubEnvironment.staging },
  ],
}

export const DOCUMENTS: Record<PipelineRole, (scope: BucketScope, replica?: BucketScope) => PolicyDocument> =
  {
    writer: writerPolicy,
    cleaner: cleanerPolicy,
    reader: readerPolicy,
  }

/** The OIDC subjects a role trusts. */
export function roleSubjects(
  duty: PipelineRole,
  github: { owner: string; repository: string; workflowBranch: string },
): string[] {
  return ROLE_JOBS[duty].map((job) =>
    workflowSubject({
      owner: github.owner,
      repository: github.repository,
      environment: job.environment,
      workflowPath: `${WORKFLOWS_DIRECTORY}/${job.workflow}`,
      branch: github.workflowBranch,
    }),
  )
}

export interface PipelineAccessArgs {
  /** Physical-name prefix, `lifeboat-<stack>`. */
  namePrefix: string
  bucketArn: pulumi.Input<string>
  prefix: string
  kmsKeyArn?: string
  github: { owner: string; repository: string; workflowBranch: string }
  existingOidcProviderArn?: string
  /** The replica bucket (same prefix), which the reader may list and read (monitor; a restore from it by hand). */
  replicaBucketArn?: pulumi.Input<string>
  replicaKmsKeyArn?: string
  tags: Record<string, string>
}

export class PipelineAccess extends pulumi.ComponentResource {
  readonly oidcProviderArn: pulumi.Output<string>
  readonly roles: Record<PipelineRole, aws.iam.Role>
  readonly operatorPolicy: aws.iam.Policy

  constructor(name: string, args: PipelineAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:access:PipelineAccess', name, {}, opts)
    const parent = { parent: this }

    this.oidcProviderArn = args.existingOidcProviderArn
      ? referenceProvider(args.existingOidcProviderArn, this)
      : new aws.iam.OpenIdConnectProvider(
          `${name}-github-oidc`,
          { url: `https://${GITHUB_OIDC_HOST}`, clientIdLists: [GITHUB_OIDC_AUDIENCE], tags: args.tags },
          // One provider per URL per account: other stacks reference it, so destroying this
          // stack must not pull it out from under them.
          { ...parent, retainOnDelete: true },
        ).arn

    const scope = (bucketArn: string, kmsKeyArn = args.kmsKeyArn): BucketScope => ({
      bucketArn,
      prefix: args.prefix,
      ...(kmsKeyArn ? { kmsKeyArn } : {}),
    })

    const makeRole = (duty: PipelineRole): aws.iam.Role => {
      const subjects = roleSubjects(duty, args.github)
      const role = new aws.iam.Role(
        `${name}-${duty}`,
        {
          name: `${args.namePrefix}-${duty}`,
          description: `Lifeboat ${duty}: assumed by ${ROLE_JOBS[duty].map((j) => `${j.workflow} in ${j.environment}`).join(', ')}`,
          assumeRolePolicy: this.oidcProviderArn.apply((arn) =>
            JSON.stringify(githubTrustPolicy(arn, subjects)),
          ),
          maxSessionDuration: ROLE_SESSION_SECONDS[duty],
          tags: { ...args.tags, 'lifeboat:access': duty },
        },
        parent,
      )
      new aws.iam.RolePolicy(
        `${name}-${duty}-policy`,
        {
          role: role.name,
          policy: pulumi
            .all([args.bucketArn, args.replicaBucketArn ?? ''])
            .apply(([arn, replicaArn]) =>
              JSON.stringify(
                DOCUMENTS[duty](
                  scope(arn),
                  replicaArn ? scope(replicaArn, args.replicaKmsKeyArn) : undefined,
                ),
              ),
            ),
        },
        parent,
      )
      return role
    }
    this.roles = { writer: makeRole('writer'), cleaner: makeRole('cleaner'), reader: makeRole('reader') }

    this.operatorPolicy = new aws.iam.Policy(
      `${name}-operator`,
      {
        name: `${args.namePrefix}-operator`,
        description: 'Lifeboat on-call: list, read, restore versions and delete backups, only with MFA',
        policy: pulumi.output(args.bucketArn).apply((arn) => JSON.stringify(operatorPolicy(scope(arn)))),
        tags: { ...args.tags, 'lifeboat:access': 'operator' },
      },
      parent,
    )

    this.registerOutputs({
      oidcProviderArn: this.oidcProviderArn,
      writerRoleArn: this.roles.writer.arn,
      cleanerRoleArn: this.roles.cleaner.arn,
      readerRoleArn: this.roles.reader.arn,
      operatorPolicyArn: this.operatorPolicy.arn,
    })
  }
}

/** Looks the existing provider up, so a wrong ARN fails the preview instead of the first backup. */
function referenceProvider(arn: string, parent: pulumi.Resource): pulumi.Output<string> {
  return aws.iam.getOpenIdConnectProviderOutput({ arn }, { parent }).apply((provider) => {
    if (!provider.url.endsWith(GITHUB_OIDC_HOST)) {
      throw new Error(`lifeboat:existingOidcProviderArn points at ${provider.url}, not ${GITHUB_OIDC_HOST}`)
    }
    if (!provider.clientIdLists.includes(GITHUB_OIDC_AUDIENCE)) {
      throw new Error(
        `the existing GitHub OIDC provider does not accept the audience ${GITHUB_OIDC_AUDIENCE}`,
      )
    }
    return provider.arn
  })
}
