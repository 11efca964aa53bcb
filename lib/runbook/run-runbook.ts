// Runs a runbook's tested steps in order in one bash session (cd and variables carry
// over, as when a person pastes them into one terminal), asking before each step that
// changes something (`--yes` answers for all), timing every step and the whole (the
// RTO evidence), and recording the run in the audit trail. Started by zx: the runbook's
// one js block calls it (`npx zx runbooks/<name>.md [--yes]`).
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir, userInfo } from 'node:os'
import { basename, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { openStore } from '../adapters/store/open-store.ts'
import { describeActor } from '../audit/record.ts'
import { appendAudit } from '../audit/trail.ts'
import { formatEta } from '../cli/progress-model.ts'
import { readStoreConfig, SettingsReader } from '../core/config.ts'
import { SETTINGS } from '../settings/settings.ts'
import { type RunbookStep, runbookSteps } from './steps.ts'

export interface StepTiming {
  number: number
  title: string
  seconds: number
  outcome: 'done' | 'failed' | 'declined'
}

const USAGE = `Usage: npx zx runbooks/<name>.md [--yes]

Runs the runbook's tested steps in order, in one bash session, from the folder you
start it in (the repository). Asks before each step that changes something; --yes
(or -y) answers yes for all. Prints the time of every step and the total, and
records the run in the audit trail (BACKUP_STORE). Exit 0 when every step ran.
`

export async function runRunbook(file: URL | string, argv = runbookArguments()): Promise<void> {
  const path = file instanceof URL ? fileURLToPath(file) : file
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE)
    return
  }
  const unknown = argv.filter((a) => a !== '--yes' && a !== '-y')
  if (unknown.length > 0) {
    process.stderr.write(`runbook: error USAGE: unknown argument ${unknown.join(' ')}\n${USAGE}`)
    process.exitCode = 2
    return
  }
  const name = basename(path)
  const steps = runbookSteps(readFileSync(path, 'utf8'), `runbooks/${name}`)
  const startedAt = new Date()
  const timings = await runSteps(steps, { yes: argv.includes('--yes') || argv.includes('-y') })
  const total = (Date.now() - startedAt.getTime()) / 1000
  const failed = timings.find((t) => t.outcome !== 'done')
  const summary = failed
    ? `runbook ${name}: stopped at "${failed.title}" (${failed.outcome}) after ${formatEta(total)}`
    : `runbook ${name}: ${timings.length} steps done in ${formatEta(total)} (${total.toFixed(1)} s from the first step to the last)`
  process.stderr.write(`\n${summary}\n`)
  await recordRun(name, startedAt, timings, failed)
  process.exitCode = failed ? 1 : 0
}

/** The arguments after the runbook's path (zx passes them through). */
function runbookArguments(): string[] {
  const at = process.argv.findIndex((a) => a.endsWith('.md'))
  return at >= 0 ? process.argv.slice(at + 1) : []
}

async function runSteps(steps: readonly RunbookStep[], options: { yes: boolean }): Promise<StepTiming[]> {
  const session = new BashSession()
  const answers = options.yes ? undefined : createInterface({ input: process.stdin })
  const lines = answers?.[Symbol.asyncIterator]()
  const timings: StepTiming[] = []
  try {
    for (const step of steps) {
      process.stderr.write(`\n── ${step.title} (${step.number} of ${steps.length})\n`)
      if (step.changes && lines) {
        process.stderr.write('This step changes something. Run it? [y/N] ')
        const answer = await lines.next()
        if (answer.done || !/^y(es)?$/i.test(answer.value.trim())) {
          timings.push({ number: step.number, title: step.title, seconds: 0, outcome: 'declined' })
          return timings
        }
      }
      const began = Date.now()
      const ok = await session.run(step)
      const seconds = (Date.now() - began) / 1000
      timings.push({ number: step.number, title: step.title, seconds, outcome: ok ? 'done' : 'failed' })
      process.stderr.write(
        `${ok ? '✔' : '✘'} ${step.title}: ${ok ? 'done' : 'FAILED'} in ${formatEta(seconds)}\n`,
      )
      if (!ok) return timings
    }
    return timings
  } finally {
    answers?.close()
    await session.close()
  }
}

