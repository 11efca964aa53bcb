// The restore's hot loop: complete NDJSON lines (values as JSON strings of their text
// output) into PostgreSQL COPY text rows, byte by byte and a word at a time, with no
// JSON.parse; escapes and every deviation from the format go to functions off the loop. Pure.
import {
  failAt,
  notAValue,
  readCloseSlowly,
  readOpenSlowly,
  readPrefixSlowly,
  skipSpace,
} from './ndjson-slow-paths.ts'

const QUOTE = 0x22
const BACKSLASH = 0x5c
const NEWLINE = 0x0a
const TAB = 0x09
const CR = 0x0d

/** Bytes that end a plain run inside a JSON string: `"`, `\` and raw control characters. */
const STOP = new Uint8Array(256)
for (let c = 0; c < 0x20; c++) STOP[c] = 1
STOP[QUOTE] = 1
STOP[BACKSLASH] = 1

const HEX = new Int8Array(256).fill(-1)
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = 10 + c
  HEX[0x61 + c] = 10 + c
}

export interface LineContext {
  readonly file: string
  readonly names: readonly string[]
  /** Each key as PostgreSQL's JSON writes it, with what precedes and follows it: `{"id":`, `,"name":`. */
  readonly prefixes: readonly Uint8Array[]
  /** The same bytes as little-endian 32-bit words (the tail that does not fill a word is left out). */
  readonly prefixWords: readonly Int32Array[]
  /** Lines converted before this call; the error's line number counts from it. */
  rows: number
  /** Where the input continues after an escape (writeEscape's second result). */
  next: number
}

/** The context of one file's conversion: its keys as bytes and as words. */
export function lineContext(file: string, columns: readonly string[]): LineContext {
  const prefixes = columns.map((name, k) => Buffer.from(`${k === 0 ? '{' : ','}${JSON.stringify(name)}:`))
  return {
    file,
    names: [...columns],
    prefixes,
    prefixWords: prefixes.map((prefix) => {
      const words = new Int32Array(prefix.length >> 2)
      for (let w = 0; w < words.length; w++) words[w] = prefix.readInt32LE(w * 4)
      return words
    }),
    rows: 0,
    next: 0,
  }
}

/**
 * Converts newline-terminated lines; the caller guarantees `src[end - 1]` is `\n`.
 * That newline is a sentinel: it stops every scan (it is a control byte, never
 * valid inside a token), so the byte loops need no bounds checks. Output is never
 * longer than the input consumed so far (every escape keeps or shrinks its size),
 * so `out` needs `end - start` free bytes from `outStart`, and a 4-byte word
 * written at `o` while `i + 4 <= end` always fits. Returns the new output offset.
 */
export function convertLines(
  src: Buffer,
  start: number,
  end: number,
  out: Buffer,
  outStart: number,
  ctx: LineContext,
): number {
  // Word-at-a-time: on these machines a V8 byte-copy loop costs ~1.5 ns per byte, a
  // DataView word load + bit test + word store ~0.65 ns per byte (bench/convert.ts).
  const sv = new DataView(src.buffer, src.byteOffset, src.byteLength)
  const ov = new DataView(out.buffer, out.byteOffset, out.byteLength)
  const prefixes = ctx.prefixes
  const prefixWords = ctx.prefixWords
  const columnCount = prefixes.length
  let i = start
  let o = outStart
  let rows = ctx.rows
  let lineStart = start
  let c = 0

  while (i < end) {
    lineStart = i
    if (columnCount === 0) i = readOpenSlowly(src, i, ctx, rows, lineStart)

    for (let k = 0; k < columnCount; k++) {
      // `{"key":` or `,"key":` as the server writes it; anything else (spaces, another
      // spelling of the key, an error) goes the slow, careful way.
      const after = afterPrefix(src, sv, i, end, prefixes[k]!, prefixWords[k]!)
      i = after >= 0 ? after : readPrefixSlowly(src, i, k, ctx, rows, lineStart)
      if (k > 0) out[o++] = TAB

      c = src[i]!
      if (c !== QUOTE && c !== 0x6e) {
        i = skipSpace(src, i)
        c = src[i]!
      }
      if (c === QUOTE) {
        i++
        for (;;) {
          // Copy whole words while none of their bytes is `"`, `\` or a control byte
          // (the exact "has byte less than / equal to" bit tricks).
          while (i + 4 <= end) {
            const w = sv.getInt32(i, true)
            const q = w ^ 0x22222222
            const b = w ^ 0x5c5c5c5c
            if ((((w - 0x20202020) & ~w) | ((q - 0x01010101) & ~q) | ((b - 0x01010101) & ~b)) & 0x80808080)
              break
            ov.setInt32(o, w, true)
            i += 4
            o += 4
          }
          c = src[i]!
          while (STOP[c] === 0) {
            out[o++] = c
            c = src[++i]!
          }
          if (c === QUOTE) {
            i++
            break
          }
          o = writeEscape(src, i, out, o, ctx, rows, lineStart)
          i = ctx.next
        }
      } else if (c === 0x6e && src[i + 1] === 0x75 && src[i + 2] === 0x6c && src[i + 3] === 0x6c) {
        out[o++] = BACKSLASH
        out[o++] = 0x4e
        i += 4
      } else throw notAValue(ctx, rows, i - lineStart, k, c)
    }

    i = src[i] === 0x7d && src[i + 1] === NEWLINE ? i + 2 : readCloseSlowly(src, i, ctx, rows, lineStart)
    out[o++] = NEWLINE
    rows++
  }
  ctx.rows = rows
  return o
}

