// Splits a SQL script into statements with PostgreSQL's own parser (libpg-query, the
// server's grammar compiled to WASM), never with regular expressions: each statement's
// exact text, line and parse tree, plus the `-- lifeboat:post-data` marker between them.
import { POST_DATA_MARKER } from '../archive/schema-sql.ts'
import { LifeboatError } from '../core/errors.ts'
import { openSqlParser, SqlParseError, type SqlParser } from './sql-parser-thread.ts'

export { POST_DATA_MARKER }

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

function refused(message: string): LifeboatError {
  return new LifeboatError('SCHEMA_SQL_REFUSED', message)
}

function lineAt(text: string, index: number): number {
  let line = 1
  for (let at = text.indexOf('\n'); at !== -1 && at < index; at = text.indexOf('\n', at + 1)) line++
  return line
}

/** Line numbers of byte offsets, by binary search over the newlines (linear scans per statement would be quadratic). */
function lineIndex(bytes: Buffer): (offset: number) => number {
  const newlines: number[] = []
  for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) newlines.push(at)
  return (offset) => {
    let low = 0
    let high = newlines.length
    while (low < high) {
      const mid = (low + high) >> 1
      if (newlines[mid]! < offset) low = mid + 1
      else high = mid
    }
    return low + 1
  }
}

/** The parser counts error positions in characters (code points); JavaScript in UTF-16 units. */
function utf16Index(text: string, codePoints: number): number {
  let index = 0
  for (let n = 0; n < codePoints && index < text.length; n++)
    index += text.codePointAt(index)! > 0xffff ? 2 : 1
  return index
}

/** Parse in pieces of about this many characters: the parser's time and memory grow faster than the text. */
const CHUNK = 64 * 1024

/**
 * A piece ends right after a `;` at a line end. It is a statement boundary of the whole
 * text exactly when the piece parses: a cut inside a string, comment, dollar quote or
 * BEGIN ATOMIC body fails with "unterminated …" or "at end of input", and grows.
 */
function cutAfter(text: string, from: number): number {
  const at = text.indexOf(';\n', from)
  return at === -1 ? text.length : at + 1
}

/**
 * Parses the script piece by piece, blanking (not removing, so positions and lines stay)
 * each `\restrict` line the parser stops at. Any other meta-command, or any syntax
 * error, is refused. Locations come back as byte offsets into the whole (blanked) text.
 */
async function parseScript(
  source: string,
  parser: SqlParser,
): Promise<{ stmts: RawTreeStatement[]; text: string; stripped: number[] }> {
  let text = source
  const stripped: number[] = []
  const stmts: RawTreeStatement[] = []
  let start = 0
  let startByte = 0
  while (start < text.length) {
    let cut = cutAfter(text, start + CHUNK)
    let tree: { stmts?: RawTreeStatement[] }
    for (;;) {
      const piece = text.slice(start, cut)
      if (piece.trim() === '') {
        tree = {}
        break
      }
      try {
        tree = await parser.parse(piece)
        break
      } catch (error) {
        if (!(error instanceof SqlParseError)) throw error
        const message = error.message
        const at = start + utf16Index(piece, error.cursorPosition ?? 0)
        const lineStart = text.lastIndexOf('\n', at - 1) + 1
        const lineEnd = text.indexOf('\n', at) === -1 ? text.length : text.indexOf('\n', at)
        const line = text.slice(lineStart, lineEnd)
        if (text[at] === '\\' && RESTRICT_LINE.test(line) && text.slice(lineStart, at).trim() === '') {
          text = `${text.slice(0, lineStart)}${' '.repeat(line.length)}${text.slice(lineEnd)}`
          stripped.push(lineAt(text, at))
          continue
        }
        if (cut < text.length && /at end of input|unterminated/.test(message)) {
          cut = cutAfter(text, start + 2 * (cut - start))
          continue
        }
        if (text[at] === '\\') {
          throw refused(
            `schema.sql line ${lineAt(text, at)} is a psql meta-command ("${line.trim().slice(0, 60)}"); only \\restrict and \\unrestrict lines are skipped`,
          )
        }
        throw refused(`schema.sql does not parse at line ${lineAt(text, at)}: ${message}`)
      }
    }
    const pieceBytes = Buffer.byteLength(text.slice(start, cut))
    for (const entry of tree.stmts ?? []) {
      const location = entry.stmt_location ?? 0
      const length = entry.stmt_len || pieceBytes - location
      stmts.push({ stmt: entry.stmt, stmt_location: startByte + location, stmt_len: length })
    }
    startByte += pieceBytes
    start = cut
  }
  return { stmts, text, stripped }
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

/**
 * Splits a script into parsed statements; refuses what does not parse, NUL bytes, and a
 * second marker. A parser the caller started earlier (openSqlParser) is used and left
 * open; without one, a parser is started for this script and closed after it.
 */
export async function splitSqlScript(source: string, started?: SqlParser): Promise<SqlScript> {
  if (source.includes('\0')) throw refused('schema.sql contains a NUL byte, which would hide what follows it')
  const parser = started ?? openSqlParser()
  const parsing = parseScript(source, parser)
  const { stmts: raw, text, stripped } = await (started ? parsing : parsing.finally(() => parser.close()))
  // The parser's positions are byte offsets into the UTF-8 text.
  const bytes = Buffer.from(text, 'utf8')
  const lineOf = lineIndex(bytes)
  let marker: number | undefined
  const onComment = (comment: string, at: number) => {
    if (comment !== POST_DATA_MARKER) return
    if (marker !== undefined)
      throw refused(`schema.sql has a second "${POST_DATA_MARKER}" line at line ${lineOf(at)}`)
    marker = at
  }
  const statements: RawStatement[] = []
  let end = 0
  for (const [index, entry] of raw.entries()) {
    const from = entry.stmt_location ?? 0
    const to = entry.stmt_len ? from + entry.stmt_len : bytes.length
    // From the previous end: a piece of comments alone (no statement) still shows its marker.
    const first = skipTrivia(bytes, Math.min(end, from), to, onComment)
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
