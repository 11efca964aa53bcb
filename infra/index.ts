// The Pulumi program (Pulumi.yaml `main: infra/`): read the stack configuration, build the
// Lifeboat component, export its outputs under the names in lib/core/stack-outputs.ts.
import { fileURLToPath } from 'node:url'
import { readLifeboatConfig } from './config.ts'
import { Lifeboat, type LifeboatOutputs } from './lifeboat.ts'
import { readWorkflowFiles } from './workflow-files.ts'

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url))

export default function main(): LifeboatOutputs {
  const lifeboat = new Lifeboat('lifeboat', {
    config: readLifeboatConfig(),
    workflowFiles: readWorkflowFiles(repositoryRoot),
  })
  return lifeboat.outputs
}
