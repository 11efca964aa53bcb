// The 1 MiB blocks a backup writes NDJSON into, lent and given back: the converter
// (CopyTextToNdjson) fills one and writes it on; the archive's gzip (BlockGzip), the
// last to read it, gives it back once compressed. A table then passes through a handful
// of blocks instead of one new allocation per MiB, whose memory V8 frees only at its
// next full collection (demo backup: peak RSS 131-134 -> 113-126 MB, bench/README.md).

/** Blocks kept for the next `take`: the ones the gzip has in flight, and a few to spare. */
const KEEP = 8

export class BlockPool {
  readonly #free: Buffer[] = []
  /** What this pool lent and has not had back: only those are ever reused. */
  readonly #lent = new WeakSet<ArrayBufferLike>()

  constructor(readonly blockBytes: number) {}

  /** A block to fill. Once written to a stream it is that stream's, as any chunk is. */
  take(): Buffer {
    const block = this.#free.pop() ?? Buffer.allocUnsafeSlow(this.blockBytes)
    this.#lent.add(block.buffer)
    return block
  }

  /**
   * From the stream that read `block` last, when it is done with it: a whole block this
   * pool lent is kept for reuse; anything else (a part of one, a buffer of another
   * origin) is left to the garbage collector.
   */
  giveBack(block: Buffer): void {
    if (block.byteOffset !== 0 || block.length !== this.blockBytes || !this.#lent.has(block.buffer)) return
    this.#lent.delete(block.buffer)
    if (this.#free.length < KEEP) this.#free.push(block)
  }
}
