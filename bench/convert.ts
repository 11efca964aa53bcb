// Restore hot path benchmark: archive NDJSON -> COPY text, the byte-level converter
// against a naive JSON.parse-per-line one, on generated realistic rows, no database.
// Run: npx tsx bench/convert.ts [rows=2000000] [chunkKiB=64]
import { StringDecoder } from 'node:string_decoder'
import { NdjsonToCopy } from '../lib/archive/ndjson-to-copy.ts'

const rowCount = Number(process.argv[2] ?? 2_000_000)
const chunkSize = Number(process.argv[3] ?? 64) * 1024

const columns = [
  'id',
  'user_id',
  'created_at',
  'updated_at',
  'email',
  'title',
  'body',
  'amount',
  'score',
  'active',
  'tags',
  'payload',
  'deleted_at',
]

/** mulberry32: a seeded PRNG, so every run converts the same bytes. */
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

const random = prng(42)
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
const words = [
  'backup',
  'restore',
  'café',
  'Zürich',
  'naïve',
  'order',
  'invoice',
  'ticket',
  'note',
  'draft',
  '東京',
]
const hex8 = () =>
  Math.floor(random() * 2 ** 32)
    .toString(16)
    .padStart(8, '0')
const stamp = (ms: number) => `${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}123+00`

function sentence(n: number): string {
  const parts: string[] = []
  for (let i = 0; i < n; i++) parts.push(pick(words))
  let text = parts.join(' ')
  // Some rows carry what COPY and JSON must escape.
  const r = random()
  if (r < 0.05) text += '\n\tindented "quoted" C:\\path'
  else if (r < 0.08) text += ' 😀'
  return text
}

/** One row as the server writes it: every value its text output as a JSON string. */
function row(id: number): string {
  const created = 1_700_000_000_000 + id * 1000
  const values: Record<string, string | null> = {
    id: String(id),
    user_id: `${hex8()}-${hex8().slice(4)}-4${hex8().slice(5)}-a${hex8().slice(5)}-${hex8()}${hex8().slice(4)}`,
    created_at: stamp(created),
    updated_at: stamp(created + 3_600_000),
    email: `user${id % 50_000}@example.com`,
    title: sentence(3),
    body: random() < 0.3 ? null : sentence(5),
    amount: (random() * 100_000).toFixed(2),
    score: String(random()),
    active: random() < 0.5 ? 't' : 'f',
    tags: `{${pick(words)},${pick(words)}}`,
    payload: JSON.stringify({ source: pick(words), n: id % 97, flags: [1, 2, 3], nested: { ok: true } }),
    deleted_at: random() < 0.9 ? null : stamp(created + 86_400_000),
  }
  return JSON.stringify(values)
}

function generate(): Buffer[] {
  const parts: string[] = []
  let size = 0
  const chunks: Buffer[] = []
  for (let id = 1; id <= rowCount; id++) {
    const line = `${row(id)}\n`
    parts.push(line)
    size += line.length
    if (size > 4 * 1024 * 1024) {
      chunks.push(Buffer.from(parts.join('')))
      parts.length = 0
      size = 0
    }
  }
  chunks.push(Buffer.from(parts.join('')))
  // Re-cut into stream-sized chunks whose boundaries fall anywhere in a line.
  const all = Buffer.concat(chunks)
  const out: Buffer[] = []
  for (let at = 0; at < all.length; at += chunkSize) out.push(all.subarray(at, at + chunkSize))
  return out
}

/** What DESIGN.md measured: JSON.parse per line and a regex for COPY escaping. */
function convertNaively(chunks: readonly Buffer[]): { bytes: number; rows: number } {
  const decoder = new StringDecoder('utf8')
  let carry = ''
  let bytes = 0
  let rows = 0
  const escapeForCopy = (value: string) =>
    value.replace(/[\\\n\r\t]/g, (c) =>
      c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t',
    )
  for (const chunk of chunks) {
    const lines = (carry + decoder.write(chunk)).split('\n')
    carry = lines.pop() ?? ''
    let out = ''
    for (const line of lines) {
      const object = JSON.parse(line) as Record<string, string | null>
      const keys = Object.keys(object)
      if (keys.length !== columns.length || keys.some((k, i) => k !== columns[i])) throw new Error('keys')
      out += `${columns.map((c) => (object[c] === null ? '\\N' : escapeForCopy(object[c]!))).join('\t')}\n`
      rows++
    }
    bytes += Buffer.byteLength(out)
  }
  return { bytes, rows }
}

function convertByBytes(chunks: readonly Buffer[]): { bytes: number; rows: number } {
  const converter = new NdjsonToCopy({ file: 'bench.ndjson', columns })
  let bytes = 0
  for (const chunk of chunks) bytes += converter.push(chunk).length
  converter.end()
  return { bytes, rows: converter.rows }
}

function measure(name: string, input: number, run: () => { bytes: number; rows: number }): number {
  const started = performance.now()
  const result = run()
  const seconds = (performance.now() - started) / 1000
  console.log(
    `${name.padEnd(10)} ${seconds.toFixed(2)} s  ${(input / 1e6 / seconds).toFixed(0)} MB/s in  ` +
      `${(result.rows / 1e6 / seconds).toFixed(2)} M rows/s  -> ${(result.bytes / 1e6).toFixed(0)} MB COPY text`,
  )
  return seconds
}

const generatedAt = performance.now()
const chunks = generate()
const input = chunks.reduce((sum, c) => sum + c.length, 0)
console.log(
  `${rowCount} rows, ${(input / 1e6).toFixed(0)} MB NDJSON in ${chunks.length} chunks of ${chunkSize / 1024} KiB ` +
    `(generated in ${((performance.now() - generatedAt) / 1000).toFixed(1)} s)`,
)

// Same bytes out of both, or the comparison means nothing.
const first = chunks[0]!
const sample = [first.subarray(0, first.lastIndexOf(0x0a) + 1)]
const a = convertByBytes(sample)
const b = convertNaively(sample)
if (a.bytes !== b.bytes || a.rows !== b.rows) throw new Error(`outputs differ: ${a.bytes} vs ${b.bytes}`)

const naive = measure('naive', input, () => convertNaively(chunks))
let best = Number.POSITIVE_INFINITY
for (let run = 0; run < 3; run++)
  best = Math.min(
    best,
    measure('bytes', input, () => convertByBytes(chunks)),
  )
console.log(`byte-level converter: ${(naive / best).toFixed(1)}x faster than naive`)