/**
 * One bash, `set -euo pipefail`, fed one block at a time from a file it sources with
 * stdin from /dev/null (a command reading stdin must not eat the session); fd 3 tells
 * the runner the block ended. A failing command ends the shell: the step failed.
 */
class BashSession {
  readonly #dir = mkdtempSync(join(tmpdir(), 'lifeboat-runbook-'))
  readonly #shell: ChildProcess
  readonly #exited: Promise<number>
  #buffer = ''
  #waiting: ((line: string | undefined) => void) | undefined
  #count = 0

  constructor() {
    this.#shell = spawn('bash', ['--noprofile', '--norc'], { stdio: ['pipe', 'inherit', 'inherit', 'pipe'] })
    this.#exited = new Promise((done) => this.#shell.once('exit', (code) => done(code ?? 1)))
    this.#exited.then(() => this.#waiting?.(undefined))
    this.#shell.stdio[3]!.on('data', (chunk: Buffer) => {
      this.#buffer += chunk.toString()
      const end = this.#buffer.indexOf('\n')
      if (end >= 0 && this.#waiting) {
        const line = this.#buffer.slice(0, end)
        this.#buffer = this.#buffer.slice(end + 1)
        this.#waiting(line)
      }
    })
    this.#shell.stdin!.write('set -euo pipefail\n')
  }

  async run(step: RunbookStep): Promise<boolean> {
    for (const [index, script] of step.scripts.entries()) {
      process.stderr.write(`${step.where[index]}\n${script.replace(/^/gm, '$ ')}\n`)
      const file = join(this.#dir, `block-${++this.#count}.sh`)
      writeFileSync(file, `${script}\n`)
      const ended = new Promise<string | undefined>((done) => {
        this.#waiting = done
      })
      this.#shell.stdin!.write(`source '${file}' </dev/null\nprintf 'ok\\n' >&3\n`)
      if ((await ended) !== 'ok') return false
    }
    return true
  }

  async close(): Promise<void> {
    if (this.#shell.exitCode === null) this.#shell.stdin!.end('exit 0\n')
    await this.#exited
    rmSync(this.#dir, { recursive: true, force: true })
  }
}

/** The audit record of the run: which runbook, who, each step's time. A failure to write is a warning. */
async function recordRun(
  name: string,
  startedAt: Date,
  timings: readonly StepTiming[],
  failed: StepTiming | undefined,
): Promise<void> {
  const reader = new SettingsReader(process.env)
  if (!reader.given(SETTINGS.store)) {
    process.stderr.write('note: BACKUP_STORE is not set: the run is not recorded in the audit trail\n')
    return
  }
  try {
    const config = readStoreConfig(reader)
    reader.finish()
    let user = process.env.USER ?? 'unknown'
    try {
      user = userInfo().username
    } catch {
      // no passwd entry: keep $USER
    }
    await appendAudit(openStore(config!), {
      version: 1,
      event: 'runbook',
      at: new Date().toISOString(),
      startedAt: startedAt.toISOString(),
      outcome: failed ? (failed.outcome === 'declined' ? 'warning' : 'failure') : 'success',
      ...(failed
        ? { warnings: [`stopped at step ${failed.number} (${failed.outcome}): ${failed.title}`] }
        : {}),
      actor: describeActor(process.env, { user, host: hostname() }),
      details: {
        runbook: `runbooks/${name}`,
        steps: timings.map((t) => `${t.title}: ${t.outcome} in ${t.seconds.toFixed(1)} s`),
        seconds: Math.round(timings.reduce((n, t) => n + t.seconds, 0) * 10) / 10,
      },
    })
  } catch (error) {
    process.stderr.write(
      `warning: the run could not be recorded in the audit trail: ${(error as Error).message}\n`,
    )
  }
}
