// Writes archive format v1 as one stream: tar (entries in the order they are added)
// -> gzip -> optional encryption -> the caller's sink. Entries are spooled to a work
// folder first (a tar header needs the size) and removed as soon as they are packed.
import { createHash } from 'node:crypto'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { PassThrough, type Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { Pack } from 'tar'

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

export class ArchiveWriter {
  /** The archive bytes, to hand to a store. */
  readonly output: Readable
  readonly #pack: Pack
  readonly #options: ArchiveWriterOptions
  readonly #meter = new ArchiveMeter()
  readonly #flowing: Promise<void>
  readonly #pendingRemovals: Promise<unknown>[] = []

  constructor(options: ArchiveWriterOptions) {
    this.#options = options
    this.#pack = new Pack({
      cwd: options.workDir,
      portable: true,
      noDirRecurse: true,
      mtime: options.mtime,
      // node-tar reads spooled files 16 MB at a time by default; memory stays flat with less.
      maxReadSize: 1024 * 1024,
      onWriteEntry: (entry) => {
        // The spooled copy is no longer needed once its bytes are in the tar stream.
        if (entry.type === 'File') {
          entry.on('end', () => this.#pendingRemovals.push(rm(entry.absolute, { force: true })))
        }
      },
    })
    const tarBytes = new PassThrough({ highWaterMark: 1024 * 1024 })
    this.#pack.on('error', (error: unknown) => tarBytes.destroy(error as Error))
    this.#pack.pipe(tarBytes)
    const output = new PassThrough({ highWaterMark: 1024 * 1024 })
    this.output = output
    this.#flowing = pipeline(
      tarBytes,
      createGzip({ level: options.gzipLevel }),
      ...(options.transforms ?? []),
      this.#meter,
      output,
    )
    // Surfaced by finish(); a failing sink destroys `output` and so the pipeline.
    this.#flowing.catch(() => undefined)
  }

  async open(): Promise<void> {
    await mkdir(join(this.#options.workDir, this.#options.root, 'data'), { recursive: true, mode: 0o755 })
    this.#pack.add(this.#options.root)
    this.#pack.add(`${this.#options.root}/data`)
  }

  /** Where to write the content of an entry before `add`ing it (path relative to the root). */
  spoolPath(relativePath: string): string {
    return join(this.#options.workDir, this.#options.root, relativePath)
  }

  /** Adds a spooled entry; entries appear in the tar in the order they are added. */
  add(relativePath: string): void {
    this.#pack.add(`${this.#options.root}/${relativePath}`)
  }

  /** Writes a small entry (manifest, SHA256SUMS, schema.sql) and adds it. */
  async addText(relativePath: string, text: string): Promise<void> {
    const path = this.spoolPath(relativePath)
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, text)
    this.add(relativePath)
  }

  /** Ends the tar and waits until every byte has left through `output`. */
  async finish(): Promise<ArchiveStats> {
    this.#pack.end()
    await this.#flowing
    await Promise.all(this.#pendingRemovals)
    return { bytes: this.#meter.bytes, sha256: this.#meter.hash.digest('hex') }
  }

  /** Stops the stream on failure; the sink sees an error, not an end. */
  abort(error: Error): void {
    this.output.destroy(error)
  }

  async dispose(): Promise<void> {
    await rm(this.#options.workDir, { recursive: true, force: true })
  }
}
