// Slack incoming webhook: POST a Block Kit message; Slack answers 200 "ok" or an
// error word (400 invalid_blocks, 404 no_service, 429 with Retry-After, 5xx).
import type { SlackMessage } from '../../alerts/messages.ts'
import type { Secret } from '../../core/secret.ts'
import { type Fetch, sendHttp } from './http.ts'

export async function sendSlack(
  webhookUrl: Secret,
  message: SlackMessage,
  options: { fetch?: Fetch; signal: AbortSignal },
): Promise<void> {
  await sendHttp('Slack', webhookUrl, { method: 'POST', json: message }, options)
}
