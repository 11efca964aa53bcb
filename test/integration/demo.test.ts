// The README's first command, exactly as written: the demo runs the whole round trip
// on its own throwaway PostgreSQL and leaves an archive a person can check with tar.
import { execFile } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { extractWithTar, sha256sumCheck } from '../helpers/archive.ts'

function runShell(command: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      'bash',
      ['-c', command],
      { timeout: 180_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    )
  })
}

describe('npm run demo', () => {
  it('backs up, verifies, restores into a second database and proves every table equal', async () => {
    const run = await runShell('npm run demo')
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('every table identical')
    expect(run.stdout).not.toContain('DIFF')

    const archive = /archive: (\S+\.tar\.gz)/.exec(run.stdout)?.[1]
    expect(archive).toBeDefined()
    const check = sha256sumCheck(extractWithTar(archive!))
    expect(check).toContain('data/public.metrics.ndjson: OK')
    expect(check).not.toContain('FAILED')
  }, 180_000)
})
