// The one-pass verified read (verified-read.ts) as a cursor the restore pulls from:
// its phases take schema.sql and roles.sql, check the target, begin the transaction,
// then pull the data files, while the archive waits, paused, between them.
import type { Readable } from 'node:stream'
import { isLifeboatError, LifeboatError } from '../core/errors.ts'
import type { Manifest } from './manifest.ts'
import type { ReadArchiveOptions } from './reader.ts'
import { readVerifiedArchive, type VerifiedEntry } from './verified-read.ts'

interface Offer {
  entry: VerifiedEntry
  /** The consumer is done with the entry: reading goes on. */
  release(): void
  /** The consumer gave up: reading stops with this error. */
  refuse(error: Error): void
}

interface Mailbox {
  promise: Promise<Offer | undefined>
  deliver(offer: Offer | undefined): void
  fail(error: unknown): void
}

function mailbox(): Mailbox {
  let deliver!: Mailbox['deliver']
  let fail!: Mailbox['fail']
  const promise = new Promise<Offer | undefined>((resolve, reject) => {
    deliver = resolve
    fail = reject
  })
  // Observed by next(); a read that fails while nobody waits must not crash the process.
  promise.catch(() => undefined)
  return { promise, deliver, fail }
}

export class VerifiedArchiveCursor {
  readonly #stop = new AbortController()
  readonly #read: Promise<Manifest>
  #mail = mailbox()
  /** Offered by the reader, not yet taken by next(). */
  #waiting: Offer | undefined
  #handed: Offer | undefined
  /** keep() was called: next() hands the same entry again. */
  #again = false
  #manifest: Manifest | undefined
  #closed = false
  readonly #where: string

  /** Starts reading `input`; every file is checked against `expected` (verified-read.ts). */
  constructor(input: Readable, expected: Manifest, options: ReadArchiveOptions) {
    this.#where = options.where
    const signal = options.signal ? AbortSignal.any([options.signal, this.#stop.signal]) : this.#stop.signal
    this.#read = readVerifiedArchive(input, expected, (entry) => this.#offer(entry), { ...options, signal })
    this.#read.then(
      (manifest) => {
        this.#manifest = manifest
        this.#mail.deliver(undefined)
      },
      (error: unknown) => this.#mail.fail(error),
    )
  }

  /**
   * The next file, once the previous one is done with (a data file's stream read to
   * its end, or left unread: it is then skipped, still checked). Undefined once the
   * archive has ended and passed its end checks; throws the read's failure.
   */
  async next(): Promise<VerifiedEntry | undefined> {
    if (this.#closed) throw new LifeboatError('INTERNAL', 'the archive cursor is closed')
    if (this.#again && this.#handed) {
      this.#again = false
      return this.#handed.entry
    }
    const mail = this.#mail
    this.#handed?.release()
    this.#handed = undefined
    const offer = await mail.promise.catch((error: unknown) => {
      throw asVerdict(error, this.#where)
    })
    if (!offer) return undefined
    this.#mail = mailbox()
    this.#waiting = undefined
    this.#handed = offer
    return offer.entry
  }

  /** The entry just handed out, untouched, is handed again by the next call to next(). */
  keep(): void {
    this.#again = true
  }

  /** The archive's own manifest, once next() has returned undefined. */
  get manifest(): Manifest {
    if (!this.#manifest) throw new LifeboatError('INTERNAL', 'the archive has not been read to its end')
    return this.#manifest
  }

  /** Stops reading (after a failure elsewhere) and waits until the reader has let go of the file. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const reason = new LifeboatError('INTERRUPTED', 'the restore stopped reading the archive')
    for (const offer of [this.#handed, this.#waiting]) offer?.refuse(reason)
    this.#stop.abort(reason)
    await this.#read.catch(() => undefined)
  }

  #offer(entry: VerifiedEntry): Promise<void> {
    return new Promise((release, refuse) => {
      if (this.#closed) refuse(new LifeboatError('INTERRUPTED', 'the restore stopped reading the archive'))
      else {
        this.#waiting = { entry, release: () => release(), refuse }
        this.#mail.deliver(this.#waiting)
      }
    })
  }
}

/**
 * Bytes that are not a valid archive, met by the verified read, are its verdict on the
 * archive, as the verify pass gives it: VERIFY_FAILED, whether the load of a table or the
 * read between tables met them first.
 */
function asVerdict(error: unknown, where: string): unknown {
  if (!isLifeboatError(error) || error.code !== 'ARCHIVE_CORRUPT') return error
  return new LifeboatError('VERIFY_FAILED', `${where} failed verification: ${error.message}`, {
    cause: error,
  })
}
