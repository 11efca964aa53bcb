// Retries one channel delivery with exponential backoff and a timeout per attempt;
// never throws, so a broken channel cannot hide the job's outcome or stop the others.
import { setTimeout as sleep } from 'node:timers/promises'

export interface RetryOptions {
  attempts: number
  backoffMs: number
  timeoutMs: number
  /** Injected in tests; defaults to a real timer. */
  wait?: (ms: number) => Promise<void>
}

export type RetryResult<T> =
  | { ok: true; value: T; attempts: number }
  | { ok: false; error: Error; attempts: number }

/** A delivery error that says whether another attempt can help (429 and 5xx can; 400 cannot). */
export class ChannelError extends Error {
  override readonly name = 'ChannelError'
  readonly retryable: boolean
  readonly retryAfterMs: number | undefined

  constructor(message: string, options: { retryable: boolean; retryAfterMs?: number; cause?: unknown }) {
    super(message, { cause: options.cause })
    this.retryable = options.retryable
    this.retryAfterMs = options.retryAfterMs
  }
}

// Honour a server's Retry-After only while it stays short: an alert that waits minutes is late.
const MAX_RETRY_AFTER_MS = 30_000

export async function withRetry<T>(
  work: (signal: AbortSignal, attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<RetryResult<T>> {
  const wait = options.wait ?? ((ms: number) => sleep(ms))
  const attempts = Math.max(1, options.attempts)
  let last: Error = new Error('not attempted')
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const signal = AbortSignal.timeout(options.timeoutMs)
    try {
      return {
        ok: true,
        value: await untilAborted(work(signal, attempt), signal, options.timeoutMs),
        attempts: attempt,
      }
    } catch (error) {
      last = error instanceof Error ? error : new Error(String(error))
      const retryable = !(last instanceof ChannelError) || last.retryable
      if (!retryable || attempt === attempts) return { ok: false, error: last, attempts: attempt }
      const backoff = options.backoffMs * 2 ** (attempt - 1)
      const hinted = last instanceof ChannelError ? last.retryAfterMs : undefined
      await wait(hinted !== undefined && hinted <= MAX_RETRY_AFTER_MS ? Math.max(hinted, backoff) : backoff)
    }
  }
  return { ok: false, error: last, attempts }
}

/** Parses an HTTP Retry-After header (seconds or a date) into milliseconds. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(header)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

// A client that ignores the signal (or a socket stuck before the client checks it)
// must still not hold the job: the attempt ends when the signal fires.
function untilAborted<T>(work: Promise<T>, signal: AbortSignal, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new ChannelError(`timed out after ${timeoutMs} ms`, { retryable: true }))
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(
          signal.aborted ? new ChannelError(`timed out after ${timeoutMs} ms`, { retryable: true }) : error,
        )
      },
    )
  })
}
