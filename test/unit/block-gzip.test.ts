import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { BlockGzip } from '../../lib/archive/block-gzip.ts'
import { tarHeader, tarPadding } from '../../lib/archive/tar-blocks.ts'

const BLOCK = 64 * 1024

/** Deterministic input, part compressible text and part random bytes. */
function sample(bytes: number): Buffer {
  const text = Buffer.from('{"id":"1","note":"reading"}\n'.repeat(Math.ceil(bytes / 2 / 28)))
  return Buffer.concat([text, randomBytes(bytes)]).subarray(0, bytes)
}

async function compress(input: Buffer, chunkBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  for (let at = 0; at < input.length; at += chunkBytes) chunks.push(input.subarray(at, at + chunkBytes))
  return buffer(Readable.from(chunks).pipe(new BlockGzip(6, BLOCK)))
}

/** The gzip members of a stream: each starts with the magic bytes and a deflate header. */
function memberCount(gz: Buffer): number {
  let count = 0
  for (let at = gz.indexOf('1f8b08', 0, 'hex'); at !== -1; at = gz.indexOf('1f8b08', at + 1, 'hex')) count++
  return count
}

describe('BlockGzip', () => {
  it('gunzips back to the input', async () => {
    const input = sample(5 * BLOCK + 123)
    expect(gunzipSync(await compress(input, 10_000)).equals(input)).toBe(true)
  })

  it('writes one member per block, the last one short', async () => {
    const input = Buffer.alloc(3 * BLOCK + 1, 'a')
    expect(memberCount(await compress(input, BLOCK))).toBe(4)
  })

  it('gives the same bytes however the input is chunked', async () => {
    const input = sample(4 * BLOCK + 7)
    const whole = await compress(input, input.length)
    expect((await compress(input, 1000)).equals(whole)).toBe(true)
    expect((await compress(input, 3 * BLOCK)).equals(whole)).toBe(true)
  })

  it('writes nothing for no input', async () => {
    expect((await compress(Buffer.alloc(0), 1)).length).toBe(0)
  })
})

describe('tar blocks', () => {
  it('writes a ustar header for a short path and a PAX header before a long one', () => {
    const mtime = new Date('2026-11-25T02:00:00Z')
    const short = tarHeader({ path: 'backup-x/data/public.t.ndjson', size: 10, mtime })
    expect(short.length).toBe(512)
    expect(short.subarray(257, 262).toString()).toBe('ustar')
    const long = tarHeader({ path: `backup-x/data/public.${'t'.repeat(120)}.ndjson`, size: 10, mtime })
    expect(long.length).toBeGreaterThan(512)
    expect(long.subarray(0, long.length - 512).toString()).toContain(`${'t'.repeat(120)}.ndjson`)
  })

  it('pads content to whole 512-byte blocks', () => {
    expect(tarPadding(0).length).toBe(0)
    expect(tarPadding(1).length).toBe(511)
    expect(tarPadding(512).length).toBe(0)
  })
})
