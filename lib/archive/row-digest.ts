// The table digest computed on the client, over the COPY text a backup already
// receives: per row, exactly what PostgreSQL's `hashtextextended(ROW(…)::text, 0)`
// gives (the row's record text, hashed with the server's lookup3), summed. The restore
// asks the server for the same sum over the restored rows (lib/adapters/postgres/table-digest.ts).
import { endianness } from 'node:os'
import { LifeboatError } from '../core/errors.ts'

const TAB = 0x09
const NEWLINE = 0x0a
const BACKSLASH = 0x5c
const QUOTE = 0x22

const PLAIN = 0
/** Makes record_out quote the value: `(`, `)`, `,` and C-locale isspace. */
const QUOTED = 1
/** Quoted and doubled inside the quotes: `"` (a `\` only ever arrives escaped). */
const DOUBLED = 2
/** Ends a run: a tab, a newline or a backslash (a COPY escape). */
const STOP = 3
const KIND = new Uint8Array(256)
for (const c of [0x28, 0x29, 0x2c, 0x20, 0x0b, 0x0c, 0x0d]) KIND[c] = QUOTED
KIND[QUOTE] = DOUBLED
for (const c of [TAB, NEWLINE, BACKSLASH]) KIND[c] = STOP

/** What a COPY text escape letter stands for (COPY TO writes no other escapes). */
const UNESCAPE = new Int16Array(256).fill(-1)
for (const [letter, byte] of [
  ['b', 0x08],
  ['f', 0x0c],
  ['n', 0x0a],
  ['r', 0x0d],
  ['t', 0x09],
  ['v', 0x0b],
  ['\\', 0x5c],
] as const)
  UNESCAPE[letter.charCodeAt(0)] = byte

const rot = (x: number, k: number) => (x << k) | (x >>> (32 - k))
/** A buffer of our own as words, when this machine reads them little-endian as lookup3 wants. */
const wordsOf = (buffer: Buffer) =>
  endianness() === 'LE' ? new Int32Array(buffer.buffer, buffer.byteOffset, buffer.byteLength >> 2) : undefined

/** Whether a little-endian word has a zero byte (the exact bit trick). */
const hasZero = (v: number) => ((v - 0x01010101) & ~v & 0x80808080) !== 0

/** A word holding a byte that is not PLAIN: one below 0x21 (white space, tab, newline), `"`, `(`, `)`, `,` or `\`. */
function endsPlainRun(w: number): boolean {
  return (
    ((w - 0x21212121) & ~w & 0x80808080) !== 0 ||
    hasZero(w ^ 0x22222222) ||
    hasZero(w ^ 0x28282828) ||
    hasZero(w ^ 0x29292929) ||
    hasZero(w ^ 0x2c2c2c2c) ||
    hasZero(w ^ 0x5c5c5c5c)
  )
}

/** Inside a value already quoted: a byte below 0x0b (tab, newline), `"` or `\`. */
function endsQuotedRun(w: number): boolean {
  return ((w - 0x0b0b0b0b) & ~w & 0x80808080) !== 0 || hasZero(w ^ 0x22222222) || hasZero(w ^ 0x5c5c5c5c)
}

/**
 * PostgreSQL's hash_bytes_extended (src/common/hashfn.c: Bob Jenkins' lookup3, as the
 * server computes it on a little-endian machine) with seed 0, as a signed 64-bit value
 * split in two: `hi` the signed upper word, `lo` the unsigned lower one.
 */
