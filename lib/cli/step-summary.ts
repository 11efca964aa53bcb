// GitHub Actions' job summary: Markdown appended to $GITHUB_STEP_SUMMARY shows on the
// run's page. Backup, verify, restore, clean, drill, DR test and report write one; a
// failed command writes its error, usage errors included (they never page anyone).
import { appendFile } from 'node:fs/promises'
import type { Env } from '../core/config.ts'
import { ExitCode, type LifeboatError } from '../core/errors.ts'
import { redact } from '../core/secret.ts'

export async function appendStepSummary(
  env: Env,
  markdown: string,
  log: (line: string) => void,
): Promise<void> {
  const path = env.GITHUB_STEP_SUMMARY
  if (!path) return
  try {
    await appendFile(path, `${redact(markdown.trimEnd())}\n\n`)
  } catch (error) {
    log(`warning: cannot append to GITHUB_STEP_SUMMARY: ${(error as Error).message}`)
  }
}

export function errorMarkdown(job: string, error: LifeboatError): string {
  const kind =
    error.exitCode === ExitCode.usage ? 'bad usage or configuration (exit 2, no alert sent)' : 'failed'
  return [
    `### ❌ lifeboat ${job}: ${kind}`,
    '',
    `**${error.code}**: ${escapeCell(error.message)}`,
    '',
    `${error.hint} See [${error.runbook}](${error.runbook}).`,
  ].join('\n')
}

/** A Markdown table; cells are escaped so a table name with `|` cannot break it. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  right: readonly number[] = [],
): string {
  const align = header.map((_, i) => (right.includes(i) ? '---:' : '---'))
  return [header, align, ...rows].map((cells) => `| ${cells.map(escapeCell).join(' | ')} |`).join('\n')
}

export function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ')
}
