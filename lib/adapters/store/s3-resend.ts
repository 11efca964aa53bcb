// Sending a request again after a failure S3 calls transient. The SDK retries requests
// whose body is a buffer; one whose body is a stream (a part staged in a file) it cannot
// read twice, so the uploader sends it again itself, with a new stream each attempt.
import { setTimeout as sleep } from 'node:timers/promises'

/** Node's codes for a connection that failed or broke, which the SDK also retries. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
])
/** S3's error codes for throttling and for a request that took too long. */
const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'InternalError',
  'ServiceUnavailable',
])

interface MaybeServiceError {
  name?: string
  code?: string
  $retryable?: unknown
  $metadata?: { httpStatusCode?: number }
}

/**
 * Whether a failed request is worth sending again: the connection broke or timed out,
 * the service was busy or failed (5xx, 408, 429), or the SDK marked the error
 * retryable. A refusal (403, 404, 412 …) is final.
 */
export function isTransient(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const e = error as MaybeServiceError
  const status = e.$metadata?.httpStatusCode
  if (status !== undefined && status >= 500) return true
  if (status === 408 || status === 429) return true
  if (e.$retryable !== undefined) return true
  if (e.name !== undefined && TRANSIENT_NAMES.has(e.name)) return true
  return e.code !== undefined && NETWORK_CODES.has(e.code)
}

/** Waits between attempts: 0.2 s, 0.4 s, 0.8 s … at most 10 s. */
export const resendDelayMs = (attempt: number): number => Math.min(10_000, 200 * 2 ** (attempt - 1))

/**
 * Runs `attempt` until it succeeds, at most `attempts` times, waiting between tries;
 * a failure that is not transient, the last one, or the signal firing ends it.
 */
export async function withResends<T>(
  attempt: () => Promise<T>,
  options: { attempts: number; signal: AbortSignal; delayMs?: (attempt: number) => number },
): Promise<T> {
  for (let tried = 1; ; tried++) {
    try {
      return await attempt()
    } catch (error) {
      if (tried >= options.attempts || options.signal.aborted || !isTransient(error)) throw error
      await sleep((options.delayMs ?? resendDelayMs)(tried), undefined, { signal: options.signal })
    }
  }
}