export function hashBytesExtended(
  bytes: Uint8Array,
  length: number,
  out: { hi: number; lo: number },
  /** The same memory as 32-bit words, where they read little-endian (faster than a DataView). */
  words?: Int32Array,
): void {
  const view = words ? undefined : new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let a = (0x9e3779b9 + length + 3923095) | 0
  let b = a
  let c = a
  let i = 0
  let left = length
  while (left >= 12) {
    if (words) {
      const w = i >> 2
      a = (a + words[w]!) | 0
      b = (b + words[w + 1]!) | 0
      c = (c + words[w + 2]!) | 0
    } else {
      a = (a + view!.getInt32(i, true)) | 0
      b = (b + view!.getInt32(i + 4, true)) | 0
      c = (c + view!.getInt32(i + 8, true)) | 0
    }
    a = (a - c) | 0
    a ^= rot(c, 4)
    c = (c + b) | 0
    b = (b - a) | 0
    b ^= rot(a, 6)
    a = (a + c) | 0
    c = (c - b) | 0
    c ^= rot(b, 8)
    b = (b + a) | 0
    a = (a - c) | 0
    a ^= rot(c, 16)
    c = (c + b) | 0
    b = (b - a) | 0
    b ^= rot(a, 19)
    a = (a + c) | 0
    c = (c - b) | 0
    c ^= rot(b, 4)
    b = (b + a) | 0
    i += 12
    left -= 12
  }
  // The last 11 bytes; the lowest byte of c stays clear (the length went in at the start).
  if (left >= 11) c = (c + (bytes[i + 10]! << 24)) | 0
  if (left >= 10) c = (c + (bytes[i + 9]! << 16)) | 0
  if (left >= 9) c = (c + (bytes[i + 8]! << 8)) | 0
  if (left >= 8) b = (b + (bytes[i + 7]! << 24)) | 0
  if (left >= 7) b = (b + (bytes[i + 6]! << 16)) | 0
  if (left >= 6) b = (b + (bytes[i + 5]! << 8)) | 0
  if (left >= 5) b = (b + bytes[i + 4]!) | 0
  if (left >= 4) a = (a + (bytes[i + 3]! << 24)) | 0
  if (left >= 3) a = (a + (bytes[i + 2]! << 16)) | 0
  if (left >= 2) a = (a + (bytes[i + 1]! << 8)) | 0
  if (left >= 1) a = (a + bytes[i]!) | 0
  c ^= b
  c = (c - rot(b, 14)) | 0
  a ^= c
  a = (a - rot(c, 11)) | 0
  b ^= a
  b = (b - rot(a, 25)) | 0
  c ^= b
  c = (c - rot(b, 16)) | 0
  a ^= c
  a = (a - rot(c, 4)) | 0
  b ^= a
  b = (b - rot(a, 14)) | 0
  c ^= b
  c = (c - rot(b, 24)) | 0
  out.hi = b
  out.lo = c >>> 0
}

/** The exact sum of signed 64-bit values: two doubles per row, a BigInt every million rows. */
export class Sum64 {
  #big = 0n
  #hi = 0
  #lo = 0
  #count = 0

  add(hi: number, lo: number): void {
    this.#hi += hi
    this.#lo += lo
    // Both stay exact below 2^53: fold them into the BigInt every 2^20 additions.
    if (++this.#count === 1 << 20) this.#fold()
  }

  merge(other: Sum64): void {
    this.#fold()
    this.#big += other.value()
  }

  value(): bigint {
    return this.#big + BigInt(this.#hi) * 4294967296n + BigInt(this.#lo)
  }

  #fold(): void {
    this.#big = this.value()
    this.#hi = 0
    this.#lo = 0
    this.#count = 0
  }
}

/**
 * Fed COPY text (split anywhere), rebuilds each row's record text as record_out writes
 * it, `(v1,v2,…)`: NULL as nothing, a value quoted when empty or holding `"`, `\`, `(`,
 * `)`, `,` or white space, with `"` and `\` doubled inside; hashes and sums it.
 */
export class RowDigest {
  rows = 0
  readonly sum = new Sum64()
  readonly #hash = { hi: 0, lo: 0 }
  /** The current row's record text; grows to the longest row. */
  /** Its own memory (never the shared pool), so its words are aligned for the hash. */
  #record: Buffer = Buffer.allocUnsafeSlow(64 * 1024)
  #recordView = new DataView(this.#record.buffer, this.#record.byteOffset, this.#record.byteLength)
  #recordWords = wordsOf(this.#record)
  #r = 1
  /** Where the current field's value starts in #record, and whether it must be quoted. */
  #fieldStart = 1
  #quote = false
  #escape = false
  #null = false

  /** A table without columns has rows that are empty lines and print as `()`. */
  readonly #noColumns: boolean

