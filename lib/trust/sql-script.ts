// Splits a SQL script into statements with PostgreSQL's own parser (libpg-query, the
// server's grammar compiled to WASM), never with regular expressions: each statement's
// exact text, line and parse tree, plus the `-- lifeboat:post-data` marker between them.
import { loadModule, parseSync } from 'libpg-query'
import { LifeboatError } from '../core/errors.ts'

export const POST_DATA_MARKER = '-- lifeboat:post-data'

/** One parsed statement, as the parser delimits it. */
export interface RawStatement {
  index: number
  /** The statement's text: from its first token to its end, without the `;`. */
  text: string
  /** 1-based lines of the statement's first and last characters. */
  line: number
  endLine: number
  /** The parse tree's node name (`CreateStmt`, `TransactionStmt`, …) and the node itself. */
  type: string
  node: Record<string, unknown>
  /** After the post-data marker. */
  postData: boolean
}

export interface SqlScript {
  statements: RawStatement[]
  /** Line of the post-data marker, if the script has one. */
  markerLine: number | undefined
  /** psql meta-commands pg_dump writes (`\restrict`), left out: the server never sees them. */
  strippedLines: number[]
}

/** The psql meta-commands recent pg_dump releases write around a dump (17.6, 16.10, 15.14). */
const RESTRICT_LINE = /^[ \t]*\\(?:un)?restrict[ \t]+[A-Za-z0-9]+[ \t]*$/

let loading: Promise<void> | undefined

/** Loads the parser (WASM, about 0.1 s and 20 MB once per process); call before splitSqlScript. */
export function loadSqlParser(): Promise<void> {
  loading ??= loadModule()
  return loading
}

function refused(message: string): LifeboatError {
  return new LifeboatError('SCHEMA_SQL_REFUSED', message)
}

function lineAt(text: string, index: number): number {
  let line = 1
  for (let at = text.indexOf('\n'); at !== -1 && at < index; at = text.indexOf('\n', at + 1)) line++
  return line
}

/** The parser counts error positions in characters (code points); JavaScript in UTF-16 units. */
function utf16Index(text: string, codePoints: number): number {
  let index = 0
  for (let n = 0; n < codePoints && index < text.length; n++)
    index += text.codePointAt(index)! > 0xffff ? 2 : 1
  return index
}

/**
 * Parses, blanking (not removing, so positions and lines stay) each `\restrict` line
 * the parser stops at. Any other meta-command, or any syntax error, is refused.
 */
function parseWithoutMetaCommands(source: string): {
  tree: { stmts?: RawTreeStatement[] }
  text: string
  stripped: number[]
} {
  let text = source
  const stripped: number[] = []
  for (;;) {
    try {
      return { tree: parseSync(text), text, stripped }
    } catch (error) {
      const details = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails
      const at = utf16Index(text, details?.cursorPosition ?? 0)
      const start = text.lastIndexOf('\n', at - 1) + 1
      const end = text.indexOf('\n', at) === -1 ? text.length : text.indexOf('\n', at)
      const line = text.slice(start, end)
      const line1 = lineAt(text, at)
      if (text[at] === '\\' && RESTRICT_LINE.test(line) && text.slice(start, at).trim() === '') {
        text = `${text.slice(0, start)}${' '.repeat(line.length)}${text.slice(end)}`
        stripped.push(line1)
        continue
      }
      if (text[at] === '\\') {
        throw refused(
          `schema.sql line ${line1} is a psql meta-command ("${line.trim().slice(0, 60)}"); only \\restrict and \\unrestrict lines are skipped`,
        )
      }
      throw refused(`schema.sql does not parse at line ${line1}: ${(error as Error).message}`)
    }
  }
}

interface RawTreeStatement {
  stmt: Record<string, unknown>
  stmt_location?: number
  stmt_len?: number
}

/**
 * Skips the whitespace and comments (`--`, nested `/* … *\/`) before a statement's
 * first token, in the byte range the parser gives it, and reports marker lines met.
 */
function skipTrivia(
  bytes: Buffer,
  from: number,
  to: number,
  onComment: (text: string, at: number) => void,
): number {
  let at = from
  while (at < to) {
    const c = bytes[at]!
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c || c === 0x3b) at++
    else if (c === 0x2d && bytes[at + 1] === 0x2d) {
      const end = bytes.indexOf(0x0a, at)
      const stop = end === -1 || end > to ? to : end
      onComment(bytes.subarray(at, stop).toString('utf8').trim(), at)
      at = stop
    } else if (c === 0x2f && bytes[at + 1] === 0x2a) {
      let depth = 0
      while (at < to) {
        if (bytes[at] === 0x2f && bytes[at + 1] === 0x2a) {
          depth++
          at += 2
        } else if (bytes[at] === 0x2a && bytes[at + 1] === 0x2f) {
          depth--
          at += 2
          if (depth === 0) break
        } else at++
      }
    } else break
  }
  return at
}

/** Splits a script into parsed statements; refuses what does not parse, NUL bytes, and a second marker. */
export function splitSqlScript(source: string): SqlScript {
  if (source.includes('\0')) throw refused('schema.sql contains a NUL byte, which would hide what follows it')
  const { tree, text, stripped } = parseWithoutMetaCommands(source)
  // The parser's positions are byte offsets into the UTF-8 text.
  const bytes = Buffer.from(text, 'utf8')
  const lineOf = (offset: number) => lineAt(text, bytes.subarray(0, offset).toString('utf8').length)
  let marker: number | undefined
  const onComment = (comment: string, at: number) => {
    if (comment !== POST_DATA_MARKER) return
    if (marker !== undefined)
      throw refused(`schema.sql has a second "${POST_DATA_MARKER}" line at line ${lineOf(at)}`)
    marker = at
  }
  const raw = tree.stmts ?? []
  const statements: RawStatement[] = []
  let end = 0
  for (const [index, entry] of raw.entries()) {
    const from = entry.stmt_location ?? 0
    const to = entry.stmt_len ? from + entry.stmt_len : bytes.length
    const first = skipTrivia(bytes, from, to, onComment)
    const [type, node] = Object.entries(entry.stmt)[0] as [string, Record<string, unknown>]
    const statementText = bytes.subarray(first, to).toString('utf8').trimEnd()
    statements.push({
      index,
      text: statementText,
      line: lineOf(first),
      endLine: lineOf(first + Buffer.byteLength(statementText)),
      type,
      node,
      postData: marker !== undefined && marker < first,
    })
    end = to
  }
  skipTrivia(bytes, end, bytes.length, onComment)
  return {
    statements,
    markerLine: marker === undefined ? undefined : lineOf(marker),
    strippedLines: stripped,
  }
}
