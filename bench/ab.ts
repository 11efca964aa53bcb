// A/B of the hot loops: the working tree's lib against a copy (argv[2], e.g. a copy of
// lib before a change), interleaved in one process so a shared machine's load hits both.
// Run: npx tsx bench/ab.ts /tmp/before/lib [rows=500000] [rounds=9]
import { resolve } from 'node:path'

const beforeLib = resolve(process.argv[2] ?? '')
const rowCount = Number(process.argv[3] ?? 500_000)
const rounds = Number(process.argv[4] ?? 9)
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
type Lib = typeof import('../lib/archive/ndjson-to-copy.ts') &
  typeof import('../lib/archive/copy-text-to-ndjson.ts') &
  typeof import('../lib/archive/row-digest.ts')
async function load(root: string): Promise<Lib> {
  return {
    ...(await import(`${root}/archive/ndjson-to-copy.ts`)),
    ...(await import(`${root}/archive/copy-text-to-ndjson.ts`)),
    ...(await import(`${root}/archive/row-digest.ts`)),
  }
}
const after = await load(resolve('lib'))
const before = await load(beforeLib)
let seed = 7
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31
  return seed / 2 ** 31
}
const words = ['backup', 'restore', 'café', 'Zürich', 'invoice', 'ticket', 'note', '東京', 'draft']
const pick = () => words[Math.floor(random() * words.length)]!
const sentence = (n: number) =>
  Array.from({ length: n }, pick).join(' ') + (random() < 0.05 ? '\n\t"quoted" C:\\path \u0001' : '')
const lines: string[] = []
for (let id = 1; id <= rowCount; id++)
  lines.push(
    `${JSON.stringify({ id: String(id), user_id: `${id.toString(16)}-4a1b-9c2d`, created_at: '2026-01-01 12:34:56+00', email: `u${id}@example.com`, title: sentence(3), body: random() < 0.3 ? null : sentence(6), amount: (random() * 1e5).toFixed(2), active: 't', tags: `{${pick()}}`, payload: JSON.stringify({ n: id, nested: { ok: true } }) })}\n`,
  )
const ndjson = Buffer.from(lines.join(''))
const cut = (b: Buffer) =>
  Array.from({ length: Math.ceil(b.length / 65536) }, (_, i) => b.subarray(i * 65536, (i + 1) * 65536))
const ndChunks = cut(ndjson)
const c0 = new after.NdjsonToCopy({ file: 'x', columns })
const copyChunks = cut(c0.push(ndjson))
const tests: Record<string, (lib: Lib) => number> = {
  'NDJSON -> COPY': (lib) => {
    const c = new lib.NdjsonToCopy({ file: 'x', columns })
    let n = 0
    for (const ch of ndChunks) n += c.push(ch).length
    return n
  },
  'COPY -> NDJSON': (lib) => {
    const c = new lib.CopyTextToNdjson(columns)
    let n = 0
    c.on('data', (b: Buffer) => {
      n += b.length
    })
    for (const ch of copyChunks)
      c._transform(ch, 'binary', (e?: Error | null) => {
        if (e) throw e
      })
    c._flush((e?: Error | null) => {
      if (e) throw e
    })
    return n
  },
  'row digest': (lib) => {
    const d = new lib.RowDigest(columns.length)
    for (const ch of copyChunks) d.update(ch)
    return d.rows === rowCount ? Number(d.digest().length) : Number.NaN
  },
}
const only = process.argv[5]
for (const [name, run] of Object.entries(tests)) {
  if (only && !name.includes(only)) continue
  if (run(before) !== run(after)) throw new Error(`${name}: outputs differ`)
  const best = { before: Infinity, after: Infinity }
  for (let r = 0; r < rounds; r++) {
    for (const [label, lib] of r % 2
      ? ([
          ['after', after],
          ['before', before],
        ] as const)
      : ([
          ['before', before],
          ['after', after],
        ] as const)) {
      const t = performance.now()
      run(lib)
      best[label] = Math.min(best[label], performance.now() - t)
    }
  }
  console.log(
    `${name.padEnd(16)} before ${best.before.toFixed(0)} ms  after ${best.after.toFixed(0)} ms  (${((best.after / best.before - 1) * 100).toFixed(1)} %)`,
  )
}
