// The byte loops every backup and restore runs, timed alone on generated rows, no
// database: COPY text -> NDJSON (backup), the row digest over COPY text (backup),
// NDJSON -> COPY text (restore). Best of N; run before and after touching one of them.
// Run: npx tsx bench/hot-loops.ts [rows=1000000] [runs=5]
import { CopyTextToNdjson } from '../lib/archive/copy-text-to-ndjson.ts'
import { NdjsonToCopy } from '../lib/archive/ndjson-to-copy.ts'
import { RowDigest } from '../lib/archive/row-digest.ts'

const rowCount = Number(process.argv[2] ?? 1_000_000)
const runs = Number(process.argv[3] ?? 5)
const CHUNK = 64 * 1024
const columns = [
  'id',
  'user_id',
  'created_at',
  'email',
  'title',
  'body',
  'amount',
  'active',
  'tags',
  'payload',
]

/** mulberry32: the same bytes on every run. */
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
const random = prng(7)
const words = ['backup', 'restore', 'café', 'Zürich', 'invoice', 'ticket', 'note', '東京', 'draft']
const pick = () => words[Math.floor(random() * words.length)]!
const sentence = (n: number) => {
  let text = Array.from({ length: n }, pick).join(' ')
  if (random() < 0.05) text += '\n\t"quoted" C:\\path'
  return text
}

function ndjsonRow(id: number): string {
  return JSON.stringify({
    id: String(id),
    user_id: `${Math.floor(random() * 2 ** 32).toString(16)}-4a1b-9c2d-${id.toString(16).padStart(12, '0')}`,
    created_at: `2026-01-0${1 + (id % 9)} 12:34:56.789+00`,
    email: `user${id % 50_000}@example.com`,
    title: sentence(3),
    body: random() < 0.3 ? null : sentence(6),
    amount: (random() * 100_000).toFixed(2),
    active: random() < 0.5 ? 't' : 'f',
    tags: `{${pick()},${pick()}}`,
    payload: JSON.stringify({ n: id % 97, flags: [1, 2, 3], nested: { ok: true } }),
  })
}

function chunked(all: Buffer): Buffer[] {
  const out: Buffer[] = []
  for (let at = 0; at < all.length; at += CHUNK) out.push(all.subarray(at, at + CHUNK))
  return out
}

const lines: string[] = []
for (let id = 1; id <= rowCount; id++) lines.push(`${ndjsonRow(id)}\n`)
const ndjson = Buffer.from(lines.join(''))
lines.length = 0
const ndjsonChunks = chunked(ndjson)
const copyChunks = chunked(
  (() => {
    const c = new NdjsonToCopy({ file: 'bench', columns })
    const copy = c.push(ndjson)
    c.end()
    return copy
  })(),
)
const copyBytes = copyChunks.reduce((n, c) => n + c.length, 0)

function toCopy(): number {
  const c = new NdjsonToCopy({ file: 'bench', columns })
  let bytes = 0
  for (const chunk of ndjsonChunks) bytes += c.push(chunk).length
  c.end()
  return bytes
}

function toNdjson(): number {
  const c = new CopyTextToNdjson(columns)
  let bytes = 0
  c.on('data', (b: Buffer) => {
    bytes += b.length
  })
  const write = c._transform.bind(c)
  for (const chunk of copyChunks)
    write(chunk, 'binary', (error) => {
      if (error) throw error
    })
  c._flush((error) => {
    if (error) throw error
  })
  return bytes
}

function digest(): number {
  const d = new RowDigest(columns.length)
  for (const chunk of copyChunks) d.update(chunk)
  if (d.rows !== rowCount) throw new Error(`digest saw ${d.rows} rows`)
  return copyBytes
}

function best(name: string, inputBytes: number, run: () => number): void {
  let seconds = Number.POSITIVE_INFINITY
  for (let i = 0; i < runs; i++) {
    const started = performance.now()
    run()
    seconds = Math.min(seconds, (performance.now() - started) / 1000)
  }
  console.log(
    `${name.padEnd(28)} ${seconds.toFixed(3)} s  ${(inputBytes / 1e6 / seconds).toFixed(0)} MB/s in`,
  )
}

console.log(
  `${rowCount} rows: ${(ndjson.length / 1e6).toFixed(0)} MB NDJSON, ${(copyBytes / 1e6).toFixed(0)} MB COPY text`,
)
best('NDJSON -> COPY (restore)', ndjson.length, toCopy)
best('COPY -> NDJSON (backup)', copyBytes, toNdjson)
best('row digest (backup)', copyBytes, digest)
