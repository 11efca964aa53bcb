// A stored object read to its end although its connection breaks: the read starts again
// from the first byte not yet passed on (a ranged GET), so a download that broke off
// after hours does not fail a restore that has loaded half of it. What arrives is still
// checked whole by its reader (the archive's sha256 against its signed sidecar).
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { formatBytes } from '../../core/format.ts'
import { isTransient, resendDelayMs } from './s3-resend.ts'
import type { Store } from './store.ts'

/** Breaks in a row, with no byte arriving in between, after which a read gives up (the S3 client's attempts). */
const READ_RESUMES = 4

export interface ResumeOptions {
  /** How often in a row the read may break without a byte arriving before it gives up (READ_RESUMES). */
  resumes?: number
  signal?: AbortSignal | undefined
  /** Told each time the read starts again: how far it had come, and why it broke. */
  onResume?: (from: number, error: unknown) => void
  delayMs?: (attempt: number) => number
  /** What the read fails with, given the error that ended it (that error itself by default). */
  failure?: (error: unknown) => unknown
}

/**
 * `first` (the object's bytes from its start), continued by `reopen(from)` when a
 * transient failure (a reset connection, a timeout, a 5xx) breaks it. A refusal, the
 * signal, or more than `resumes` breaks in a row without progress end it with that error.
 */
export function resumingRead(
  first: Readable,
  reopen: (from: number) => Promise<Readable>,
  options: ResumeOptions,
): Readable {
  async function* bytes(): AsyncGenerator<Buffer> {
    let body: Readable | undefined = first
    let from = 0
    for (let breaks = 0; ; ) {
      try {
        body ??= await reopen(from)
        for await (const chunk of body as AsyncIterable<Buffer>) {
          breaks = 0
          from += chunk.length
          yield chunk
        }
        return
      } catch (error) {
        body?.destroy()
        body = undefined
        breaks += 1
        if (options.signal?.aborted) throw error
        if (breaks > (options.resumes ?? READ_RESUMES) || !isTransient(error))
          throw options.failure?.(error) ?? error
        options.onResume?.(from, error)
        await sleep((options.delayMs ?? resendDelayMs)(breaks), undefined, { signal: options.signal })
      }
    }
  }
  const read = Readable.from(bytes(), { objectMode: false })
  // Destroyed before its first read, the generator never ran: `first` must not stay open.
  read.once('close', () => first.destroy())
  return read
}

/** `store`'s object at `key`, read on from where a transient failure broke it. */
export async function readResuming(
  store: Pick<Store, 'get'>,
  key: string,
  options: ResumeOptions = {},
): Promise<Readable> {
  return resumingRead(await store.get(key), (from) => store.get(key, { from }), options)
}

/** What a resumed read tells its user: `what` (the download of …) broke off, and where it goes on. */
export function brokeOff(what: string, from: number, error: unknown): string {
  return `${what} broke off after ${formatBytes(from)} (${(error as Error).message}); resuming from there`
}
