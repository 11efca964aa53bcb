// Reading archives in tests with the standard tools a person would use.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

/** Extracts with `tar -xzf` and returns the root folder's path. */
export function extractWithTar(archive: string): string {
  const dir = mkdtempSync(join(resolve('.tmp'), 'extract-'))
  execFileSync('tar', ['-xzf', archive, '-C', dir])
  const root = execFileSync('ls', [dir]).toString().trim()
  return join(dir, root)
}

export function sha256sumCheck(folder: string): string {
  return execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: folder }).toString()
}

export function readNdjson(folder: string, file: string): Record<string, string | null>[] {
  return readFileSync(join(folder, file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
}
