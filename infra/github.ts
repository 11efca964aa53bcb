// The GitHub side of the infrastructure stack: a deployment environment per duty with its
// branch policy and reviewers, the OIDC subject template that names the workflow file in
// every token, a ruleset that lets changes reach the default branch only through reviewed,
// checked pull requests, repository variables carrying the stack outputs, and (optionally)
// the workflow files. The Actions secrets are the secrets stack's (github-secrets.ts).
import * as github from '@pulumi/github'
import * as pulumi from '@pulumi/pulumi'
import {
  GitHubEnvironment,
  type GitHubEnvironmentName,
  type GitHubVariableName,
} from '../lib/core/stack-outputs.ts'
import { OIDC_SUBJECT_CLAIMS } from './iam-documents.ts'
import type { EnvironmentSettings, GitHubSettings } from './settings.ts'

export interface WorkflowFile {
  /** Repository-relative path, `.github/workflows/backup.yml`. */
  path: string
  content: string
}

export interface GitHubWiringArgs {
  github: GitHubSettings
  environments: Record<GitHubEnvironmentName, EnvironmentSettings>
  variables: Partial<Record<GitHubVariableName, pulumi.Input<string>>>
  workflowFiles: WorkflowFile[]
}

export class GitHubWiring extends pulumi.ComponentResource {
  readonly environments: Record<GitHubEnvironmentName, github.RepositoryEnvironment>
  readonly files: github.RepositoryFile[]
  readonly oidcTemplate: github.ActionsRepositoryOidcSubjectClaimCustomizationTemplate
  readonly ruleset: github.RepositoryRuleset

  constructor(name: string, args: GitHubWiringArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:github:GitHubWiring', name, {}, opts)
    // The token comes from GITHUB_TOKEN in the environment of `pulumi up` (docs/infrastructure.md).
    const provider = new github.Provider(`${name}-provider`, { owner: args.github.owner }, { parent: this })
    const child = { parent: this, provider }
    const repository = args.github.repository

    // Every job's OIDC token names its environment and its workflow file; the roles trust
    // exactly those subjects (iam-documents.ts workflowSubject).
    this.oidcTemplate = new github.ActionsRepositoryOidcSubjectClaimCustomizationTemplate(
      `${name}-oidc-subject`,
      { repository, useDefault: false, includeClaimKeys: [...OIDC_SUBJECT_CLAIMS] },
      child,
    )

    // Changes reach the default branch (where the schedules run and the environments' branch
    // policies point) only through a pull request approved by someone else, after CI passed.
    this.ruleset = new github.RepositoryRuleset(
      `${name}-default-branch`,
      {
        repository,
        name: 'lifeboat-default-branch',
        target: 'branch',
        enforcement: 'active',
        conditions: { refName: { includes: ['~DEFAULT_BRANCH'], excludes: [] } },
        rules: {
          deletion: true,
          nonFastForward: true,
          pullRequest: {
            requiredApprovingReviewCount: 1,
            dismissStaleReviewsOnPush: true,
            requireLastPushApproval: true,
            requiredReviewThreadResolution: true,
          },
          requiredStatusChecks: {
            strictRequiredStatusChecksPolicy: true,
            requiredChecks: args.github.requiredChecks.map((context) => ({ context })),
          },
        },
      },
      child,
    )

    const environments = {} as Record<GitHubEnvironmentName, github.RepositoryEnvironment>
    for (const envName of Object.values(GitHubEnvironment)) {
      const settings = args.environments[envName]
      const hasReviewers = settings.reviewers.users.length > 0 || settings.reviewers.teams.length > 0
      const environment = new github.RepositoryEnvironment(
        `${name}-env-${envName}`,
        {
          repository,
          environment: envName,
          // Only the named branches may run jobs in this environment, so only they can get its
          // secrets and the OIDC subject the roles trust.
          deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
          ...(hasReviewers ? { reviewers: [settings.reviewers] } : {}),
          ...(settings.waitTimerMinutes > 0 ? { waitTimer: settings.waitTimerMinutes } : {}),
        },
        child,
      )
      for (const branch of settings.branches) {
        new github.RepositoryEnvironmentDeploymentPolicy(
          `${name}-env-${envName}-branch-${resourceSafe(branch)}`,
          { repository, environment: environment.environment, branchPattern: branch },
          child,
        )
      }
      environments[envName] = environment
    }
    this.environments = environments

    for (const [variableName, value] of Object.entries(args.variables) as [
      GitHubVariableName,
      pulumi.Input<string>,
    ][]) {
      new github.ActionsVariable(`${name}-var-${variableName}`, { repository, variableName, value }, child)
    }

    const synced = args.github.syncWorkflowFiles ? args.workflowFiles : []
    this.files = synced.map(
      (file) =>
        new github.RepositoryFile(
          `${name}-file-${resourceSafe(file.path)}`,
          {
            repository,
            branch: args.github.workflowBranch,
            file: file.path,
            content: file.content,
            commitMessage: `chore(lifeboat): sync ${file.path} from the Pulumi stack`,
            // The repository may already hold the same file (it is this project's own checkout).
            overwriteOnCreate: true,
          },
          child,
        ),
    )

    this.registerOutputs({ workflowFiles: this.files.map((f) => f.file) })
  }
}

function resourceSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '_')
}
