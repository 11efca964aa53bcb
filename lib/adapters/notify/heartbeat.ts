// Heartbeat (dead-man's switch): a GET on success, so a monitor such as healthchecks.io
// alerts when the pings stop, i.e. when the schedule itself silently stopped.
import type { Secret } from '../../core/secret.ts'
import { type Fetch, sendHttp } from './http.ts'

export async function pingHeartbeat(
  url: Secret,
  options: { fetch?: Fetch; signal: AbortSignal },
): Promise<void> {
  await sendHttp('The heartbeat URL', url, { method: 'GET' }, options)
}
