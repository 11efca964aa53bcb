// The README's first command: the demo runs the whole round trip on its own
// throwaway PostgreSQL and leaves an archive a person can check with standard tools.
import { mkdtempSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { extractWithTar, sha256sumCheck } from '../helpers/archive.ts'
import { runJobProcess } from '../helpers/run-job.ts'

describe('npm run demo', () => {
  it('backs up, verifies, restores into a second database and proves every table equal', async () => {
    const store = mkdtempSync(join(resolve('.tmp'), 'demo-'))
    const run = await runJobProcess('demo', ['--store', store, '--metrics-rows', '20000', '--json'], {})
    expect(run.code, run.stderr).toBe(0)
    const summary = run.json as {
      archive: string
      verified: boolean
      restored: { identical: boolean }[]
      tables: number
    }
    expect(summary.verified).toBe(true)
    expect(summary.restored).toHaveLength(summary.tables)
    expect(summary.restored.every((t) => t.identical)).toBe(true)

    const root = extractWithTar(summary.archive)
    const check = sha256sumCheck(root)
    expect(check).toContain('data/public.metrics.ndjson: OK')
    expect(check).not.toContain('FAILED')
  }, 120_000)
})
