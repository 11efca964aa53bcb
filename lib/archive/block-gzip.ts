// gzip in independent 1 MiB members, several compressed at once on libuv's thread
// pool and written in order (as pigz does). One gzip stream runs on one core, and
// NDJSON repeats its keys on every row, so a single stream is the slowest part of
// a backup; the members read back as one stream (RFC 1952, 2.2). Blocks are cut at
// fixed offsets, so the same input always gives the same bytes.
import { availableParallelism } from 'node:os'
import { Transform, type TransformCallback } from 'node:stream'
import { promisify } from 'node:util'
import { constants, gzip, type ZlibOptions } from 'node:zlib'
import type { BlockPool } from './block-pool.ts'

const gzipAsync = promisify(gzip)

/**
 * Deflate tuned for NDJSON at the same level: the largest hash table (memLevel 9, 64
 * KiB more per stream) finds the repeated keys with fewer collisions, and Z_FILTERED
 * prefers literals to short matches. On the demo's metrics (381 MB) at level 6: 25 %
 * less CPU and a 2 % smaller output than the defaults (bench/README.md).
 */
function deflateOptions(level: number): ZlibOptions {
  return {
    level,
    memLevel: 9,
    strategy: constants.Z_FILTERED,
    chunkSize: OUTPUT_BYTES,
    flush: constants.Z_FINISH,
  }
}

/**
 * zlib's output buffer per call: a compressed block fits in one, so each block makes one
 * round trip to the thread pool instead of one per 16 KiB of output (7 % less CPU on the
 * demo's metrics, bench/README.md). With `flush: Z_FINISH` the whole member is written in
 * that one call, and the result is the buffer itself: finished in a second call, the two
 * pieces were copied into a third buffer, garbage that lives long enough to wait for a
 * full collection (the same bytes either way).
 */
const OUTPUT_BYTES = 256 * 1024

export const BLOCK_BYTES = 1024 * 1024
/**
 * Blocks being compressed at once: one per core, up to the thread pool's 4 threads. Each
 * holds its block and a zlib stream; on two cores, two in flight instead of four gave the
 * demo backup the same time and 6 MB less at its peak (bench/README.md).
 */
const IN_FLIGHT = Math.min(4, availableParallelism())

export class BlockGzip extends Transform {
  readonly #level: number
  readonly #blockBytes: number
  /** Where whole blocks go once compressed (the converter's pool), if anywhere. */
  readonly #lender: BlockPool | undefined
  #pending: Buffer[] = []
  #pendingBytes = 0
  /** Compressions under way, oldest first: output keeps this order. */
  #inFlight: Promise<Buffer>[] = []

  constructor(level: number, blockBytes = BLOCK_BYTES, lender?: BlockPool) {
    super({ highWaterMark: blockBytes })
    this.#level = level
    this.#blockBytes = blockBytes
    this.#lender = lender
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#take(chunk).then(() => done(), done)
  }

  override _flush(done: TransformCallback): void {
    this.#drain().then(() => done(), done)
  }

  async #take(chunk: Buffer): Promise<void> {
    let at = 0
    while (at < chunk.length) {
      const take = Math.min(this.#blockBytes - this.#pendingBytes, chunk.length - at)
      this.#pending.push(chunk.subarray(at, at + take))
      this.#pendingBytes += take
      at += take
      if (this.#pendingBytes === this.#blockBytes) await this.#compressPending()
    }
  }

  async #compressPending(): Promise<void> {
    // A block that came in whole (CopyTextToNdjson writes whole blocks) needs no copy:
    // a written chunk belongs to the stream it was written to.
    const block =
      this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes)
    this.#pending = []
    this.#pendingBytes = 0
    const compressed = gzipAsync(block, deflateOptions(this.#level))
    // Awaited in order below; a later failure must not go unhandled meanwhile.
    compressed.then(
      () => this.#lender?.giveBack(block),
      () => undefined,
    )
    this.#inFlight.push(compressed)
    while (this.#inFlight.length >= IN_FLIGHT) this.push(await this.#inFlight.shift()!)
  }

  async #drain(): Promise<void> {
    if (this.#pendingBytes > 0) await this.#compressPending()
    while (this.#inFlight.length > 0) this.push(await this.#inFlight.shift()!)
  }
}
