// The DR test's smoke checks: a user's SQL file of statements separated by `;`, each
// returning one boolean (true = pass). Splitting and judging are pure; running is not.
import { LifeboatError } from '../core/errors.ts'

export interface SmokeCheck {
  /** The comment line(s) just above the statement, else its first line. */
  name: string
  sql: string
  /** 1-based line of the statement in the file, for messages. */
  line: number
}

/**
 * Splits at `;` outside quotes ('…', "…", $tag$…$tag$) and comments (`--`, `/* *\/`),
 * so a check may hold any SQL. A statement of comments only is not a check.
 */
export function parseSmokeChecks(text: string, where = 'the checks file'): SmokeCheck[] {
  const checks: SmokeCheck[] = []
  let start = 0
  let i = 0
  const flush = (end: number) => {
    const chunk = text.slice(start, end)
    const check = toCheck(chunk, lineAt(text, start))
    if (check) checks.push(check)
    start = end + 1
  }
  while (i < text.length) {
    const c = text[i]!
    if (c === '-' && text[i + 1] === '-') {
      const eol = text.indexOf('\n', i)
      i = eol === -1 ? text.length : eol + 1
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2)
      if (end === -1) throw new LifeboatError('CONFIG_INVALID', `${where}: a /* comment is never closed`)
      i = end + 2
    } else if (c === "'" || c === '"') {
      const end = closingQuote(text, i, c)
      if (end === -1)
        throw new LifeboatError(
          'CONFIG_INVALID',
          `${where}: a ${c} quote opened on line ${lineAt(text, i)} is never closed`,
        )
      i = end + 1
    } else if (c === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i))?.[0]
      if (tag) {
        const end = text.indexOf(tag, i + tag.length)
        if (end === -1)
          throw new LifeboatError(
            'CONFIG_INVALID',
            `${where}: ${tag} opened on line ${lineAt(text, i)} is never closed`,
          )
        i = end + tag.length
      } else i++
    } else if (c === ';') {
      flush(i)
      i++
    } else i++
  }
  flush(text.length)
  return checks
}

function closingQuote(text: string, from: number, quote: string): number {
  let i = from + 1
  while (i < text.length) {
    if (text[i] === quote) {
      if (text[i + 1] === quote)
        i += 2 // '' and "" escape the quote
      else return i
    } else i++
  }
  return -1
}

function lineAt(text: string, index: number): number {
  let line = 1
  for (let i = 0; i < index; i++) if (text[i] === '\n') line++
  return line
}

function toCheck(chunk: string, firstLine: number): SmokeCheck | undefined {
  const lines = chunk.split('\n')
  const comments: string[] = []
  let offset = 0
  // Leading blank and comment lines: the comment block right above the SQL names the check.
  for (const line of lines) {
    const trimmed = line.trim()
    if (trimmed === '') comments.length = 0
    else if (trimmed.startsWith('--'))
      comments.push(trimmed.replace(/^--+\s*/, '').replace(/^(name|check):\s*/i, ''))
    else break
    offset++
  }
  const sql = lines.slice(offset).join('\n').trim()
  if (sql === '' || stripComments(sql).trim() === '') return undefined
  const label = comments.filter(Boolean).join(' ')
  const name = label || sql.split('\n')[0]!.trim().slice(0, 80)
  return { name, sql, line: firstLine + offset }
}

function stripComments(sql: string): string {
  return sql.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '')
}

/** A check passes when it returns exactly one row of one column holding true. */
export function judgeSmokeCheck(rows: readonly Record<string, unknown>[]): { ok: boolean; detail: string } {
  if (rows.length !== 1)
    return { ok: false, detail: `returned ${rows.length} rows; a check must return one boolean` }
  const values = Object.values(rows[0]!)
  if (values.length !== 1) {
    return { ok: false, detail: `returned ${values.length} columns; a check must return one boolean` }
  }
  const value = values[0]
  if (value === true) return { ok: true, detail: 'true' }
  if (value === false) return { ok: false, detail: 'returned false' }
  return { ok: false, detail: `returned ${value === null ? 'NULL' : JSON.stringify(value)}, not a boolean` }
}
