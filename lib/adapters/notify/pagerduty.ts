// PagerDuty Events API v2: POST /v2/enqueue with the routing key; 202 accepted,
// 400 invalid event (not retried), 429 and 5xx retried (PagerDuty's documented rules).
import type { PagerDutyEvent } from '../../alerts/messages.ts'
import type { Secret } from '../../core/secret.ts'
import { type Fetch, sendHttp } from './http.ts'

export interface PagerDutyConfig {
  routingKey: Secret
  eventsUrl: string
}

/** Sends one event; resolves to the dedup key PagerDuty filed it under. */
export async function sendPagerDutyEvent(
  config: PagerDutyConfig,
  event: PagerDutyEvent,
  options: { fetch?: Fetch; signal: AbortSignal },
): Promise<{ dedupKey: string }> {
  const answer = await sendHttp(
    'PagerDuty',
    config.eventsUrl,
    { method: 'POST', json: { routing_key: config.routingKey.reveal(), ...event } },
    options,
  )
  let dedupKey = event.dedup_key
  try {
    const parsed = JSON.parse(answer.body) as { dedup_key?: unknown }
    if (typeof parsed.dedup_key === 'string') dedupKey = parsed.dedup_key
  } catch {
    // a 2xx without JSON still means accepted
  }
  return { dedupKey }
}
