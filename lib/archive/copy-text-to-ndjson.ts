// Turns `COPY … TO STDOUT` text-format output into archive NDJSON, byte for byte
// what `row_to_json` builds over each value's text output (PostgreSQL's escape_json),
// without parsing rows into values. The server's JSON functions cost four times a
// plain COPY (bench/README.md), so the server sends COPY text and this rewrites it. Pure.
import { Transform, type TransformCallback } from 'node:stream'
import { BLOCK_BYTES } from './block-gzip.ts'
import { BlockPool } from './block-pool.ts'

const TAB = 0x09
const NEWLINE = 0x0a
const BACKSLASH = 0x5c
const QUOTE = 0x22
const LETTER_N = 0x4e
const SPACE = 0x20
const SLICE_BYTES = 64 * 1024

/** What a raw byte becomes inside a JSON string, when it is not itself. */
const RAW_ESCAPES: (Buffer | undefined)[] = Array.from({ length: 256 }, (_, byte) => {
  if (byte === QUOTE) return Buffer.from('\\"')
  if (byte < 0x20) return Buffer.from(JSON.stringify(String.fromCharCode(byte)).slice(1, -1))
  return undefined
})

/** What COPY's backslash escapes (the only ones COPY TO writes) become in JSON. */
const COPY_ESCAPES: (Buffer | undefined)[] = Array.from({ length: 256 }, () => undefined)
for (const [letter, byte] of [
  ['b', 0x08],
  ['f', 0x0c],
  ['n', 0x0a],
  ['r', 0x0d],
  ['t', 0x09],
  ['v', 0x0b],
  ['\\', 0x5c],
] as const) {
  COPY_ESCAPES[letter.charCodeAt(0)] = Buffer.from(JSON.stringify(String.fromCharCode(byte)).slice(1, -1))
}

const NULL = Buffer.from('null')
const ROW_END = Buffer.from('}\n')

enum At {
  /** Nothing of the row written yet (it may not come: the stream can end here). */
  RowStart,
  /** The column's key is written, nothing of its value. */
  FieldStart,
  /** A backslash first in the field: `\N` (NULL) or an escape. */
  FieldStartBackslash,
  /** Inside a value; its opening quote is written. */
  Value,
  /** A backslash inside a value. */
  ValueBackslash,
  /** After `\N`: only a tab or a newline may follow. */
  AfterNull,
}

/** Buffer#copy costs more than a loop for the few bytes of a key or an escape. */
function put(bytes: Buffer, out: Buffer, at: number): number {
  for (let i = 0; i < bytes.length; i++) out[at + i] = bytes[i]!
  return at + bytes.length
}

/** A key prefix as little-endian 32-bit words plus its tail bytes: written a word at a time. */
interface Prefix {
  bytes: Buffer
  words: Int32Array
}

function prefixOf(bytes: Buffer): Prefix {
  const words = new Int32Array(bytes.length >> 2)
  for (let w = 0; w < words.length; w++) words[w] = bytes.readInt32LE(w * 4)
  return { bytes, words }
}

function putPrefix(prefix: Prefix, out: Buffer, view: DataView, at: number): number {
  const words = prefix.words
  let o = at
  for (let w = 0; w < words.length; w++, o += 4) view.setInt32(o, words[w]!, true)
  const bytes = prefix.bytes
  for (let p = words.length << 2; p < bytes.length; p++) out[o++] = bytes[p]!
  return o
}

/**
 * Whether a little-endian word holds a byte below 0x20, a `"` or a `\`: the exact
 * "has a byte less than / equal to" bit tricks (a false alarm only costs the slow path).
 */
function hasStopByte(w: number): boolean {
  const q = w ^ 0x22222222
  const b = w ^ 0x5c5c5c5c
  return ((((w - 0x20202020) & ~w) | ((q - 0x01010101) & ~q) | ((b - 0x01010101) & ~b)) & 0x80808080) !== 0
}

export class CopyTextError extends Error {}

