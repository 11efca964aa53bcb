// A download written to a temp file that can be read while it is still being written:
// the restore loads a stored archive as it arrives instead of after. The network is
// never held back by the load (the file takes what comes), and each reader follows the
// bytes already on disk, waiting at their end until more are written or the download
// is over. A failed download ends every reader with its error.
import { type FileHandle, open } from 'node:fs/promises'
import { Readable, Writable } from 'node:stream'

type State = { kind: 'writing' } | { kind: 'done' } | { kind: 'failed'; error: Error }

export class DownloadFile extends Writable {
  /** Bytes on disk: every reader may read this far. */
  written = 0
  #state: State = { kind: 'writing' }
  #handle: FileHandle | undefined
  #wake: (() => void)[] = []
  /** Settles once the file exists (readers open it only then). */
  readonly created: Promise<void>
  #created!: { resolve: () => void; reject: (error: Error) => void }

  constructor(
    readonly path: string,
    /** What a reader is told when the download fails (the error as the user should read it). */
    readonly describe: (error: Error) => Error,
  ) {
    super({ highWaterMark: 1024 * 1024 })
    // Its failure reaches the owner through the pipeline and the readers through
    // standing(); an 'error' nobody listens to must not end the process.
    this.on('error', () => {})
    this.created = new Promise((resolve, reject) => {
      this.#created = { resolve, reject }
    })
    this.created.catch(() => undefined)
  }

  override _construct(done: (error?: Error | null) => void): void {
    open(this.path, 'wx', 0o600).then(
      (handle) => {
        this.#handle = handle
        this.#created.resolve()
        done()
      },
      (error: Error) => {
        this.#created.reject(this.describe(error))
        done(error)
      },
    )
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.#handle!.write(chunk, 0, chunk.length, this.written).then(({ bytesWritten }) => {
      this.written += bytesWritten
      this.#notify()
      // A short write on a regular file means the disk is full.
      done(bytesWritten === chunk.length ? null : new Error(`short write to ${this.path} (disk full?)`))
    }, done)
  }

  override _final(done: (error?: Error | null) => void): void {
    this.#handle!.close().then(() => {
      this.#settle({ kind: 'done' })
      done()
    }, done)
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    if (this.#state.kind === 'writing') {
      const failure = this.describe(error ?? new Error('the download stopped before its end'))
      this.#created.reject(failure)
      this.#settle({ kind: 'failed', error: failure })
    }
    const handle = this.#handle
    this.#handle = undefined
    if (!handle || this.#state.kind === 'done') done(error)
    else
      handle.close().then(
        () => done(error),
        () => done(error),
      )
  }

  /** A fresh read from the first byte, following the download to its end. */
  follow(chunkBytes: number): Readable {
    return new FollowingRead(this, chunkBytes)
  }

  /** Where a reader at `position` stands: bytes to read, the end, or the download's failure. */
  standing(position: number): 'more' | 'end' | Error | 'wait' {
    if (this.#state.kind === 'failed') return this.#state.error
    if (position < this.written) return 'more'
    return this.#state.kind === 'done' ? 'end' : 'wait'
  }

  /** Resolves at the next write, the end or a failure. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.#wake.push(resolve))
  }

  #settle(state: State): void {
    this.#state = state
    this.#notify()
  }

  #notify(): void {
    const waiting = this.#wake
    this.#wake = []
    for (const wake of waiting) wake()
  }
}

/** Reads the file as far as it is written; at that end, waits for the download. */
class FollowingRead extends Readable {
  #handle: FileHandle | undefined
  #position = 0

  constructor(
    readonly file: DownloadFile,
    readonly chunkBytes: number,
  ) {
    super({ highWaterMark: chunkBytes })
  }

  override _construct(done: (error?: Error | null) => void): void {
    this.file.created
      .then(() => open(this.file.path, 'r'))
      .then(
        (handle) => {
          this.#handle = handle
          done()
        },
        (error: Error) => done(error),
      )
  }

  override _read(): void {
    this.#next().catch((error: Error) => this.destroy(error))
  }

  async #next(): Promise<void> {
    for (;;) {
      const standing = this.file.standing(this.#position)
      if (standing instanceof Error) throw standing
      if (standing === 'end') {
        this.push(null)
        return
      }
      if (standing === 'more') break
      await this.file.changed()
    }
    const length = Math.min(this.chunkBytes, this.file.written - this.#position)
    const buffer = Buffer.allocUnsafe(length)
    const { bytesRead } = await this.#handle!.read(buffer, 0, length, this.#position)
    if (bytesRead === 0) throw new Error(`${this.file.path} is shorter than the bytes written to it`)
    this.#position += bytesRead
    this.push(bytesRead === length ? buffer : buffer.subarray(0, bytesRead))
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    const handle = this.#handle
    this.#handle = undefined
    if (!handle) done(error)
    else
      handle.close().then(
        () => done(error),
        () => done(error),
      )
  }
}
