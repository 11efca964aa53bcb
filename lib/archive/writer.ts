// Writes archive format v1 as one stream: tar (entries in the order they are added)
// -> gzip -> optional encryption -> the caller's sink. The gzip stream is a series of
// members, which gunzip and `tar -xzf` read as one (RFC 1952, section 2.2): a data
// file is compressed while it is exported (`spool`), in parallel blocks (BlockGzip),
// and packing copies the compressed bytes behind a header member. Entries are spooled
// to a private work folder first (a tar header needs the size) and removed once packed;
// for an encrypted archive the spooled files are encrypted too (temp-files.ts).
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { PassThrough, type Readable, Transform, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { gzipSync } from 'node:zlib'
import { deferred } from '../core/deferred.ts'
import { BLOCK_BYTES, BlockGzip } from './block-gzip.ts'
import { BlockPool } from './block-pool.ts'
import { tarEnd, tarHeader, tarPadding } from './tar-blocks.ts'
import { plainTempFiles, type TempFiles } from './temp-files.ts'

export interface ArchiveWriterOptions {
  /** The archive's root folder name: the backup id. */
  root: string
  /** A private folder for spooled entries; removed by `dispose()`. */
  workDir: string
  gzipLevel: number
  /** Entries' modification time: the backup's start, so archives are reproducible. */
  mtime: Date
  /** Transforms applied after gzip (encryption). */
  transforms?: Transform[]
  /** How spooled entries are kept on disk: encrypted when the archive is (plain by default). */
  tempFiles?: TempFiles
}

/** Where small text entries go: the archive itself, or a place reserved in its order. */
export interface TextEntries {
  addText(relativePath: string, text: string): Promise<void>
}

/** A reserved place (ArchiveWriter.reserve): its entries, then `close` to let packing go on. */
export interface ArchiveSlot extends TextEntries {
  close(): void
}

export interface ArchiveStats {
  bytes: number
  sha256: string
}

class ArchiveMeter extends Transform {
  bytes = 0
  readonly hash = createHash('sha256')
  override _transform(chunk: Buffer, _e: BufferEncoding, done: (e?: Error | null, d?: Buffer) => void) {
    this.bytes += chunk.length
    this.hash.update(chunk)
    done(null, chunk)
  }
}

/** An entry's content, gzipped into a file as it is written; `bytes` counts what came in. */
export class CompressedSpool extends Writable {
  bytes = 0
  readonly path: string
  readonly #gzip: BlockGzip
  readonly #written: Promise<void>

  constructor(path: string, level: number, files: TempFiles = plainTempFiles, blocks?: BlockPool) {
    super({ highWaterMark: 1024 * 1024 })
    this.path = path
    this.#gzip = new BlockGzip(level, BLOCK_BYTES, blocks)
    this.#written = pipeline(this.#gzip, files.createWriteStream(path))
    this.#written.catch(() => undefined)
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.bytes += chunk.length
    // Called once zlib has taken the chunk: the next ones wait in this stream's buffer.
    // When the file write failed (ENOSPC), that error is the one to report, not "destroyed".
    this.#gzip.write(chunk, (error) => (error ? this.#written.then(() => done(error), done) : done()))
  }

  override _final(done: (error?: Error | null) => void): void {
    this.#gzip.end()
    this.#written.then(() => done(), done)
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.#gzip.destroy()
    done(error)
  }
}

/** How much of a spooled entry packing reads at a time. */
const PACK_READ_BYTES = 64 * 1024

export class ArchiveWriter {
  /** The archive bytes, to hand to a store. */
  readonly output: Readable
  /** Blocks for the entries' content: a spool's gzip gives each back once compressed. */
  readonly blocks = new BlockPool(BLOCK_BYTES)
  readonly #options: ArchiveWriterOptions
  /** The gzip members, in archive order. */
  readonly #members = new PassThrough({ highWaterMark: 1024 * 1024 })
  readonly #meter = new ArchiveMeter()
  readonly #flowing: Promise<void>
  readonly #spools = new Map<string, CompressedSpool>()
  readonly #files: TempFiles
  /** Packing, one entry after another, in the order of `add`. */
  #packing: Promise<void> = Promise.resolve()

  constructor(options: ArchiveWriterOptions) {
    this.#options = options
    this.#files = options.tempFiles ?? plainTempFiles
    const output = new PassThrough({ highWaterMark: 1024 * 1024 })
    this.output = output
    this.#flowing = pipeline([this.#members, ...(options.transforms ?? []), this.#meter, output])
    // Surfaced by finish(); a failing sink destroys `output` and so the pipeline.
    this.#flowing.catch(() => undefined)
  }

  async open(): Promise<void> {
    await mkdir(join(this.#options.workDir, this.#options.root, 'data'), { recursive: true, mode: 0o700 })
    for (const folder of [`${this.#options.root}/`, `${this.#options.root}/data/`]) {
      this.#pack(() => this.#push(gzipSync(tarHeader({ path: folder, size: 0, mtime: this.#options.mtime }))))
    }
  }

  /** Where to write the content of an entry before `add`ing it (path relative to the root). */
  spoolPath(relativePath: string): string {
    return join(this.#options.workDir, this.#options.root, relativePath)
  }

  /** How this archive's temp files are written and read (encrypted when the archive is). */
  get tempFiles(): TempFiles {
    return this.#files
  }

  /** A stream for an entry's content that compresses as it goes; `add` the entry once it has finished. */
  spool(relativePath: string): CompressedSpool {
    const spool = new CompressedSpool(
      `${this.spoolPath(relativePath)}.gz`,
      this.#options.gzipLevel,
      this.#files,
      this.blocks,
    )
    this.#spools.set(relativePath, spool)
    return spool
  }

  /** Adds a spooled entry (from `spool`, or a file at `spoolPath` written through `tempFiles`), in order of adding. */
  add(relativePath: string): void {
    const spool = this.#spools.get(relativePath)
    this.#spools.delete(relativePath)
    const path = spool?.path ?? this.spoolPath(relativePath)
    this.#pack(async () => {
      const size = spool ? spool.bytes : await this.#files.size(path)
      const header = tarHeader({
        path: `${this.#options.root}/${relativePath}`,
        size,
        mtime: this.#options.mtime,
      })
      await this.#push(gzipSync(header))
      // In 64 KiB pieces, as a socket reads: a 1 MiB piece, waiting in the archive's
      // buffers, tends to outlive V8's young generation and wait for a full collection
      // (demo backup, 4 runs each: peak RSS 119-128 -> 113-117 MB, bench/README.md).
      const bytes = await this.#files.createReadStream(path, { highWaterMark: PACK_READ_BYTES })
      if (spool) await this.#pushAll(bytes)
      else {
        const gzip = new BlockGzip(this.#options.gzipLevel)
        bytes.on('error', (error) => gzip.destroy(error))
        await this.#pushAll(bytes.pipe(gzip))
      }
      const padding = tarPadding(size)
      if (padding.length > 0) await this.#push(gzipSync(padding))
      await rm(path, { force: true })
    })
  }

  /** Adds a small entry (manifest, SHA256SUMS, schema.sql) from memory: it never touches the disk. */
  async addText(relativePath: string, text: string): Promise<void> {
    const bytes = Buffer.from(text)
    this.#pack(() => this.#writeText(relativePath, bytes))
  }

  /**
   * A place in the archive's order for small entries known later (schema.sql, made while
   * the tables are exported): entries added after it are packed after it, once it is
   * closed. Its owner must close it, also on failure, or packing waits for ever.
   */
  reserve(): ArchiveSlot {
    const closed = deferred<void>()
    const entries: { path: string; bytes: Buffer }[] = []
    this.#pack(async () => {
      await closed.promise
      for (const { path, bytes } of entries) await this.#writeText(path, bytes)
    })
    return {
      addText: async (path, text) => void entries.push({ path, bytes: Buffer.from(text) }),
      close: () => closed.resolve(),
    }
  }

  async #writeText(relativePath: string, bytes: Buffer): Promise<void> {
    const path = `${this.#options.root}/${relativePath}`
    await this.#push(gzipSync(tarHeader({ path, size: bytes.length, mtime: this.#options.mtime })))
    if (bytes.length > 0) await this.#push(gzipSync(bytes, { level: this.#options.gzipLevel }))
    const padding = tarPadding(bytes.length)
    if (padding.length > 0) await this.#push(gzipSync(padding))
  }

  /** Ends the tar and waits until every byte has left through `output`. */
  async finish(): Promise<ArchiveStats> {
    this.#pack(() => this.#push(gzipSync(tarEnd())))
    await this.#packing
    this.#members.end()
    await this.#flowing
    return { bytes: this.#meter.bytes, sha256: this.#meter.hash.digest('hex') }
  }

  /** Stops the stream on failure; the sink sees an error, not an end. */
  abort(error: Error): void {
    this.output.destroy(error)
    this.#members.destroy(error)
  }

  async dispose(): Promise<void> {
    await rm(this.#options.workDir, { recursive: true, force: true })
  }

  #pack(step: () => Promise<void>): void {
    this.#packing = this.#packing.then(step)
    // Surfaced by finish(); until then a failed step only stops the ones after it.
    this.#packing.catch(() => undefined)
  }

  async #push(chunk: Buffer): Promise<void> {
    if (this.#members.destroyed) throw new Error('the archive stream was closed')
    if (!this.#members.write(chunk)) await Promise.race([once(this.#members, 'drain'), this.#flowing])
  }

  async #pushAll(source: Readable): Promise<void> {
    for await (const chunk of source) await this.#push(chunk as Buffer)
  }
}
