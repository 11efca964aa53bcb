// The restore hot path: archive NDJSON lines (values as JSON strings of their text
// output) become PostgreSQL COPY text-format rows by scanning bytes, with no JSON.parse
// and no string conversion per line. Every deviation from the format is ARCHIVE_CORRUPT. Pure.
import { constants as bufferConstants } from 'node:buffer'
import { Transform, type TransformCallback } from 'node:stream'
import { convertLines, type LineContext, lineContext } from './ndjson-lines.ts'
import { corrupt } from './ndjson-slow-paths.ts'

export interface NdjsonToCopyOptions {
  /** Named in error messages, e.g. `data/public.users.ndjson`. */
  file: string
  /** The expected keys of every line, in order: the table's non-generated columns. */
  columns: readonly string[]
  /** A line longer than this is reported as corrupt instead of exhausting memory. */
  maxLineBytes?: number
}

const NEWLINE = 0x0a
const EMPTY = Buffer.alloc(0)

/**
 * Incremental converter: feed byte chunks split anywhere, get COPY text back.
 * Only complete lines are converted, so an escape or a UTF-8 sequence cut by a
 * chunk boundary waits, unparsed, for the rest of its line.
 */
export class NdjsonToCopy {
  readonly #ctx: LineContext
  readonly #maxLineBytes: number
  /** The current incomplete line, in pieces, so a long line is joined once, not per chunk. */
  #pending: Buffer[] = []
  #pendingLength = 0
  /** After an error the position in the input is lost: every later call repeats it. */
  #error: Error | undefined

  constructor(options: NdjsonToCopyOptions) {
    this.#ctx = lineContext(options.file, options.columns)
    this.#maxLineBytes = options.maxLineBytes ?? bufferConstants.MAX_LENGTH
  }

  /** Rows converted so far (the loader compares the total with the manifest). */
  get rows(): number {
    return this.#ctx.rows
  }

  /** Converts every line the chunk completes; keeps the rest for the next call. */
  push(input: Uint8Array): Buffer {
    if (this.#error) throw this.#error
    try {
      return this.#convert(input)
    } catch (error) {
      this.#error = error as Error
      throw error
    }
  }

  #convert(input: Uint8Array): Buffer {
    const chunk = Buffer.isBuffer(input)
      ? input
      : Buffer.from(input.buffer, input.byteOffset, input.byteLength)
    const last = chunk.lastIndexOf(NEWLINE)
    if (last < 0) {
      if (chunk.length > 0) this.#hold(chunk)
      return EMPTY
    }
    let from = 0
    let out: Buffer
    let o = 0
    if (this.#pendingLength > 0) {
      // Join only the held piece with the head of this chunk, not the whole chunk.
      const first = chunk.indexOf(NEWLINE)
      this.#hold(chunk.subarray(0, first + 1))
      const head = Buffer.concat(this.#pending, this.#pendingLength)
      this.#pending = []
      this.#pendingLength = 0
      out = Buffer.allocUnsafe(head.length + last - first)
      o = convertLines(head, 0, head.length, out, 0, this.#ctx)
      from = first + 1
    } else {
      out = Buffer.allocUnsafe(last + 1)
    }
    if (from <= last) o = convertLines(chunk, from, last + 1, out, o, this.#ctx)
    // Copy the tail so a few bytes do not keep the whole chunk alive.
    if (last + 1 < chunk.length) this.#hold(Buffer.from(chunk.subarray(last + 1)))
    return out.subarray(0, o)
  }

  /** Call at the end of the input: a final line without its newline means a cut file. */
  end(): void {
    if (this.#error) throw this.#error
    if (this.#pendingLength > 0) {
      this.#error = corrupt(this.#ctx, this.#ctx.rows + 1, 'the last line has no newline (file truncated?)')
      throw this.#error
    }
  }

  #hold(piece: Buffer): void {
    this.#pendingLength += piece.length
    if (this.#pendingLength > this.#maxLineBytes) {
      throw corrupt(this.#ctx, this.#ctx.rows + 1, `line longer than ${this.#maxLineBytes} bytes`)
    }
    this.#pending.push(piece)
  }
}

/** Converts a whole NDJSON file held in memory; returns the COPY text and the row count. */
export function convertNdjsonToCopy(
  input: Uint8Array,
  options: NdjsonToCopyOptions,
): { copy: Buffer; rows: number } {
  const converter = new NdjsonToCopy(options)
  const copy = converter.push(input)
  converter.end()
  return { copy, rows: converter.rows }
}

/** The converter as a stream stage: NDJSON bytes in, COPY text bytes out. */
export class NdjsonToCopyStream extends Transform {
  readonly #converter: NdjsonToCopy

  constructor(options: NdjsonToCopyOptions) {
    super()
    this.#converter = new NdjsonToCopy(options)
  }

  get rows(): number {
    return this.#converter.rows
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let out: Buffer
    try {
      out = this.#converter.push(chunk)
    } catch (error) {
      done(error as Error)
      return
    }
    done(null, out.length > 0 ? out : undefined)
  }

  override _flush(done: TransformCallback): void {
    try {
      this.#converter.end()
    } catch (error) {
      done(error as Error)
      return
    }
    done()
  }
}