  constructor(columnCount: number) {
    this.#noColumns = columnCount === 0
    this.#record[0] = 0x28
  }

  update(chunk: Uint8Array): void {
    let record = this.#record
    let r = this.#r
    let quote = this.#quote
    const length = chunk.length
    const input = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    let i = 0
    if (this.#escape && length > 0) {
      this.#escape = false
      r = this.#unescape(chunk[0]!, r)
      quote ||= this.#quoteAfterEscape
      i = 1
    }
    while (i < length) {
      // The longest run that fits, with 2 bytes per input byte and 3 spare for the field's end.
      const room = (record.length - r - 3) >> 1
      if (room < 16) {
        record = this.#grow(r)
        continue
      }
      const end = Math.min(length, i + room)
      const out = this.#recordView
      let byte = 0
      for (;;) {
        // Whole words while nothing in them matters: before the value needs quotes, any
        // byte but a plain one stops; after, only what ends a run or is doubled.
        while (i + 4 <= end) {
          const w = input.getInt32(i, true)
          if (quote ? endsQuotedRun(w) : endsPlainRun(w)) break
          out.setInt32(r, w, true)
          i += 4
          r += 4
        }
        if (i >= end) break
        byte = chunk[i]!
        const kind = KIND[byte]!
        if (kind === PLAIN) record[r++] = byte
        else if (kind === QUOTED) {
          record[r++] = byte
          quote = true
        } else if (kind === DOUBLED) {
          record[r++] = byte
          record[r++] = byte
          quote = true
        } else break
        i++
      }
      if (i >= end) continue
      i++
      if (byte === BACKSLASH) {
        if (i === length) {
          this.#escape = true
          break
        }
        r = this.#unescape(chunk[i++]!, r)
        quote ||= this.#quoteAfterEscape
        continue
      }
      r = this.#endField(r, quote)
      quote = false
      if (byte === TAB) {
        record[r++] = 0x2c
        this.#fieldStart = r
        continue
      }
      record[r++] = 0x29
      hashBytesExtended(record, r, this.#hash, this.#recordWords)
      this.sum.add(this.#hash.hi, this.#hash.lo)
      this.rows++
      r = 1
      this.#fieldStart = 1
    }
    this.#r = r
    this.#quote = quote
  }

  /** Whether the byte the last escape stood for needs quotes. */
  #quoteAfterEscape = false

  /** Writes what a COPY escape stands for (`\N` first in a field: NULL, nothing written). */
  #unescape(letter: number, r: number): number {
    this.#quoteAfterEscape = false
    if (letter === 0x4e && r === this.#fieldStart) {
      this.#null = true
      return r
    }
    const byte = UNESCAPE[letter]!
    if (byte < 0)
      throw new LifeboatError('INTERNAL', `COPY text has an unknown escape \\${String.fromCharCode(letter)}`)
    const record = this.#record
    if (byte === BACKSLASH) record[r++] = byte
    record[r++] = byte
    this.#quoteAfterEscape = KIND[byte] !== PLAIN
    return r
  }

  /** Quotes the field's value if it needs it (an empty non-NULL value does). */
  #endField(r: number, quote: boolean): number {
    const start = this.#fieldStart
    if (this.#null) {
      this.#null = false
      return r
    }
    if ((!quote && r > start) || this.#noColumns) return r
    const record = this.#record
    // A short value moves byte by byte, a long one (a padded char(n), a text) by memmove.
    if (r - start > 24) record.copyWithin(start + 1, start, r)
    else for (let k = r; k > start; k--) record[k] = record[k - 1]!
    record[start] = QUOTE
    record[r + 1] = QUOTE
    return r + 2
  }

  #grow(used: number): Buffer {
    const bigger = Buffer.allocUnsafeSlow(this.#record.length * 2)
    this.#record.copy(bigger, 0, 0, used)
    this.#record = bigger
    this.#recordView = new DataView(bigger.buffer, bigger.byteOffset, bigger.byteLength)
    this.#recordWords = wordsOf(bigger)
    return bigger
  }

  /** The digest value as the manifest and the server write it: the exact sum, in decimal. */
  digest(): string {
    return this.sum.value().toString()
  }
}
