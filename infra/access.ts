// Who may touch the bucket: GitHub's OIDC provider (created, or an existing one referenced),
// one role per pipeline duty (write, clean, read), each assumable only from this repository's
// named environments, and a policy for people that works only with MFA.
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'
import { GitHubEnvironment, type GitHubEnvironmentName } from '../lib/core/stack-outputs.ts'
import {
  type BucketScope,
  cleanerPolicy,
  environmentSubject,
  GITHUB_OIDC_AUDIENCE,
  GITHUB_OIDC_HOST,
  githubTrustPolicy,
  operatorPolicy,
  type PolicyDocument,
  readerPolicy,
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

/** Which environments' jobs may assume each role. */
export const ROLE_ENVIRONMENTS: Record<PipelineRole, GitHubEnvironmentName[]> = {
  writer: [GitHubEnvironment.production],
  cleaner: [GitHubEnvironment.production],
  // verify and monitor run in production; drills and DR tests in staging.
  reader: [GitHubEnvironment.production, GitHubEnvironment.staging],
}

const DOCUMENTS: Record<PipelineRole, (scope: BucketScope) => PolicyDocument> = {
  writer: writerPolicy,
  cleaner: cleanerPolicy,
  reader: readerPolicy,
}

export interface PipelineAccessArgs {
  /** Physical-name prefix, `lifeboat-<stack>`. */
  namePrefix: string
  bucketArn: pulumi.Input<string>
  prefix: string
  kmsKeyArn?: string
  github: { owner: string; repository: string }
  existingOidcProviderArn?: string
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

    const scope = (bucketArn: string): BucketScope => ({
      bucketArn,
      prefix: args.prefix,
      ...(args.kmsKeyArn ? { kmsKeyArn: args.kmsKeyArn } : {}),
    })

    const makeRole = (duty: PipelineRole): aws.iam.Role => {
      const subjects = ROLE_ENVIRONMENTS[duty].map((env) =>
        environmentSubject(args.github.owner, args.github.repository, env),
      )
      const role = new aws.iam.Role(
        `${name}-${duty}`,
        {
          name: `${args.namePrefix}-${duty}`,
          description: `Lifeboat ${duty}: assumed by GitHub Actions in ${ROLE_ENVIRONMENTS[duty].join(', ')}`,
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
          policy: pulumi.output(args.bucketArn).apply((arn) => JSON.stringify(DOCUMENTS[duty](scope(arn)))),
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
