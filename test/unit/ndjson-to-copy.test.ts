import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import { convertNdjsonToCopy, NdjsonToCopy, NdjsonToCopyStream } from '../../lib/archive/ndjson-to-copy.ts'
import { isLifeboatError } from '../../lib/core/errors.ts'

const FILE = 'data/public.t.ndjson'

function convert(input: string | Buffer, columns: readonly string[]): string {
  return convertNdjsonToCopy(Buffer.from(input), { file: FILE, columns }).copy.toString('utf8')
}

/** Feeds the input in the given pieces and returns the joined output bytes. */
function convertInPieces(input: Buffer, cuts: readonly number[], columns: readonly string[]): Buffer {
  const converter = new NdjsonToCopy({ file: FILE, columns })
  const out: Buffer[] = []
  let from = 0
  for (const cut of [...cuts, input.length]) {
    out.push(converter.push(input.subarray(from, cut)))
    from = cut
  }
  converter.end()
  return Buffer.concat(out)
}

/** What the converter must produce, the slow and obvious way: JSON.parse and string escaping. */
function reference(input: string, columns: readonly string[]): string {
  let out = ''
  for (const line of input.split('\n').slice(0, -1)) {
    const row = JSON.parse(line) as Record<string, string | null>
    expect(Object.keys(row)).toEqual(columns)
    const values = columns.map((c) => {
      const value = row[c]
      if (value === null) return '\\N'
      return value!.replace(
        /[\\\n\r\t]/g,
        (ch) => ({ '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[ch]!,
      )
    })
    out += `${values.join('\t')}\n`
  }
  return out
}

function corruption(work: () => unknown): { code: string; message: string } {
  try {
    work()
  } catch (error) {
    if (!isLifeboatError(error)) throw error
    return { code: error.code, message: error.message }
  }
  throw new Error('expected an ARCHIVE_CORRUPT error')
}

describe('NDJSON to COPY text', () => {
  const columns = ['id', 'name', 'tags', 'data']

  it('turns the example line into a COPY row', () => {
    const line = '{"id":"1","name":"a\\"b\\\\c\\ttab","tags":"{x,NULL}","data":null}\n'
    expect(convert(line, columns)).toBe('1\ta"b\\\\c\\ttab\t{x,NULL}\t\\N\n')
  })

  it('decodes every JSON escape into COPY text', () => {
    const cases: [string, string][] = [
      ['\\"', '"'],
      ['\\\\', '\\\\'],
      ['\\/', '/'],
      ['\\b', '\b'],
      ['\\f', '\f'],
      ['\\n', '\\n'],
      ['\\r', '\\r'],
      ['\\t', '\\t'],
      ['\\u0001', '\u0001'],
      ['\\u001f', '\u001f'],
      ['\\u0009', '\\t'],
      ['\\u000a', '\\n'],
      ['\\u000D', '\\r'],
      ['\\u005c', '\\\\'],
      ['\\u005C', '\\\\'],
      ['\\u0022', '"'],
      ['\\u0041', 'A'],
      ['\\u007f', '\u007f'],
      ['\\u00e9', 'é'],
      ['\\u00E9', 'é'],
      ['\\u07ff', '\u07ff'],
      ['\\u0800', '\u0800'],
      ['\\u20ac', '€'],
      ['\\uffff', '\uffff'],
      ['\\ud83d\\ude00', '😀'],
      ['\\uD83D\\uDE00', '😀'],
      ['\\udbff\\udfff', '\u{10ffff}'],
    ]
    for (const [escaped, copy] of cases) {
      expect(convert(`{"v":"<${escaped}>"}\n`, ['v']), escaped).toBe(`<${copy}>\n`)
    }
  })

  it('passes raw UTF-8 through unchanged', () => {
    const value = 'é€😀東京 naïve'
    expect(convert(`{"v":"${value}"}\n`, ['v'])).toBe(`${value}\n`)
  })

  it('keeps the empty string apart from null, and a literal \\N apart from both', () => {
    expect(convert('{"a":"","b":null,"c":"\\\\N"}\n', ['a', 'b', 'c'])).toBe('\t\\N\t\\\\N\n')
  })

  it('copies long runs and short ones alike (word-at-a-time scanning)', () => {
    for (let length = 0; length < 20; length++) {
      for (const special of ['"', '\\', '\n', '\t', 'é']) {
        for (let at = 0; at <= length; at++) {
          const value = `${'x'.repeat(at)}${special}${'y'.repeat(length - at)}`
          const line = `${JSON.stringify({ v: value, w: 'z'.repeat(length) })}\n`
          expect(convert(line, ['v', 'w'])).toBe(reference(line, ['v', 'w']))
        }
      }
    }
  })

  it('matches keys that need JSON escaping', () => {
    const names = ['a"b', 'back\\slash', 'tab\tname', 'naïve', 'with space', 'line\nbreak', 'ctl\u0001']
    const line = `${JSON.stringify(Object.fromEntries(names.map((n, i) => [n, String(i)])))}\n`
    expect(convert(line, names)).toBe('0\t1\t2\t3\t4\t5\t6\n')
  })

  it('accepts what another JSON writer may produce: whitespace, CRLF, escaped key spellings', () => {
    const line = ' { "id" : "1" ,\t"n\\u0061me":null , "tags": "x" ,"data" :"y" } \r\n'
    expect(convert(line, columns)).toBe('1\t\\N\tx\ty\n')
  })

  it('handles a table without columns', () => {
    expect(convert('{}\n{ }\n', [])).toBe('\n\n')
  })

  it('counts rows and accepts an empty file', () => {
    const result = convertNdjsonToCopy(Buffer.from('{"v":"1"}\n{"v":"2"}\n'), { file: FILE, columns: ['v'] })
    expect(result.rows).toBe(2)
    expect(convertNdjsonToCopy(Buffer.alloc(0), { file: FILE, columns: ['v'] })).toEqual({
      copy: Buffer.alloc(0),
      rows: 0,
    })
  })

  it('gives the same output wherever the chunks are cut', () => {
    const input = Buffer.from(
      '{"id":"1","name":"a\\"b\\\\c\\ttab\\n\\u00e9\\ud83d\\ude00é😀","tags":"{x,NULL}","data":null}\n' +
        '{ "id":"2", "name":"\\u005c\\u000a", "tags":"", "data":"{\\"k\\": [1, 2]}" }\r\n',
    )
    const whole = convertInPieces(input, [], columns)
    expect(whole.toString()).toBe('1\ta"b\\\\c\\ttab\\né😀é😀\t{x,NULL}\t\\N\n2\t\\\\\\n\t\t{"k": [1, 2]}\n')
    for (let cut = 0; cut <= input.length; cut++) {
      expect(convertInPieces(input, [cut], columns).equals(whole), `cut at ${cut}`).toBe(true)
    }
    for (let a = 0; a <= input.length; a += 3) {
      for (let b = a; b <= input.length; b += 5) {
        expect(convertInPieces(input, [a, b], columns).equals(whole), `cuts at ${a}, ${b}`).toBe(true)
      }
    }
    const bytes = Array.from({ length: input.length - 1 }, (_, i) => i + 1)
    expect(convertInPieces(input, bytes, columns).equals(whole)).toBe(true)
  })

  describe('reports a corrupt archive with its line number', () => {
    const good = '{"id":"1","name":"x"}\n{"id":"2","name":"y"}\n'
    const cases: [string, string, RegExp][] = [
      ['a number', '{"id":1,"name":"x"}', /column "id" is not a string or null/],
      ['a boolean', '{"id":"1","name":true}', /column "name" is not a string or null/],
      ['an object', '{"id":"1","name":{}}', /not a string or null/],
      ['an array', '{"id":"1","name":["x"]}', /not a string or null/],
      ['a misspelled null', '{"id":"1","name":nul}', /not a string or null/],
      ['a missing value', '{"id":"1","name":}', /no value/],
      ['a wrong key', '{"id":"1","nome":"x"}', /expected column "name", found "nome"/],
      ['keys out of order', '{"name":"x","id":"1"}', /expected column "id", found "name"/],
      ['a missing column', '{"id":"1"}', /missing column "name"/],
      ['an extra column', '{"id":"1","name":"x","more":"y"}', /more keys than the 2 expected columns/],
      ['a line that is not an object', '["1","x"]', /expected \{/],
      ['an empty line', '', /empty line/],
      ['a missing colon', '{"id" "1","name":"x"}', /expected :/],
      ['a missing comma', '{"id":"1" "name":"x"}', /expected , or \}/],
      ['a trailing comma', '{"id":"1","name":"x",}', /more keys/],
      ['an unclosed object', '{"id":"1","name":"x"', /expected \}/],
      ['trailing garbage', '{"id":"1","name":"x"}x', /trailing garbage/],
      ['two objects on a line', '{"id":"1","name":"x"}{"id":"1","name":"x"}', /trailing garbage/],
      ['an unterminated string', '{"id":"1","name":"x}', /unterminated string/],
      ['a raw tab in a string', '{"id":"1","name":"a\tb"}', /raw control character/],
      ['a raw CR in a string', '{"id":"1","name":"a\rb"}', /raw control character/],
      ['an invalid escape', '{"id":"1","name":"\\x"}', /invalid escape/],
      ['a short \\u escape', '{"id":"1","name":"\\u12"}', /malformed \\u escape/],
      ['a bad hex digit', '{"id":"1","name":"\\u12g4"}', /malformed \\u escape/],
      ['a lone high surrogate', '{"id":"1","name":"\\ud83d"}', /unpaired surrogate/],
      ['a high surrogate before a non-surrogate', '{"id":"1","name":"\\ud83d\\u0041"}', /unpaired surrogate/],
      ['a lone low surrogate', '{"id":"1","name":"\\ude00"}', /unpaired surrogate/],
      ['a NUL character', '{"id":"1","name":"\\u0000"}', /\\u0000/],
      ['a bad key', '{"id":"1",name:"x"}', /expected a key/],
    ]
    for (const [what, line, message] of cases) {
      it(what, () => {
        const input = Buffer.from(`${good}${line}\n{"id":"4","name":"z"}\n`)
        const error = corruption(() => convertNdjsonToCopy(input, { file: FILE, columns: ['id', 'name'] }))
        expect(error.code).toBe('ARCHIVE_CORRUPT')
        expect(error.message).toMatch(/^data\/public\.t\.ndjson: line 3: /)
        expect(error.message).toMatch(message)
        // The same verdict when the bad line arrives in pieces.
        const cut = input.length - 30
        const inPieces = corruption(() => convertInPieces(input, [cut - 7, cut], ['id', 'name']))
        expect(inPieces).toEqual(error)
      })
    }

    it('a final line without its newline', () => {
      const error = corruption(() =>
        convertNdjsonToCopy(Buffer.from(`${good}{"id":"3"`), { file: FILE, columns: ['id', 'name'] }),
      )
      expect(error.code).toBe('ARCHIVE_CORRUPT')
      expect(error.message).toMatch(/line 3: the last line has no newline/)
    })

    it('a line longer than the limit', () => {
      const converter = new NdjsonToCopy({ file: FILE, columns: ['v'], maxLineBytes: 100 })
      converter.push(Buffer.from('{"v":"1"}\n{"v":"'))
      const error = corruption(() => converter.push(Buffer.from('x'.repeat(100))))
      expect(error).toEqual({
        code: 'ARCHIVE_CORRUPT',
        message: `${FILE}: line 2: line longer than 100 bytes`,
      })
    })

    it('and keeps failing once failed', () => {
      const converter = new NdjsonToCopy({ file: FILE, columns: ['v'] })
      const first = corruption(() => converter.push(Buffer.from('{"v":"1"}\n{"v":2}\n')))
      expect(corruption(() => converter.push(Buffer.from('{"v":"3"}\n')))).toEqual(first)
      expect(corruption(() => converter.end())).toEqual(first)
    })
  })

  it('agrees with JSON.parse on many random rows, however they are chunked', () => {
    const random = prng(20_251_125)
    const alphabet = ['a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\r', '\t', '\b', '\f', '\u0001', '\u001f']
    alphabet.push('\u007f', 'é', '€', '東', '😀', '\\N', '{', '}', ',', ':', 'null', '\u2028')
    const names = ['id', 'a"b', 'text', 'naïve', 'x', 'json']
    const randomString = () => {
      const length = random() < 0.2 ? Math.floor(random() * 200) : Math.floor(random() * 12)
      let s = ''
      for (let i = 0; i < length; i++)
        s += random() < 0.7 ? 'abcdefgh'[Math.floor(random() * 8)] : pick(random, alphabet)
      return s
    }
    let input = ''
    for (let row = 0; row < 3000; row++) {
      const values = names.map((name) => [name, random() < 0.15 ? null : randomString()] as const)
      // Most lines as PostgreSQL writes them; some with every character \u-escaped.
      input += `${random() < 0.8 ? JSON.stringify(Object.fromEntries(values)) : escapeEverything(values)}\n`
    }
    const bytes = Buffer.from(input)
    const expected = reference(input, names)
    expect(convertInPieces(bytes, [], names).toString()).toBe(expected)
    for (let round = 0; round < 20; round++) {
      const cuts: number[] = []
      let at = 0
      for (;;) {
        at += 1 + Math.floor(random() * (round < 10 ? 64 : 4096))
        if (at >= bytes.length) break
        cuts.push(at)
      }
      expect(convertInPieces(bytes, cuts, names).toString()).toBe(expected)
    }
  })

  it('works as a stream stage and counts rows', async () => {
    const stage = new NdjsonToCopyStream({ file: FILE, columns: ['v'] })
    const chunks = ['{"v":"a', '\\tb"}\n{"v"', ':null}\n', '{"v":"é', '"}\n']
    const out: Buffer[] = []
    await pipeline(Readable.from(chunks.map((c) => Buffer.from(c))), stage, async (source) => {
      for await (const chunk of source) out.push(chunk as Buffer)
    })
    expect(Buffer.concat(out).toString()).toBe('a\\tb\n\\N\né\n')
    expect(stage.rows).toBe(3)
  })

  it('fails the stream on a truncated file', async () => {
    const stage = new NdjsonToCopyStream({ file: FILE, columns: ['v'] })
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() })
    const run = pipeline(Readable.from([Buffer.from('{"v":"a"}\n{"v":"b"')]), stage, sink)
    await expect(run).rejects.toMatchObject({
      code: 'ARCHIVE_CORRUPT',
      message: expect.stringMatching(/line 2/),
    })
  })
})

/** mulberry32: a seeded PRNG, so a failure is reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!
}

/** A JSON object with every character of keys and values as \uXXXX (surrogate pairs for astral ones). */
function escapeEverything(entries: readonly (readonly [string, string | null])[]): string {
  const encode = (s: string) =>
    `"${Array.from({ length: s.length }, (_, i) => `\\u${s.charCodeAt(i).toString(16).padStart(4, '0')}`).join('')}"`
  return `{${entries.map(([k, v]) => `${encode(k)}:${v === null ? 'null' : encode(v)}`).join(',')}}`
}
