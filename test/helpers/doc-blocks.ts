// The docs tests' view of Markdown: the parser the runbook runner uses
// (lib/runbook/markdown.ts), and the Markdown files of a folder.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  type DocBlock,
  type MarkdownFacts,
  psqlCommand,
  readMarkdown,
  shellQuote,
} from '../../lib/runbook/markdown.ts'

export * from '../../lib/runbook/markdown.ts'

/** Markdown files under a folder (not recursive), sorted. */
export function markdownFiles(folder: string): string[] {
  return readdirSync(folder)
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => join(folder, name))
}

export function readMarkdownFile(path: string, shownAs = path): MarkdownFacts {
  return readMarkdown(readFileSync(path, 'utf8'), shownAs)
}

/**
 * One bash script running the tested blocks in order, as a person pasting them into one
 * terminal would (cd and variables carry over). Before each block its number goes to
 * `progressFile`, and `done` after the last one, so a failure names its block.
 */
export function sessionScript(blocks: readonly DocBlock[], progressFile: string): string {
  const parts = ['set -euo pipefail', `__progress=${shellQuote(progressFile)}`]
  blocks.forEach((block, index) => {
    parts.push(`printf '%s\\n' ${index} > "$__progress"`)
    parts.push(`echo ${shellQuote(`::: ${block.file}:${block.line} (${block.language})`)} >&2`)
    parts.push(block.language === 'sql' ? psqlCommand(block) : block.text.trimEnd())
  })
  parts.push(`printf 'done\\n' > "$__progress"`)
  return `${parts.join('\n')}\n`
}
