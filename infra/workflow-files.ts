// Reads the workflow files the stack pushes to GitHub, from this checkout (I/O at the edge:
// infra/index.ts calls it; tests pass the same list to the program under mocks).
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { WORKFLOWS_DIRECTORY } from '../lib/core/stack-outputs.ts'
import type { WorkflowFile } from './github.ts'

export function readWorkflowFiles(repositoryRoot: string): WorkflowFile[] {
  const directory = join(repositoryRoot, WORKFLOWS_DIRECTORY)
  return readdirSync(directory)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => ({
      path: `${WORKFLOWS_DIRECTORY}/${name}`,
      content: readFileSync(join(directory, name), 'utf8'),
    }))
}
