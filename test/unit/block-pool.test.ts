// The NDJSON blocks of a backup are lent by a pool and given back by the archive's gzip
// once compressed: a block must never be reused while anything still reads it, and
// never be handed out twice at once.
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { BlockGzip } from '../../lib/archive/block-gzip.ts'
import { BlockPool } from '../../lib/archive/block-pool.ts'
import { CopyTextToNdjson } from '../../lib/archive/copy-text-to-ndjson.ts'

// No smaller than a stream's default buffer (16 KiB on Node 20, 64 KiB from Node 22), as
// the backup's 1 MiB blocks are: each stage then holds one block, whatever the version.
const BLOCK = 64 * 1024

/** Counts the distinct blocks it lends. */
class CountingPool extends BlockPool {
  readonly lent = new Set<ArrayBufferLike>()
  override take(): Buffer {
    const block = super.take()
    this.lent.add(block.buffer)
    return block
  }
}

/** COPY text of `rows` rows whose values differ from row to row, so a reused block would show. */
function copyText(rows: number): Buffer {
  const lines = Array.from(
    { length: rows },
    (_, i) => `${i}\treading ${i * 7919}\t${i % 3 === 0 ? '\\N' : 'ok'}\n`,
  )
  return Buffer.from(lines.join(''))
}

async function exportThrough(text: Buffer, pool: BlockPool | undefined): Promise<Buffer> {
  const chunks: Buffer[] = []
  for (let at = 0; at < text.length; at += 1000) chunks.push(text.subarray(at, at + 1000))
  const out: Buffer[] = []
  await pipeline(
    Readable.from(chunks),
    new CopyTextToNdjson(['id', 'note', 'state'], new Set(), pool ?? new BlockPool(BLOCK)),
    new BlockGzip(6, BLOCK, pool),
    async (compressed: AsyncIterable<Buffer>) => {
      for await (const chunk of compressed) out.push(chunk)
    },
  )
  return Buffer.concat(out)
}

describe('BlockPool', () => {
  it('lends a block it was given back whole', () => {
    const pool = new BlockPool(BLOCK)
    const block = pool.take()
    pool.giveBack(block)
    expect(pool.take().buffer).toBe(block.buffer)
  })

  it('keeps neither a part of a block nor a buffer it did not lend', () => {
    const pool = new BlockPool(BLOCK)
    const block = pool.take()
    pool.giveBack(block.subarray(0, BLOCK - 1))
    pool.giveBack(Buffer.allocUnsafeSlow(BLOCK))
    expect(pool.take().buffer).not.toBe(block.buffer)
  })

  it('takes a block back once, however often it is given', () => {
    const pool = new BlockPool(BLOCK)
    const block = pool.take()
    pool.giveBack(block)
    pool.giveBack(block)
    expect(pool.take().buffer).not.toBe(pool.take().buffer)
  })

  it('gives the archive the bytes fresh blocks give, through a handful of blocks', async () => {
    const text = copyText(130_000)
    const pool = new CountingPool(BLOCK)
    const pooled = await exportThrough(text, pool)
    const fresh = await exportThrough(text, undefined)
    expect(pooled.equals(fresh)).toBe(true)
    const ndjson = gunzipSync(pooled)
    expect(ndjson.toString().split('\n')[12_345]).toBe(
      '{"id":"12345","note":"reading 97760055","state":null}',
    )
    const blocks = Math.ceil(ndjson.length / BLOCK)
    expect(blocks).toBeGreaterThan(100)
    expect(pool.lent.size).toBeLessThan(16)
  })
})
