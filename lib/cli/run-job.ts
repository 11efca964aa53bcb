// The edge every job script goes through: flags, --help, progress, one printed
// error, a JSON summary with --json, and the exit code. Engines stay free of all this.
import process from 'node:process'
import { minimist } from 'zx'
import type { Env } from '../core/config.ts'
import { ExitCode, LifeboatError, toLifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import { redact } from '../core/secret.ts'
import { createProgressRenderer } from './progress.ts'

export interface FlagSpec {
  string?: string[]
  boolean?: string[]
  alias?: Record<string, string>
  default?: Record<string, unknown>
}

export interface JobContext {
  args: minimist.ParsedArgs
  /** Positional arguments. */
  positional: string[]
  env: Env
  emit: EmitEvent
  json: boolean
  /** A line for the person reading (stderr, so stdout stays parseable). */
  log: (line: string) => void
  /** Aborted on SIGINT or SIGTERM: engines stop, undo what they wrote and clean up. */
  signal: AbortSignal
}

export interface JobResult {
  /** Printed as one JSON line on stdout with --json. */
  summary: Record<string, unknown>
  /** Printed on stdout without --json. */
  text?: string
  /** Defaults to 0; a job may report a problem it found without throwing (e.g. verify). */
  exitCode?: ExitCode
}

export interface JobSpec {
  name: string
  usage: string
  flags: FlagSpec
  run(context: JobContext): Promise<JobResult>
  /** Runs after the job whatever happened (alerts, audit); its failures never change the exit code. */
  after?: (
    context: JobContext,
    outcome: { result?: JobResult; error?: LifeboatError; startedAt: Date },
  ) => Promise<void>
}

const COMMON_BOOLEANS = ['help', 'json', 'quiet']

export async function runJob(
  spec: JobSpec,
  argv = process.argv.slice(2),
  env: Env = process.env,
): Promise<number> {
  const unknown: string[] = []
  const args = minimist(argv, {
    // '_': positionals stay as typed (`clean 1e1` must not arrive as 10).
    string: ['_', ...(spec.flags.string ?? [])],
    boolean: [...COMMON_BOOLEANS, ...(spec.flags.boolean ?? [])],
    alias: { h: 'help', ...(spec.flags.alias ?? {}) },
    default: spec.flags.default ?? {},
    unknown: (arg) => {
      if (arg.startsWith('-')) unknown.push(arg)
      return !arg.startsWith('-')
    },
  })
  const json = Boolean(args.json)
  const interrupt = interruptOnSignals()
  const live = Boolean(process.stderr.isTTY) && !env.CI && !json
  const context: JobContext = {
    args,
    positional: args._.map(String),
    env,
    emit: createProgressRenderer(process.stderr, { live, quiet: Boolean(args.quiet) }),
    json,
    log: (line) => process.stderr.write(`${redact(line)}\n`),
    signal: interrupt.signal,
  }
  if (args.help) {
    process.stdout.write(`${spec.usage.trim()}\n`)
    return ExitCode.ok
  }
  const startedAt = new Date()
  let result: JobResult | undefined
  let failure: LifeboatError | undefined
  try {
    if (unknown.length > 0) {
      throw new LifeboatError('USAGE', `unknown option ${unknown.join(', ')} (see --help)`)
    }
    result = await spec.run(context)
  } catch (error) {
    failure = toLifeboatError(error)
  }
  interrupt.dispose()
  if (spec.after) {
    await spec
      .after(context, { ...(result ? { result } : {}), ...(failure ? { error: failure } : {}), startedAt })
      .catch((error) => context.log(`warning: after ${spec.name}: ${(error as Error).message}`))
  }
  if (failure) {
    printError(spec.name, failure, json)
    return failure.exitCode
  }
  if (json)
    process.stdout.write(`${redact(JSON.stringify({ ok: true, job: spec.name, ...result!.summary }))}\n`)
  else if (result!.text) process.stdout.write(`${redact(result!.text)}\n`)
  return result!.exitCode ?? ExitCode.ok
}

export function printError(job: string, error: LifeboatError, json: boolean): void {
  const message = redact(error.message)
  if (json) {
    const payload = {
      ok: false,
      job,
      error: { code: error.code, message, hint: error.hint, runbook: error.runbook },
    }
    process.stdout.write(`${JSON.stringify(payload)}\n`)
  }
  // One line: what failed, then what to do about it.
  process.stderr.write(
    `lifeboat ${job}: error ${error.code}: ${message} (hint: ${error.hint} See ${error.runbook})\n`,
  )
  if (error.code === 'INTERNAL' && error.cause instanceof Error && error.cause.stack) {
    process.stderr.write(`${redact(error.cause.stack)}\n`)
  }
}

/** Runs a job as the process's main and exits with its code (SDK keep-alive sockets would hold it open). */
export function main(spec: JobSpec): void {
  runJob(spec).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`lifeboat ${spec.name}: ${redact(String(error))}\n`)
      process.exit(1)
    },
  )
}

/**
 * The first SIGINT or SIGTERM aborts the job's signal, so it rolls back and cleans
 * up; a second one gives up waiting and exits at once (130).
 */
function interruptOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController()
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(ExitCode.interrupted)
    process.stderr.write(`lifeboat: ${name} received, stopping and cleaning up (again to exit at once)\n`)
    controller.abort(new LifeboatError('INTERRUPTED', `interrupted by ${name}`))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    },
  }
}
