// A fetch that retries what an API answers when it is busy or slow: 429 and 5xx,
// timeouts and dropped connections, with exponential backoff (honouring Retry-After).
// Bodies are read inside the attempt, so a response cut off mid-way is retried too.

export interface RetryPolicy {
  /** Tries per request, the first included. */
  attempts: number
  baseDelayMs: number
  maxDelayMs: number
  /** Per attempt, headers and body together. */
  timeoutMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  timeoutMs: 60_000,
}

export interface HttpStats {
  requests: number
  retries: number
  /** Answers 429 (rate limited) seen, retried or not. */
  throttled: number
}

export interface RetryInfo {
  method: string
  url: string
  attempt: number
  delayMs: number
  reason: string
}

export interface RetryingFetchOptions extends Partial<RetryPolicy> {
  fetch?: typeof fetch
  sleep?: (ms: number) => Promise<void>
  onRetry?: (info: RetryInfo) => void
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE', 'PUT'])
/** Not processed at all: safe to send again even for an insert. */
const NOT_PROCESSED_STATUS = new Set([429, 503])
const NOT_SENT_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'])

export function createRetryingFetch(options: RetryingFetchOptions = {}): {
  fetch: typeof fetch
  stats: HttpStats
} {
  const policy: RetryPolicy = {
    attempts: options.attempts ?? DEFAULT_RETRY_POLICY.attempts,
    baseDelayMs: options.baseDelayMs ?? DEFAULT_RETRY_POLICY.baseDelayMs,
    maxDelayMs: options.maxDelayMs ?? DEFAULT_RETRY_POLICY.maxDelayMs,
    timeoutMs: options.timeoutMs ?? DEFAULT_RETRY_POLICY.timeoutMs,
  }
  const inner = options.fetch ?? globalThis.fetch
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)))
  const stats: HttpStats = { requests: 0, retries: 0, throttled: 0 }

  const retrying = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const method = (init.method ?? 'GET').toUpperCase()
    const url = String(input instanceof Request ? input.url : input)
    const idempotent = IDEMPOTENT.has(method)
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= policy.attempts
      const timeout = AbortSignal.timeout(policy.timeoutMs)
      const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout
      stats.requests++
      let reason: string
      let retryAfterMs: number | undefined
      try {
        const response = await inner(input, { ...init, signal })
        const body = await response.arrayBuffer()
        if (response.status === 429) stats.throttled++
        const retryable = response.status === 429 || (response.status >= 500 && response.status !== 501)
        if (!retryable || last || !(idempotent || NOT_PROCESSED_STATUS.has(response.status))) {
          return new Response([204, 205, 304].includes(response.status) ? null : body, {
            status: response.status,
            statusText: response.statusText,
            headers: response.headers,
          })
        }
        reason = `HTTP ${response.status}`
        retryAfterMs = parseRetryAfter(response.headers.get('retry-after'))
      } catch (error) {
        if (init.signal?.aborted) throw error
        const code = errorCode(error)
        const timedOut = timeout.aborted
        const canResend = idempotent || (code !== undefined && NOT_SENT_ERRORS.has(code))
        if (last || !canResend) {
          if (timedOut)
            throw new Error(`no answer within ${policy.timeoutMs} ms from ${method} ${safeUrl(url)}`)
          throw error
        }
        reason = timedOut ? `timeout after ${policy.timeoutMs} ms` : (code ?? (error as Error).message)
      }
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1))
      // Full jitter keeps many clients from retrying in lockstep; Retry-After wins when given.
      const delayMs = retryAfterMs ?? Math.round(backoff / 2 + (Math.random() * backoff) / 2)
      stats.retries++
      options.onRetry?.({ method, url: safeUrl(url), attempt, delayMs, reason })
      await sleep(Math.min(delayMs, policy.maxDelayMs))
    }
  }
  return { fetch: retrying as typeof fetch, stats }
}

/** Retry-After as seconds or an HTTP date, in milliseconds. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

function errorCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; cause?: { code?: unknown } }
  const code = e.cause?.code ?? e.code
  return typeof code === 'string' ? code : undefined
}

/** Query strings may carry filter values; they stay out of messages. */
function safeUrl(url: string): string {
  return url.replace(/\?.*$/, '')
}
