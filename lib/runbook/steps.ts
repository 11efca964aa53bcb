// A runbook as a list of steps: its tested blocks, grouped by the heading they stand
// under, each step asking before it runs unless all its blocks only read. Pure.
import { type DocBlock, psqlCommand, readMarkdown } from './markdown.ts'

export interface RunbookStep {
  /** 1-based, in the order of the file. */
  number: number
  title: string
  /** True when a block is not marked `read-only`: the step may change something. */
  changes: boolean
  /** Shell text of each block, sql blocks already wrapped in psql. */
  scripts: string[]
  /** `runbooks/x.md:42` of each block, for messages. */
  where: string[]
}

/** The steps of a runbook: tested blocks only; manual and ci blocks are for people. */
export function runbookSteps(markdown: string, file: string): RunbookStep[] {
  const blocks = readMarkdown(markdown, file).blocks.filter((b) => b.mode === 'tested')
  const steps: RunbookStep[] = []
  for (const block of blocks) {
    const title = block.step ?? file
    let step = steps.at(-1)
    if (!step || step.title !== title) {
      step = { number: steps.length + 1, title, changes: false, scripts: [], where: [] }
      steps.push(step)
    }
    if (!block.words.includes('read-only')) step.changes = true
    step.scripts.push(scriptOf(block))
    step.where.push(`${block.file}:${block.line}`)
  }
  return steps
}

function scriptOf(block: DocBlock): string {
  return block.language === 'sql' ? psqlCommand(block) : block.text.trimEnd()
}