/** Where the conversion stands between slices: the column and the place in it. */
interface ConverterState {
  /** `{"a":` for the first column, `,"b":` for the others. */
  readonly prefixes: readonly Prefix[]
  /** Per column: drop trailing spaces, as `character(n)::text` does. */
  readonly trim: readonly boolean[]
  column: number
  at: At
}

/**
 * Copies the run of plain bytes (not `"`, `\`, nor below 0x20) starting at `chunk[i]`,
 * a word at a time, then byte by byte (a loop beats Buffer#copy for short runs).
 * Plain bytes are themselves in JSON, so input and output advance alike: returns the count.
 */
function copyPlainRun(
  chunk: Buffer,
  input: DataView,
  i: number,
  out: Buffer,
  view: DataView,
  o: number,
): number {
  const length = chunk.length
  let j = i
  let p = o
  while (j + 4 <= length) {
    const w = input.getInt32(j, true)
    if (hasStopByte(w)) break
    view.setInt32(p, w, true)
    j += 4
    p += 4
  }
  while (j < length) {
    const next = chunk[j]!
    if (next < 0x20 || next === QUOTE || next === BACKSLASH) break
    out[p++] = next
    j++
  }
  return j - i
}

const FOUR_SPACES = 0x20202020

/** Ends a field's value at its tab or newline: the closing quote (`""` for an empty value). */
function closeField(at: At, trim: boolean, out: Buffer, view: DataView, o: number): number {
  if (at === At.Value) {
    // Held-back spaces make sure none of this value's trailing spaces left earlier. The
    // opening quote stops the walk back; a word at a time first (character(n) pads a lot).
    if (trim) {
      while (o >= 4 && view.getInt32(o - 4, true) === FOUR_SPACES) o -= 4
      while (o > 0 && out[o - 1] === SPACE) o--
    }
    out[o++] = QUOTE
  } else if (at === At.FieldStart) {
    out[o++] = QUOTE
    out[o++] = QUOTE
  } else if (at !== At.AfterNull) throw new CopyTextError('COPY text output has a lone backslash')
  return o
}

/** Converts one slice of COPY text into `out` from `o`, carrying `state` across slices; returns the end. */
function convertSlice(
  chunk: Buffer,
  out: Buffer,
  view: DataView,
  start: number,
  state: ConverterState,
): number {
  const input = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  const { prefixes, trim } = state
  const last = prefixes.length - 1
  let { column, at } = state
  let o = start
  const length = chunk.length
  for (let i = 0; i < length; i++) {
    const byte = chunk[i]!
    if (at === At.Value && byte >= 0x20 && byte !== QUOTE && byte !== BACKSLASH) {
      // Most bytes are themselves.
      const n = copyPlainRun(chunk, input, i, out, view, o)
      i += n - 1
      o += n
      continue
    }
    if (at === At.RowStart) {
      o = putPrefix(prefixes[0]!, out, view, o)
      at = At.FieldStart
    }
    if (byte === TAB || byte === NEWLINE) {
      o = closeField(at, trim[column]!, out, view, o)
      if (byte === TAB) {
        if (column === last) throw new CopyTextError('COPY text output has more fields than columns')
        column++
        o = putPrefix(prefixes[column]!, out, view, o)
        at = At.FieldStart
      } else {
        if (column !== last) throw new CopyTextError('COPY text output has fewer fields than columns')
        o = put(ROW_END, out, o)
        column = 0
        at = At.RowStart
      }
      continue
    }
    if (at === At.FieldStart) {
      if (byte === BACKSLASH) {
        at = At.FieldStartBackslash
        continue
      }
      out[o++] = QUOTE
      at = At.Value
    } else if (at === At.FieldStartBackslash) {
      if (byte === LETTER_N) {
        o = put(NULL, out, o)
        at = At.AfterNull
        continue
      }
      out[o++] = QUOTE
      at = At.ValueBackslash
    } else if (at === At.AfterNull) {
      throw new CopyTextError('COPY text output has bytes after \\N in a field')
    }
    if (at === At.ValueBackslash) {
      const escaped = COPY_ESCAPES[byte]
      if (!escaped)
        throw new CopyTextError(`COPY text output has an unknown escape \\${String.fromCharCode(byte)}`)
      o = put(escaped, out, o)
      at = At.Value
    } else if (byte === BACKSLASH) {
      at = At.ValueBackslash
    } else {
      const escaped = RAW_ESCAPES[byte]
      if (escaped) o = put(escaped, out, o)
      else out[o++] = byte
    }
  }
  state.column = column
  state.at = at
  return o
}

