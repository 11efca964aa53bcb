// Runs a job script as a real child process, as a person or a workflow would.
import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { signingEnv } from './signing.ts'

export interface JobRun {
  code: number
  stdout: string
  stderr: string
  /** The last stdout line parsed as JSON, when the job ran with --json. */
  json: Record<string, unknown> | undefined
}

/** Only what a job needs from the parent; settings come from `env`, never by accident. */
function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'NODE_OPTIONS']
  return Object.fromEntries(keep.flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])))
}

export function runJobProcess(
  script: string,
  args: readonly string[],
  env: Record<string, string | undefined>,
  options: { timeoutMs?: number; input?: string } = {},
): Promise<JobRun> {
  const path = resolve('jobs', `${script}.ts`)
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', path, ...args],
      {
        // Jobs sign and check backups with the test key pair, as a configured deployment does.
        env: { ...baseEnv(), CI: 'true', ...signingEnv(), ...env } as NodeJS.ProcessEnv,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        const last = stdout.trim().split('\n').at(-1) ?? ''
        let json: Record<string, unknown> | undefined
        try {
          json = last.startsWith('{') ? JSON.parse(last) : undefined
        } catch {
          json = undefined
        }
        done({ code, stdout, stderr, json })
      },
    )
    if (options.input !== undefined) child.stdin?.end(options.input)
    else child.stdin?.end()
  })
}
