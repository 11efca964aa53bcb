// The careful half of the NDJSON -> COPY conversion: what the fast loop hands over when
// a line is not exactly as PostgreSQL writes it (whitespace, another spelling of a key)
// or is wrong, with the precise reason and line for ARCHIVE_CORRUPT. Pure.
import { LifeboatError } from '../core/errors.ts'
import type { LineContext } from './ndjson-lines.ts'

const QUOTE = 0x22
const BACKSLASH = 0x5c
const NEWLINE = 0x0a
const TAB = 0x09
const CR = 0x0d
const SPACE = 0x20

/** `{` with optional whitespace before it, for a table without columns. */
export function readOpenSlowly(
  src: Buffer,
  i: number,
  ctx: LineContext,
  rows: number,
  lineStart: number,
): number {
  i = skipSpace(src, i)
  if (src[i] !== 0x7b) {
    throw failAt(ctx, rows, i - lineStart, src[i] === NEWLINE ? 'empty line' : 'malformed JSON: expected {')
  }
  return i + 1
}

/** `{` or `,`, the key, `:` and any whitespace, or the precise reason they are wrong. */
export function readPrefixSlowly(
  src: Buffer,
  i: number,
  k: number,
  ctx: LineContext,
  rows: number,
  lineStart: number,
): number {
  const missing = `missing column "${ctx.names[k]}"`
  if (k === 0) {
    i = readOpenSlowly(src, i, ctx, rows, lineStart)
  } else {
    i = skipSpace(src, i)
    if (src[i] === 0x7d) throw failAt(ctx, rows, i - lineStart, missing)
    if (src[i] !== 0x2c) throw failAt(ctx, rows, i - lineStart, 'malformed JSON: expected , or }')
    i++
  }
  i = skipSpace(src, i)
  if (src[i] === 0x7d) throw failAt(ctx, rows, i - lineStart, missing)
  if (src[i] !== QUOTE) throw failAt(ctx, rows, i - lineStart, 'malformed JSON: expected a key')
  const prefix = ctx.prefixes[k]!
  // The key's bytes in the prefix sit between the leading `{`/`,` and the trailing `:`.
  const keyLength = prefix.length - 2
  let m = 0
  while (m < keyLength && src[i + m] === prefix[m + 1]) m++
  if (m === keyLength) {
    i += keyLength
  } else {
    const next = matchKeySlowly(src, i, ctx.names[k]!)
    if (typeof next === 'string') throw failAt(ctx, rows, i - lineStart, next)
    i = next
  }
  i = skipSpace(src, i)
  if (src[i] !== 0x3a) throw failAt(ctx, rows, i - lineStart, 'malformed JSON: expected :')
  return skipSpace(src, i + 1)
}

/** `}` and the newline, with optional whitespace, or the precise reason they are wrong. */
export function readCloseSlowly(
  src: Buffer,
  i: number,
  ctx: LineContext,
  rows: number,
  lineStart: number,
): number {
  i = skipSpace(src, i)
  if (src[i] === 0x2c) {
    throw failAt(ctx, rows, i - lineStart, `more keys than the ${ctx.prefixes.length} expected columns`)
  }
  if (src[i] !== 0x7d) throw failAt(ctx, rows, i - lineStart, 'malformed JSON: expected }')
  i = skipSpace(src, i + 1)
  if (src[i] !== NEWLINE) throw failAt(ctx, rows, i - lineStart, 'trailing garbage after the object')
  return i + 1
}

/** JSON whitespace between tokens (a newline ends the line instead). */
export function skipSpace(src: Buffer, i: number): number {
  let c = src[i]
  while (c === SPACE || c === TAB || c === CR) c = src[++i]
  return i
}

/**
 * Another writer may encode a key differently (`\u0061` for `a`): decode the key
 * properly and compare names before calling it a mismatch. Off the hot path.
 */
function matchKeySlowly(src: Buffer, i: number, expected: string): number | string {
  let j = i + 1
  for (;;) {
    const c = src[j]!
    if (c === QUOTE) break
    if (c < 0x20) return 'malformed JSON: bad key'
    j += c === BACKSLASH ? 2 : 1
  }
  let name: unknown
  try {
    name = JSON.parse(src.toString('utf8', i, j + 1))
  } catch {
    return 'malformed JSON: bad key'
  }
  return name === expected ? j + 1 : `expected column "${expected}", found "${String(name)}"`
}

/** Built at the throw site, so the hot loop shares no variables with a closure. */
export function failAt(ctx: LineContext, rows: number, column: number, what: string): LifeboatError {
  ctx.rows = rows
  return corrupt(ctx, rows + 1, `${what} (byte ${column + 1})`)
}

export function corrupt(ctx: { file: string }, line: number, what: string): LifeboatError {
  return new LifeboatError('ARCHIVE_CORRUPT', `${ctx.file}: line ${line}: ${what}`)
}

/** A value that is neither a string nor null, or missing. */
export function notAValue(
  ctx: LineContext,
  rows: number,
  column: number,
  k: number,
  c: number | undefined,
): LifeboatError {
  const what =
    c === 0x2c || c === 0x7d || c === NEWLINE
      ? `malformed JSON: no value for column "${ctx.names[k]}"`
      : `value of column "${ctx.names[k]}" is not a string or null`
  return failAt(ctx, rows, column, what)
}
