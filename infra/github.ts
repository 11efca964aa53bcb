// The GitHub side: deployment environments with branch policies, Actions secrets (scoped to
// the environment whose jobs need them), repository variables carrying the stack outputs,
// and the workflow files of .github/workflows pushed to the repository.
import * as github from '@pulumi/github'
import * as pulumi from '@pulumi/pulumi'
import {
  GitHubEnvironment,
  type GitHubEnvironmentName,
  GitHubSecret,
  type GitHubSecretKey,
  type GitHubVariableName,
} from '../lib/core/stack-outputs.ts'
import type { LifeboatSecrets } from './config.ts'
import type { EnvironmentSettings } from './settings.ts'

export interface WorkflowFile {
  /** Repository-relative path, `.github/workflows/backup.yml`. */
  path: string
  content: string
}

export interface GitHubWiringArgs {
  owner: string
  repository: string
  /** Branch the workflow files are committed to (the one schedules run on). */
  workflowBranch: string
  environments: Record<GitHubEnvironmentName, EnvironmentSettings>
  secrets: LifeboatSecrets
  variables: Partial<Record<GitHubVariableName, pulumi.Input<string>>>
  workflowFiles: WorkflowFile[]
}

export class GitHubWiring extends pulumi.ComponentResource {
  readonly environments: Record<GitHubEnvironmentName, github.RepositoryEnvironment>
  readonly files: github.RepositoryFile[]

  constructor(name: string, args: GitHubWiringArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:github:GitHubWiring', name, {}, opts)
    // The token comes from GITHUB_TOKEN in the environment of `pulumi up` (docs/infrastructure.md).
    const provider = new github.Provider(`${name}-provider`, { owner: args.owner }, { parent: this })
    const child = { parent: this, provider }
    const repository = args.repository

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

    for (const [key, spec] of Object.entries(GitHubSecret) as [
      GitHubSecretKey,
      (typeof GitHubSecret)[GitHubSecretKey],
    ][]) {
      const value = args.secrets[key]
      if (!value) continue
      if (spec.scope === 'repository') {
        new github.ActionsSecret(
          `${name}-secret-${spec.name}`,
          { repository, secretName: spec.name, value },
          child,
        )
      } else {
        new github.ActionsEnvironmentSecret(
          `${name}-secret-${spec.scope}-${spec.name}`,
          { repository, environment: environments[spec.scope].environment, secretName: spec.name, value },
          child,
        )
      }
    }

    for (const [variableName, value] of Object.entries(args.variables) as [
      GitHubVariableName,
      pulumi.Input<string>,
    ][]) {
      new github.ActionsVariable(`${name}-var-${variableName}`, { repository, variableName, value }, child)
    }

    this.files = args.workflowFiles.map(
      (file) =>
        new github.RepositoryFile(
          `${name}-file-${resourceSafe(file.path)}`,
          {
            repository,
            branch: args.workflowBranch,
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
