import { describe, expect, it } from 'vitest'
import { hashBytesExtended, RowDigest, Sum64 } from '../../lib/archive/row-digest.ts'

/** hashtextextended(s, 0) as PostgreSQL 15 printed it (SELECT s, hashtextextended(s, 0) …). */
const SERVER_VALUES: [string, bigint][] = [
  ['', -6939563903564495251n],
  ['a', 3591986179850072241n],
  ['lifeboat', -5233268241415304399n],
  ['(1,Ada)', -2710026859196850925n],
  ['twelve bytes', -7123776401673968163n],
  ['eleven byte', -1446953353892728106n],
  ['twenty-three bytes long', 7353295244927072726n],
  ['naïve café ✓ 😀', 7136703345676743687n],
]

function hashOf(text: string): bigint {
  const bytes = Buffer.from(text)
  const out = { hi: 0, lo: 0 }
  hashBytesExtended(bytes, bytes.length, out)
  return BigInt(out.hi) * 4294967296n + BigInt(out.lo)
}

/** The digest of COPY text, fed in chunks of `size` bytes. */
function digestOf(copyText: string, columns: number, size = Number.MAX_SAFE_INTEGER): RowDigest {
  const digest = new RowDigest(columns)
  const bytes = Buffer.from(copyText)
  for (let at = 0; at < bytes.length; at += size) digest.update(bytes.subarray(at, at + size))
  return digest
}

describe('hashBytesExtended', () => {
  it.each(SERVER_VALUES)('gives what the server gives for %j', (text, value) => {
    expect(hashOf(text)).toBe(value)
  })
})

describe('RowDigest: the record text of a COPY row, as record_out writes it', () => {
  it.each([
    ['plain values stay bare', '1\tAda\n', 2, '(1,Ada)'],
    ['NULL is nothing, an empty string is quoted', '\\N\t\n', 2, '(,"")'],
    ['white space, commas and parentheses bring quotes', 'a b\t(1,2)\t,\n', 3, '("a b","(1,2)",",")'],
    ['quotes and backslashes are doubled inside quotes', '"q"\tC:\\\\x\n', 2, '("""q""","C:\\\\x")'],
    ['COPY escapes are undone first', 'tab\\there\\nnew\n', 1, '("tab\there\nnew")'],
    ['UTF-8 passes through', 'naïve ✓\n', 1, '("naïve ✓")'],
    ['a table without columns prints ()', '\n', 0, '()'],
  ])('%s', (_what, copyText, columns, record) => {
    const digest = digestOf(copyText, columns)
    expect(digest.rows).toBe(1)
    expect(digest.digest()).toBe(hashOf(record).toString())
  })

  it('sums the rows, whatever their order', () => {
    const rows = ['1\tAda\n', '2\t\\N\n', '3\tx y\n']
    const expected = hashOf('(1,Ada)') + hashOf('(2,)') + hashOf('(3,"x y")')
    expect(digestOf(rows.join(''), 2).digest()).toBe(expected.toString())
    expect(digestOf([...rows].reverse().join(''), 2).digest()).toBe(expected.toString())
  })

  it('gives the same digest however the COPY text is cut', () => {
    const text = `${'a b\t\\\\N\t"x"\n\\N\t\t\\t\n'.repeat(50)}${'long '.repeat(20_000)}\t1\t2\n`
    const whole = digestOf(text, 3).digest()
    for (const size of [1, 2, 3, 7, 100, 65_536]) expect(digestOf(text, 3, size).digest()).toBe(whole)
  })
})

describe('Sum64', () => {
  it('sums signed 64-bit values exactly past 2^53, over millions of additions', () => {
    const sum = new Sum64()
    let expected = 0n
    for (let i = 0; i < 3_000_000; i++) {
      const hi = i % 2 === 0 ? 0x7fffffff : -0x80000000
      const lo = 0xffffffff - (i % 7)
      sum.add(hi, lo)
      expected += BigInt(hi) * 4294967296n + BigInt(lo)
    }
    expect(sum.value()).toBe(expected)
  })

  it('merges the sums of a split table’s parts', () => {
    const a = new Sum64()
    const b = new Sum64()
    a.add(-5, 7)
    b.add(3, 4294967295)
    a.merge(b)
    expect(a.value()).toBe(-2n * 4294967296n + 7n + 4294967295n)
  })
})
