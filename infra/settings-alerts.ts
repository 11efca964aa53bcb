// Parser for the alert settings: the channels every workflow alerts through, the on-call
// addresses and PagerDuty's endpoint. A stack without a channel is refused: a failed backup
// nobody hears of is no backup.
import type { ConfigReader } from './config-reader.ts'

export const ALERT_CHANNELS = ['slack', 'pagerduty', 'email', 'heartbeat'] as const
export type AlertChannel = (typeof ALERT_CHANNELS)[number]

export interface AlertSettings {
  channels: AlertChannel[]
  oncallEmail?: string
  pagerDutyEventsUrl?: string
}

function parseChannels(raw: unknown, problems: string[]): AlertChannel[] {
  const channels: AlertChannel[] = []
  for (const channel of Array.isArray(raw) ? raw : []) {
    if (typeof channel === 'string' && (ALERT_CHANNELS as readonly string[]).includes(channel)) {
      if (!channels.includes(channel as AlertChannel)) channels.push(channel as AlertChannel)
    } else {
      problems.push(
        `lifeboat:alerts.channels: "${String(channel)}" is not one of ${ALERT_CHANNELS.join(', ')}`,
      )
    }
  }
  return channels
}

export function parseAlerts(config: ConfigReader): AlertSettings {
  const { problems } = config
  const alertsRaw = config.object('lifeboat:alerts', true) ?? {}
  const channels = parseChannels(alertsRaw.channels, problems)
  if (config.raw('lifeboat:alerts') !== undefined && channels.length === 0) {
    problems.push(
      'lifeboat:alerts.channels must name at least one channel: a failed backup nobody hears of is no backup',
    )
  }
  const oncallEmail = typeof alertsRaw.oncallEmail === 'string' ? alertsRaw.oncallEmail : undefined
  if (channels.includes('email') && !oncallEmail)
    problems.push('lifeboat:alerts.oncallEmail is needed for the email channel')
  if (oncallEmail && !oncallEmail.split(',').every((a) => /^[^@\s]+@[^@\s]+$/.test(a.trim()))) {
    problems.push('lifeboat:alerts.oncallEmail must be e-mail addresses, comma separated')
  }
  const pagerDutyEventsUrl =
    typeof alertsRaw.pagerDutyEventsUrl === 'string' ? alertsRaw.pagerDutyEventsUrl : undefined
  if (pagerDutyEventsUrl && !/^https:\/\/[^\s/]+\/\S*$/.test(pagerDutyEventsUrl)) {
    problems.push('lifeboat:alerts.pagerDutyEventsUrl must be an https URL')
  }
  return {
    channels,
    ...(oncallEmail ? { oncallEmail } : {}),
    ...(pagerDutyEventsUrl ? { pagerDutyEventsUrl } : {}),
  }
}