/** `{"key":` at `i` as the server writes it: the offset after it, or -1 (the slow, careful way then). */
function afterPrefix(
  src: Buffer,
  sv: DataView,
  i: number,
  end: number,
  prefix: Uint8Array,
  words: Int32Array,
): number {
  const length = prefix.length
  if (i + length > end) return -1
  let p = 0
  for (let w = 0; w < words.length; w++, p += 4) if (sv.getInt32(i + p, true) !== words[w]) return -1
  for (; p < length; p++) if (src[i + p] !== prefix[p]) return -1
  return i + length
}

/**
 * The escape at `src[i]` (a backslash, or the control byte or newline that makes the
 * string malformed) as COPY text; returns the output offset and leaves the input
 * offset after the escape in `ctx.next`. Off the plain-run loop, called per escape.
 */
function writeEscape(
  src: Buffer,
  i: number,
  out: Buffer,
  o: number,
  ctx: LineContext,
  rows: number,
  lineStart: number,
): number {
  if (src[i] !== BACKSLASH) {
    const what = src[i] === NEWLINE ? 'unterminated string' : 'raw control character in a string'
    throw failAt(ctx, rows, i - lineStart, what)
  }
  const c = src[i + 1]!
  ctx.next = i + 2
  switch (c) {
    case QUOTE:
    case 0x2f: // \/
      out[o++] = c
      return o
    case BACKSLASH:
      out[o++] = BACKSLASH
      out[o++] = BACKSLASH
      return o
    case 0x6e: // \n stays \n in COPY text, as do \r and \t
    case 0x72:
    case 0x74:
      out[o++] = BACKSLASH
      out[o++] = c
      return o
    case 0x62: // \b: COPY passes control bytes other than tab, LF, CR through
      out[o++] = 0x08
      return o
    case 0x66: // \f
      out[o++] = 0x0c
      return o
    case 0x75:
      return writeUnicodeEscape(src, i, out, o, ctx, rows, lineStart)
    default:
      throw failAt(ctx, rows, i - lineStart, 'malformed JSON: invalid escape')
  }
}

/** `\uXXXX` (a surrogate pair: two of them) as UTF-8, or COPY's escape for \, LF, CR, tab. */
function writeUnicodeEscape(
  src: Buffer,
  i: number,
  out: Buffer,
  o: number,
  ctx: LineContext,
  rows: number,
  lineStart: number,
): number {
  let cp = hex4(src, i + 2)
  if (cp < 0) throw failAt(ctx, rows, i - lineStart, 'malformed \\u escape')
  let next = i + 6
  if (cp >= 0xd800 && cp < 0xdc00) {
    const low = src[i + 6] === BACKSLASH && src[i + 7] === 0x75 ? hex4(src, i + 8) : -1
    if (low < 0xdc00 || low > 0xdfff) {
      throw failAt(ctx, rows, i - lineStart, 'unpaired surrogate in \\u escape')
    }
    cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00)
    next += 6
  } else if (cp >= 0xdc00 && cp < 0xe000) {
    throw failAt(ctx, rows, i - lineStart, 'unpaired surrogate in \\u escape')
  } else if (cp === 0) {
    throw failAt(ctx, rows, i - lineStart, '\\u0000 cannot be stored in PostgreSQL text')
  }
  ctx.next = next
  return writeCodePoint(out, o, cp)
}

/** Four hex digits as a number, or -1; stops at the first non-digit (the sentinel newline is one). */
function hex4(src: Buffer, i: number): number {
  let value = 0
  for (let n = 0; n < 4; n++) {
    const digit = HEX[src[i + n]!]!
    if (digit < 0) return -1
    value = (value << 4) | digit
  }
  return value
}

function writeCodePoint(out: Uint8Array, o: number, cp: number): number {
  if (cp < 0x80) {
    if (cp === BACKSLASH) {
      out[o++] = BACKSLASH
      out[o++] = BACKSLASH
    } else if (cp === NEWLINE) {
      out[o++] = BACKSLASH
      out[o++] = 0x6e
    } else if (cp === CR) {
      out[o++] = BACKSLASH
      out[o++] = 0x72
    } else if (cp === TAB) {
      out[o++] = BACKSLASH
      out[o++] = 0x74
    } else {
      out[o++] = cp
    }
  } else if (cp < 0x800) {
    out[o++] = 0xc0 | (cp >> 6)
    out[o++] = 0x80 | (cp & 0x3f)
  } else if (cp < 0x10000) {
    out[o++] = 0xe0 | (cp >> 12)
    out[o++] = 0x80 | ((cp >> 6) & 0x3f)
    out[o++] = 0x80 | (cp & 0x3f)
  } else {
    out[o++] = 0xf0 | (cp >> 18)
    out[o++] = 0x80 | ((cp >> 12) & 0x3f)
    out[o++] = 0x80 | ((cp >> 6) & 0x3f)
    out[o++] = 0x80 | (cp & 0x3f)
  }
  return o
}
