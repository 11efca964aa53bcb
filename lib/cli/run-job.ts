// The edge every command goes through: the parser and --help generated from the
// settings table, progress, one printed error, a JSON summary with --json, the GitHub
// step summary, and the exit code. Engines stay free of all this.
import { readFileSync, realpathSync } from 'node:fs'
import { homedir, userInfo } from 'node:os'
import process from 'node:process'
import { pathToFileURL } from 'node:url'
import { type Env, type HostFacts, SettingsReader } from '../core/config.ts'
import { ExitCode, LifeboatError, toLifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import { redact } from '../core/secret.ts'
import { TOOL_VERSION } from '../core/version.ts'
import { renderCommandHelp } from '../settings/help.ts'
import { parseCommandLine } from '../settings/parse-args.ts'
import { SETTINGS } from '../settings/settings.ts'
import type { CommandName } from '../settings/types.ts'
import { createProgressRenderer } from './progress.ts'
import { appendStepSummary, errorMarkdown } from './step-summary.ts'

export interface JobContext {
  /** Flag values by flag name (`temp-dir`), from the settings table's parser. */
  args: Record<string, unknown>
  /** Positional arguments. */
  positional: string[]
  env: Env
  /** Files and facts libpq consults (service file, password file, home, OS user). */
  host: HostFacts
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
  /** Appended to $GITHUB_STEP_SUMMARY in GitHub Actions. */
  markdown?: string
  /** Defaults to 0; a job may report a problem it found without throwing (e.g. verify). */
  exitCode?: ExitCode
}

export interface JobOutcomeInfo {
  result?: JobResult
  error?: LifeboatError
  startedAt: Date
}

export interface JobSpec {
  name: CommandName
  run(context: JobContext): Promise<JobResult>
  /** Runs after the job whatever happened (alerts, audit); its failures never change the exit code. */
  after?: (context: JobContext, outcome: JobOutcomeInfo) => Promise<void>
}

/** The host's files and user, as libpq reads them. */
export function systemHost(env: Env): HostFacts {
  let osUser = env.USER
  try {
    osUser = userInfo().username
  } catch {
    // no passwd entry (some containers): keep $USER
  }
  return {
    readFile(path) {
      try {
        return readFileSync(path, 'utf8')
      } catch {
        return undefined
      }
    },
    home: env.HOME || homedir(),
    osUser,
  }
}

export function versionLine(): string {
  return `lifeboat ${TOOL_VERSION} (node ${process.version})`
}

export async function runJob(
  spec: JobSpec,
  argv = process.argv.slice(2),
  env: Env = process.env,
): Promise<number> {
  const json = argv.includes('--json')
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(renderCommandHelp(spec.name))
    return ExitCode.ok
  }
  if (argv.includes('--version') || argv.includes('-V')) {
    process.stdout.write(`${versionLine()}\n`)
    return ExitCode.ok
  }
  let parsed: ReturnType<typeof parseCommandLine>
  try {
    parsed = parseCommandLine(spec.name, argv)
  } catch (error) {
    // A typo never reaches the alert path or the audit trail: nothing ran.
    const failure = toLifeboatError(error)
    printError(spec.name, failure, json)
    await appendStepSummary(env, errorMarkdown(spec.name, failure), () => {})
    return failure.exitCode
  }
  const quiet = parsed.flags.quiet === true
  const live = Boolean(process.stderr.isTTY) && !env.CI && !json
  const reader = new SettingsReader(env)
  const intervalSeconds = reader.number(SETTINGS.progressInterval)
  const progress = createProgressRenderer(process.stderr, {
    live,
    quiet,
    intervalMs: intervalSeconds * 1000,
  })
  const log = (line: string) => process.stderr.write(`${redact(line)}\n`)
  const interrupt = interruptOnSignals()
  const context: JobContext = {
    args: parsed.flags,
    positional: parsed.positional,
    env,
    host: systemHost(env),
    emit: progress.emit,
    json,
    log,
    signal: interrupt.signal,
  }
  const startedAt = new Date()
  let result: JobResult | undefined
  let failure: LifeboatError | undefined
  try {
    reader.finish()
    result = await spec.run(context)
  } catch (error) {
    failure = toLifeboatError(error)
  } finally {
    progress.close()
    interrupt.dispose()
  }
  if (spec.after) {
    await spec
      .after(context, { ...(result ? { result } : {}), ...(failure ? { error: failure } : {}), startedAt })
      .catch((error) => log(`warning: after ${spec.name}: ${(error as Error).message}`))
  }
  const markdown = failure ? errorMarkdown(spec.name, failure) : result?.markdown
  if (markdown) await appendStepSummary(env, markdown, log)
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
      error: {
        code: error.code,
        message,
        hint: error.hint,
        runbook: error.runbook,
        // Usage and configuration errors never page nor count as a failed run (docs/alerts.md).
        ...(error.exitCode === ExitCode.usage ? { usage: true } : {}),
      },
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
export function main(spec: JobSpec, argv = process.argv.slice(2)): void {
  // The AWS SDK's documented switch for its multi-line Node 20 notice (aws-sdk-js-v3#7983).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  runJob(spec, argv).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`lifeboat ${spec.name}: ${redact(String(error))}\n`)
      process.exit(1)
    },
  )
}

/** True when the module at `url` is the script node was started with (`tsx jobs/backup.ts`). */
export function isMainModule(url: string): boolean {
  const script = process.argv[1]
  if (!script) return false
  try {
    return pathToFileURL(realpathSync(script)).href === url
  } catch {
    return false
  }
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
