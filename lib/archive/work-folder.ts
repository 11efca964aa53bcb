// A job's private temp folder: `<temp>/lifeboat-<kind>-<pid>-XXXXXX`, mode 0700, removed by
// the job however it ends. A process killed outright (kill -9, OOM, power loss) cannot
// remove its own, so each job sweeps, at start, the folders of its kind whose process is gone.
import { constants } from 'node:fs'
import { access, mkdtemp, readdir, rm, stat, statfs } from 'node:fs/promises'
import { join } from 'node:path'
import { LifeboatError } from '../core/errors.ts'

export type WorkFolderKind = 'backup' | 'restore'

/** Folders from before the pid was part of the name are swept once this old. */
const LEGACY_STALE_MS = 24 * 3_600_000

/**
 * The temp folder setting checked before a job writes anything: a folder this process may
 * create its own in, or CONFIG_INVALID naming LIFEBOAT_TEMP_DIR (exit 2). Returns its free bytes.
 */
export async function checkTempFolder(dir: string): Promise<number> {
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error('not a folder')
    await access(dir, constants.W_OK | constants.X_OK)
    const fs = await statfs(dir)
    return fs.bavail * fs.bsize
  } catch (error) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      `the temp folder ${dir} (LIFEBOAT_TEMP_DIR) cannot be used: ${(error as Error).message}`,
      { cause: error },
    )
  }
}

/** Creates the job's folder (mkdtemp: mode 0700, a name nobody else can take). */
export async function createWorkFolder(tempDir: string, kind: WorkFolderKind): Promise<string> {
  return mkdtemp(join(tempDir, `lifeboat-${kind}-${process.pid}-`))
}

/** True while a process with this id runs (on this machine). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, it is someone else's.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Removes the folders of `kind` under `tempDir` left by processes that no longer run;
 * returns their paths. A folder whose process still runs (another job) is left alone.
 */
export async function sweepStaleWorkFolders(
  tempDir: string,
  kind: WorkFolderKind,
  options: { isAlive?: (pid: number) => boolean; now?: Date } = {},
): Promise<string[]> {
  const isAlive = options.isAlive ?? isProcessAlive
  const now = (options.now ?? new Date()).getTime()
  let names: string[]
  try {
    names = await readdir(tempDir)
  } catch {
    return []
  }
  const swept: string[] = []
  for (const name of names) {
    if (!name.startsWith(`lifeboat-${kind}-`)) continue
    const path = join(tempDir, name)
    const pid = /^lifeboat-[a-z]+-(\d+)-[A-Za-z0-9]{6}$/.exec(name)?.[1]
    if (pid !== undefined) {
      if (Number(pid) === process.pid || isAlive(Number(pid))) continue
    } else {
      const info = await stat(path).catch(() => undefined)
      if (!info?.isDirectory() || now - info.mtime.getTime() < LEGACY_STALE_MS) continue
    }
    await rm(path, { recursive: true, force: true })
    swept.push(path)
  }
  return swept
}
