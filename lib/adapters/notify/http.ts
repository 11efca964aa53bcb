// One HTTP POST/GET for the webhook-style channels, turning the answer into a
// ChannelError that says whether to retry. The URL is a Secret and never printed.
import { redact, type Secret } from '../../core/secret.ts'
import { ChannelError, retryAfterMs } from './retry.ts'

export type Fetch = typeof globalThis.fetch

export interface HttpAnswer {
  status: number
  body: string
}

export async function sendHttp(
  name: string,
  url: Secret | string,
  init: { method: 'GET' | 'POST'; json?: unknown; headers?: Record<string, string> },
  options: { fetch?: Fetch; signal: AbortSignal },
): Promise<HttpAnswer> {
  const fetchImpl = options.fetch ?? globalThis.fetch
  const target = typeof url === 'string' ? url : url.reveal()
  let response: Response
  try {
    response = await fetchImpl(target, {
      method: init.method,
      headers: {
        'user-agent': 'lifeboat',
        ...(init.json === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
      signal: options.signal,
      redirect: 'follow',
    })
  } catch (error) {
    // fetch says only "fetch failed"; the cause names the network error (ECONNREFUSED, ENOTFOUND).
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    const reason = cause?.code ?? cause?.message ?? (error as Error).message
    throw new ChannelError(redact(`${name} is unreachable: ${reason}`), { retryable: true, cause: error })
  }
  const body = await response.text().catch(() => '')
  if (response.ok) return { status: response.status, body }
  const retryable = response.status === 429 || response.status === 408 || response.status >= 500
  const snippet = body.trim().slice(0, 300)
  throw new ChannelError(redact(`${name} answered ${response.status}${snippet ? `: ${snippet}` : ''}`), {
    retryable,
    ...(retryable ? { retryAfterMs: retryAfterMs(response.headers.get('retry-after')) } : {}),
  })
}
