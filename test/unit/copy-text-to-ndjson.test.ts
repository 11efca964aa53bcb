import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { describe, expect, it } from 'vitest'
import { BlockPool } from '../../lib/archive/block-pool.ts'
import { CopyTextToNdjson } from '../../lib/archive/copy-text-to-ndjson.ts'

/** Feeds COPY text through the converter, one byte per chunk when asked to. */
async function convert(
  columns: string[],
  copyText: string,
  byteByByte = false,
  padded: string[] = [],
): Promise<string> {
  const bytes = Buffer.from(copyText)
  const chunks = byteByByte ? [...bytes].map((b) => Buffer.from([b])) : [bytes]
  return text(Readable.from(chunks).pipe(new CopyTextToNdjson(columns, new Set(padded))))
}

describe('CopyTextToNdjson', () => {
  it('writes one object per row, keys in column order, values as strings', async () => {
    expect(await convert(['id', 'name'], '1\tAda\n2\tGrace\n')).toBe(
      '{"id":"1","name":"Ada"}\n{"id":"2","name":"Grace"}\n',
    )
  })

  it('keeps integer-like keys in column order', async () => {
    expect(await convert(['2', '1'], 'b\ta\n')).toBe('{"2":"b","1":"a"}\n')
  })

  it('turns \\N into null and a backslash-N string into "\\\\N"', async () => {
    expect(await convert(['a', 'b'], '\\N\t\\\\N\n')).toBe('{"a":null,"b":"\\\\N"}\n')
  })

  it('tells an empty string from NULL', async () => {
    expect(await convert(['a', 'b', 'c'], '\t\\N\t\n')).toBe('{"a":"","b":null,"c":""}\n')
  })

  it('turns COPY escapes into JSON escapes', async () => {
    expect(await convert(['v'], 'a\\tb\\nc\\rd\\be\\ff\\vg\\\\h\n')).toBe(
      '{"v":"a\\tb\\nc\\rd\\be\\ff\\u000bg\\\\h"}\n',
    )
  })

  it('escapes quotes and raw control bytes, and passes UTF-8 and DEL through', async () => {
    expect(await convert(['v'], 'say "hi"\u0001\u001f\u007fé😀\n')).toBe(
      '{"v":"say \\"hi\\"\\u0001\\u001f\u007fé😀"}\n',
    )
  })

  it('escapes column names as JSON', async () => {
    expect(await convert(['a"b\\c', 'naïve'], 'x\ty\n')).toBe('{"a\\"b\\\\c":"x","naïve":"y"}\n')
  })

  it('gives the same output one byte at a time', async () => {
    const input = '\\N\t\\\\N\tq"\\t\u0002\n\t\t\n1\t\\N\té\n'
    expect(await convert(['a', 'b', 'c'], input, true)).toBe(await convert(['a', 'b', 'c'], input))
  })

  it('drops trailing spaces of padded columns only, as character(n)::text does', async () => {
    const input = 'a b  \ta b  \n    \t \n\\t  \t\\N\n'
    expect(await convert(['c', 'v'], input, false, ['c'])).toBe(
      '{"c":"a b","v":"a b  "}\n{"c":"","v":" "}\n{"c":"\\t","v":null}\n',
    )
  })

  it('trims the same when the padding is cut across chunks', async () => {
    const input = `x${' '.repeat(40)}y${' '.repeat(40)}\t${' '.repeat(9)}\n`
    expect(await convert(['c', 'd'], input, true, ['c', 'd'])).toBe(`{"c":"x${' '.repeat(40)}y","d":""}\n`)
  })

  it('drops any number of trailing spaces, and only those', async () => {
    const spaces = Array.from({ length: 10 }, (_, n) => ' '.repeat(n))
    const input = spaces.map((pad) => `a  b${pad}\t${pad}\n`).join('')
    const expected = '{"c":"a  b","d":""}\n'.repeat(spaces.length)
    expect(await convert(['c', 'd'], input, false, ['c', 'd'])).toBe(expected)
  })

  it('writes nothing for no rows', async () => {
    expect(await convert(['a'], '')).toBe('')
  })

  it.each([
    ['more fields than columns', '1\t2\t3\n', /more fields than columns/],
    ['fewer fields than columns', '1\n', /fewer fields than columns/],
    ['an unknown escape', '\\x41\t1\n', /unknown escape \\x/],
    ['bytes after \\N', '\\Nx\t1\n', /after \\N/],
    ['a row cut short', '1\t2', /ends in the middle of a row/],
  ])('refuses %s', async (_what, input, message) => {
    await expect(convert(['a', 'b'], input)).rejects.toThrow(message)
  })
})

/** mulberry32: seeded, so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** What COPY TO writes for a value: backslash escapes for \b \f \n \r \t \v and \, raw otherwise. */
function copyEscape(value: string): string {
  const escapes: Record<string, string> = {
    '\b': '\\b',
    '\f': '\\f',
    '\n': '\\n',
    '\r': '\\r',
    '\t': '\\t',
    '\v': '\\v',
    '\\': '\\\\',
  }
  return value.replace(/[\b\f\n\r\t\v\\]/g, (c) => escapes[c]!)
}

describe('CopyTextToNdjson on generated rows', () => {
  // Long plain runs (copied a word at a time) broken by every byte that stops a run, at
  // every offset within a word; values JSON.stringify escapes exactly as PostgreSQL does.
  const random = prng(18)
  const alphabet = [
    'a',
    'b',
    ' ',
    'é',
    '😀',
    '"',
    '\\',
    '\n',
    '\t',
    '\r',
    '\u0001',
    '\u001f',
    '\u007f',
    '\b',
    '\v',
  ]
  const value = (): string | null => {
    if (random() < 0.1) return null
    let text = ''
    const length = Math.floor(random() * 40)
    for (let i = 0; i < length; i++)
      text += random() < 0.8 ? 'x' : alphabet[Math.floor(random() * alphabet.length)]!
    return text
  }
  const columns = ['id', 'long name', 'c']
  const rows = Array.from({ length: 400 }, () => columns.map(value))
  const copyText = rows
    .map((r) => `${r.map((v) => (v === null ? '\\N' : copyEscape(v))).join('\t')}\n`)
    .join('')
  const expected = rows
    .map((r) => `${JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, r[i]])))}\n`)
    .join('')

  it('writes what JSON.stringify writes for the same values', async () => {
    expect(await convert(columns, copyText)).toBe(expected)
  })

  it('writes whole blocks of the given size, the last one short', async () => {
    const converter = new CopyTextToNdjson(columns, new Set(), new BlockPool(1000))
    const sizes: number[] = []
    const out: Buffer[] = []
    converter.on('data', (chunk: Buffer) => {
      sizes.push(chunk.length)
      out.push(chunk)
    })
    const ended = new Promise((resolve) => converter.on('end', resolve))
    converter.end(Buffer.from(copyText))
    await ended
    expect(Buffer.concat(out).toString()).toBe(expected)
    expect(sizes.slice(0, -1).every((size) => size === 1000)).toBe(true)
    expect(sizes.at(-1)).toBe(Buffer.byteLength(expected) % 1000 || 1000)
  })

  it.each([1, 3, 5, 7, 64, 1000])('gives the same output in chunks of %i bytes', async (size) => {
    const bytes = Buffer.from(copyText)
    const chunks: Buffer[] = []
    for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size))
    expect(await text(Readable.from(chunks).pipe(new CopyTextToNdjson(columns)))).toBe(expected)
  })
})
