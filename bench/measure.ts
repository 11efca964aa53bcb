// Measures one child process the way the benchmark reports it: wall seconds, the CPU
// of the process and its children (GNU time), its peak resident memory, and the CPU
// the PostgreSQL server spent meanwhile (the postmaster's counters, which collect
// every backend that has exited).
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const GNU_TIME = '/usr/bin/time'
/** Clock ticks per second of /proc/<pid>/stat on Linux. */
const TICKS = 100

export interface Measured {
  seconds: number
  /** User + system CPU of the process and the children it waited for. */
  cpuSeconds: number
  /** CPU the database server spent while the command ran (all its backends). */
  serverCpuSeconds: number
  peakRssMb: number
  stdout: string
}

export function assertGnuTime(): void {
  if (!existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} is missing (Debian/Ubuntu: apt-get install time)`)
}

/** utime + stime + cutime + cstime of a process, in seconds. */
function processCpu(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICKS
}

/** Runs `command argv…` under GNU time; rejects with its stderr's tail when it fails. */
export async function measure(
  command: string,
  argv: readonly string[],
  env: Record<string, string>,
  postmasterPid?: number,
): Promise<Measured> {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-bench-'))
  const timing = join(dir, 'time')
  const serverBefore = postmasterPid ? processCpu(postmasterPid) : 0
  const began = process.hrtime.bigint()
  try {
    const { code, stdout, stderr } = await new Promise<{
      code: number | null
      stdout: string
      stderr: string
    }>((done, fail) => {
      const child = spawn(GNU_TIME, ['-o', timing, '-f', '%U %S %M', command, ...argv], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let out = ''
      let err = ''
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString()
      })
      child.stderr.on('data', (chunk: Buffer) => {
        err = (err + chunk.toString()).slice(-4000)
      })
      child.on('error', fail)
      child.on('close', (exit) => done({ code: exit, stdout: out, stderr: err }))
    })
    const seconds = Number(process.hrtime.bigint() - began) / 1e9
    // The postmaster adds an exited backend's CPU once it has reaped it.
    await new Promise((resolve) => setTimeout(resolve, 100))
    const serverCpuSeconds = postmasterPid ? processCpu(postmasterPid) - serverBefore : 0
    if (code !== 0) throw new Error(`${command} ${argv.join(' ')} exited ${code}: ${stderr}`)
    const [user, system, maxRssKb] = (await readFile(timing, 'utf8')).trim().split('\n').at(-1)!.split(' ')
    return {
      seconds,
      cpuSeconds: Number(user) + Number(system),
      serverCpuSeconds,
      peakRssMb: Math.round(Number(maxRssKb) / 1024),
      stdout,
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}