/**
 * The Transform: input is COPY text (tab-delimited, `\N` for NULL, backslash escapes),
 * output one `{"column":"value",…}` line per row, columns in COPY's order.
 */
export class CopyTextToNdjson extends Transform {
  readonly #state: ConverterState
  /** The most bytes one input byte can turn into. */
  readonly #expansion: number
  /** Trailing spaces of a trimmed value held back at a chunk's end: more may follow. */
  #heldSpaces = 0
  #scratch = Buffer.alloc(0)
  #scratchView = new DataView(this.#scratch.buffer)
  /**
   * Output goes out in whole blocks from here (the last one short): no allocation per
   * slice, and BlockGzip compresses each block as it is, with no copy (its blocks have
   * the same size), then gives it back to the pool when it is the archive's.
   */
  readonly #blocks: BlockPool
  #block: Buffer | undefined
  #blockFill = 0

  constructor(
    columns: readonly string[],
    trimTrailingSpaces: ReadonlySet<string> = new Set(),
    blocks = new BlockPool(BLOCK_BYTES),
  ) {
    super()
    this.#blocks = blocks
    if (columns.length === 0) throw new CopyTextError('a table without columns has no COPY text form')
    const prefixes = columns.map((name, i) =>
      prefixOf(Buffer.from(`${i === 0 ? '{' : ','}${JSON.stringify(name)}:`)),
    )
    this.#state = {
      prefixes,
      trim: columns.map((name) => trimTrailingSpaces.has(name)),
      column: 0,
      at: At.RowStart,
    }
    const longest = Math.max(...prefixes.map((p) => p.bytes.length))
    this.#expansion = 2 * longest + ROW_END.length + 8
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      // In slices, so that the scratch buffer (a slice times the expansion) stays small.
      for (let at = 0; at < chunk.length; at += SLICE_BYTES) {
        this.#emit(this.#convert(chunk.subarray(at, at + SLICE_BYTES)))
      }
    } catch (error) {
      done(error as Error)
      return
    }
    done()
  }

  /** Copies converted bytes (a view of the scratch buffer) into blocks, pushing each full one. */
  #emit(converted: Buffer): void {
    let at = 0
    while (at < converted.length) {
      this.#block ??= this.#blocks.take()
      const copied = converted.copy(this.#block, this.#blockFill, at)
      at += copied
      this.#blockFill += copied
      if (this.#blockFill === this.#block.length) {
        this.push(this.#block)
        this.#block = undefined
        this.#blockFill = 0
      }
    }
  }

  /** Converts a slice into the scratch buffer; returns a view of it, valid until the next call. */
  #convert(chunk: Buffer): Buffer {
    // Word stores may write up to 3 bytes past the last byte that counts.
    const needed = chunk.length * this.#expansion + this.#heldSpaces + 4
    if (this.#scratch.length < needed) {
      this.#scratch = Buffer.allocUnsafeSlow(needed)
      this.#scratchView = new DataView(this.#scratch.buffer, this.#scratch.byteOffset, this.#scratch.length)
    }
    const out = this.#scratch
    let o = 0
    for (; this.#heldSpaces > 0; this.#heldSpaces--) out[o++] = SPACE
    const state = this.#state
    o = convertSlice(chunk, out, this.#scratchView, o, state)
    if (state.at === At.Value && state.trim[state.column]) {
      while (o > 0 && out[o - 1] === SPACE) {
        o--
        this.#heldSpaces++
      }
    }
    return out.subarray(0, o)
  }

  override _flush(done: TransformCallback): void {
    if (this.#state.at !== At.RowStart) {
      done(new CopyTextError('COPY text output ends in the middle of a row'))
      return
    }
    if (this.#blockFill > 0) this.push(this.#block!.subarray(0, this.#blockFill))
    this.#block = undefined
    done()
  }
}
