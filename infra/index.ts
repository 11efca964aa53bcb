// The Pulumi program (Pulumi.yaml `main: infra/`): read the stack configuration and build
// either the infrastructure stack (bucket, roles, GitHub wiring; outputs named in
// lib/core/stack-outputs.ts) or, with `lifeboat:part: secrets`, the GitHub secrets alone.
import { fileURLToPath } from 'node:url'
import * as pulumi from '@pulumi/pulumi'
import { readLifeboatConfig } from './config.ts'
import { GitHubSecrets } from './github-secrets.ts'
import { Lifeboat, type LifeboatOutputs } from './lifeboat.ts'
import { readWorkflowFiles } from './workflow-files.ts'

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url))

export default function main(): LifeboatOutputs | { githubSecrets: pulumi.Output<string[]> } {
  const config = readLifeboatConfig()
  if (config.settings.part === 'secrets') {
    const secrets = new GitHubSecrets('github', {
      owner: config.settings.github.owner,
      repository: config.settings.github.repository,
      secrets: config.secrets,
    })
    return { githubSecrets: pulumi.output(secrets.names) }
  }
  const lifeboat = new Lifeboat('lifeboat', {
    config,
    workflowFiles: readWorkflowFiles(repositoryRoot),
  })
  return lifeboat.outputs
}
