// `lifeboat <command> [options]`: finds the command, loads only its module (and what
// it imports), and hands it to the harness. --help, --version and completion scripts
// need no command module at all.
import process from 'node:process'
import { ExitCode } from '../core/errors.ts'
import { TOOL_VERSION } from '../core/version.ts'
import { findCommand } from '../settings/commands.ts'
import { COMPLETION_HELP, renderCompletion } from '../settings/completion.ts'
import { renderCommandHelp, renderMainHelp } from '../settings/help.ts'
import type { CommandName } from '../settings/types.ts'
import { type JobSpec, main, versionLine } from './run-job.ts'

/** One dynamic import per command: a bundler splits each into its own chunk. */
const LOADERS: Record<CommandName, () => Promise<{ job: JobSpec }>> = {
  backup: () => import('../../jobs/backup.ts'),
  restore: () => import('../../jobs/restore.ts'),
  list: () => import('../../jobs/list.ts'),
  show: () => import('../../jobs/show.ts'),
  verify: () => import('../../jobs/verify.ts'),
  clean: () => import('../../jobs/clean.ts'),
  monitor: () => import('../../jobs/monitor.ts'),
  audit: () => import('../../jobs/audit.ts'),
  drill: () => import('../../jobs/drill.ts'),
  'dr-test': () => import('../../jobs/dr-test.ts'),
  report: () => import('../../jobs/report.ts'),
  doctor: () => import('../../jobs/doctor.ts'),
  demo: () => import('../../jobs/demo.ts'),
  'alert-test': () => import('../../jobs/alert-test.ts'),
}

export async function runLifeboat(argv: readonly string[]): Promise<void> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' && rest[0] ? findCommand(rest[0]) : undefined
    if (name === 'help' && rest[0] && !topic) return unknownCommand(rest[0])
    process.stdout.write(topic ? renderCommandHelp(topic.name) : renderMainHelp(TOOL_VERSION))
    process.exitCode = name === undefined ? ExitCode.usage : ExitCode.ok
    return
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`${versionLine()}\n`)
    return
  }
  if (name === 'completion') {
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(COMPLETION_HELP)
      return
    }
    const script = renderCompletion(rest[0] ?? '')
    if (script === undefined) {
      process.stderr.write(
        'lifeboat completion: error USAGE: say which shell: lifeboat completion bash|zsh\n',
      )
      process.exitCode = ExitCode.usage
      return
    }
    process.stdout.write(script)
    return
  }
  const command = findCommand(name)
  if (!command) return unknownCommand(name)
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(renderCommandHelp(command.name))
    return
  }
  const { job } = await LOADERS[command.name]()
  main(job, rest)
}

function unknownCommand(name: string): void {
  process.stderr.write(
    `lifeboat: error USAGE: unknown command "${name}"; \`lifeboat --help\` lists the commands\n`,
  )
  process.exitCode = ExitCode.usage
}
