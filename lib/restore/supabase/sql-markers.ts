// Marks, in schema.sql, the statements a restore into a new Supabase project leaves out
// (what the project's services manage), as line blocks a person can drop with sed when
// Lifeboat itself cannot run: runbooks/manual-restore.md, step 7. The same filter as the
// automated path (schema-filter.ts), decided at backup time for a new project.
import { classifyStatements } from '../../trust/schema-statements.ts'
import type { SqlParser } from '../../trust/sql-parser-thread.ts'
import { type RawStatement, splitSqlScript } from '../../trust/sql-script.ts'
import { appStatementFilter, type ProjectObjects } from './schema-filter.ts'

export const MANAGED_BEGIN = '-- lifeboat:supabase-managed begin'
export const MANAGED_END = '-- lifeboat:supabase-managed end'
const BEGIN_LINE = `${MANAGED_BEGIN} (a new Supabase project has this: runbooks/manual-restore.md step 7 leaves it out)`

/** What every new project has: the Realtime publication, the extensions its image creates. */
export const NEW_PROJECT: ProjectObjects = {
  publications: new Set(['supabase_realtime']),
  extensions: new Set([
    'plpgsql',
    'pg_graphql',
    'pg_stat_statements',
    'pgcrypto',
    'pgjwt',
    'supabase_vault',
    'uuid-ossp',
  ]),
}

export interface MarkedSql {
  text: string
  /** Blocks marked. */
  blocks: number
  /** Why statements a new project has are left unmarked (none in practice): one line each. */
  unmarked: string[]
}

interface Block {
  first: RawStatement
  last: RawStatement
}

/** Runs of consecutive left-out statements, split at the post-data marker and at stripped lines. */
function blocksOf(raw: readonly RawStatement[], leftOut: ReadonlySet<number>, stripped: readonly number[]) {
  const blocks: Block[] = []
  let current: Block | undefined
  for (const statement of raw) {
    if (!leftOut.has(statement.index)) {
      current = undefined
      continue
    }
    const joins =
      current !== undefined &&
      current.last.postData === statement.postData &&
      !stripped.some((line) => line > current!.last.endLine && line < statement.line)
    if (current && joins) current.last = statement
    else {
      current = { first: statement, last: statement }
      blocks.push(current)
    }
  }
  return blocks
}

/** A block is marked by whole lines: no kept (or refused) statement may share one of them. */
function sharesLines(block: Block, raw: readonly RawStatement[]): boolean {
  const before = raw[raw.indexOf(block.first) - 1]
  const after = raw[raw.indexOf(block.last) + 1]
  return (
    (before !== undefined && before.endLine >= block.first.line) ||
    (after !== undefined && after.line <= block.last.endLine)
  )
}

/** `text` with marker lines around each left-out block. */
export async function markManagedStatements(
  text: string,
  project: ProjectObjects = NEW_PROJECT,
  /** A parser started earlier, left open (splitSqlScript). */
  parser?: SqlParser,
): Promise<MarkedSql> {
  // A line that looks like a marker already (inside a function body, say) would mislead sed:
  // then nothing is marked, and the backup says why.
  if (/^-- lifeboat:supabase-managed (?:begin|end)/m.test(text))
    return {
      text,
      blocks: 0,
      unmarked: ['a line of the file already starts like a marker, so nothing is marked'],
    }
  const script = await splitSqlScript(text, parser)
  // Refused statements (the restore would refuse the archive) are never left out by a marker.
  const { statements } = classifyStatements(script.statements, script.markerLine !== undefined)
  const keep = appStatementFilter(project)
  const leftOut = new Set(statements.filter((s) => !keep(s)).map((s) => s.index))
  const lines = text.split('\n')
  const unmarked: string[] = []
  const inserts = new Map<number, string[]>()
  let blocks = 0
  for (const block of blocksOf(script.statements, leftOut, script.strippedLines)) {
    if (sharesLines(block, script.statements)) {
      unmarked.push(`line ${block.first.line}: it shares a line with a statement that stays`)
      continue
    }
    blocks++
    inserts.set(block.first.line - 1, [...(inserts.get(block.first.line - 1) ?? []), 'B'])
    inserts.set(block.last.endLine, [...(inserts.get(block.last.endLine) ?? []), 'E'])
  }
  const out: string[] = []
  lines.forEach((line, index) => {
    for (const mark of inserts.get(index) ?? []) out.push(mark === 'B' ? BEGIN_LINE : MANAGED_END)
    out.push(line)
  })
  for (const mark of inserts.get(lines.length) ?? []) out.push(mark === 'B' ? BEGIN_LINE : MANAGED_END)
  return { text: out.join('\n'), blocks, unmarked }
}
