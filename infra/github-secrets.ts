// The secrets stack (`lifeboat:part: secrets`): only the GitHub Actions secrets, each in the
// scope of the jobs that read it. Kept apart so the infrastructure stack, which pull requests
// preview with their own code, holds no secret that a preview could decrypt.
import * as github from '@pulumi/github'
import * as pulumi from '@pulumi/pulumi'
import { GitHubSecret, type GitHubSecretKey } from '../lib/core/stack-outputs.ts'
import type { LifeboatSecrets } from './config.ts'

export interface GitHubSecretsArgs {
  owner: string
  repository: string
  secrets: LifeboatSecrets
}

export class GitHubSecrets extends pulumi.ComponentResource {
  /** `<scope>:<NAME>` of every secret set (names only). */
  readonly names: string[] = []

  constructor(name: string, args: GitHubSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:github:GitHubSecrets', name, {}, opts)
    const provider = new github.Provider(`${name}-provider`, { owner: args.owner }, { parent: this })
    const child = { parent: this, provider }
    const repository = args.repository
    for (const [key, spec] of Object.entries(GitHubSecret) as [
      GitHubSecretKey,
      (typeof GitHubSecret)[GitHubSecretKey],
    ][]) {
      const value = args.secrets[key]
      if (!value) continue
      this.names.push(`${spec.scope}:${spec.name}`)
      if (spec.scope === 'repository') {
        new github.ActionsSecret(
          `${name}-secret-${spec.name}`,
          { repository, secretName: spec.name, value },
          child,
        )
      } else {
        // The environment is the infrastructure stack's; it must exist before this stack runs.
        new github.ActionsEnvironmentSecret(
          `${name}-secret-${spec.scope}-${spec.name}`,
          { repository, environment: spec.scope, secretName: spec.name, value },
          child,
        )
      }
    }
    this.registerOutputs({ secrets: this.names })
  }
}
