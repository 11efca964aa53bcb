#!/usr/bin/env -S npx tsx
// lifeboat alert-test (npm run alert:test) — send a clearly marked test message to every
// configured alert channel and say which worked.
import { sendTestAlerts } from '../lib/alerts/report-outcome.ts'
import { isMainModule, type JobSpec, main } from '../lib/cli/run-job.ts'
import { configuredChannels, readAlertConfig } from '../lib/core/alert-config.ts'
import { SettingsReader } from '../lib/core/config.ts'
import { ExitCode, LifeboatError } from '../lib/core/errors.ts'
import { plural } from '../lib/core/format.ts'

export const job: JobSpec = {
  name: 'alert-test',
  async run({ args, env }) {
    const reader = new SettingsReader(env, args)
    const config = readAlertConfig(reader)
    reader.finish()
    if (configuredChannels(config).length === 0) {
      throw new LifeboatError(
        'CONFIG_MISSING',
        'no alert channel is configured: set SLACK_WEBHOOK_URL, PAGERDUTY_ROUTING_KEY, SMTP_URL and ONCALL_EMAIL, or HEARTBEAT_URL',
      )
    }
    const channels = await sendTestAlerts({ config, log: () => {} })
    const worked = channels.filter((c) => c.status === 'sent').length
    const ok = worked === channels.length
    const lines = [`Lifeboat alert test (environment ${config.environment}):`]
    for (const c of channels) {
      const mark = c.status === 'sent' ? '✔' : '✘'
      const detail = c.status === 'sent' ? (c.target ?? '') : `${c.error ?? 'failed'} (${c.target ?? ''})`
      lines.push(`  ${mark} ${c.channel.padEnd(9)} ${c.status.padEnd(6)} ${detail}`)
    }
    lines.push(`${worked} of ${plural(channels.length, 'configured channel')} worked.`)
    return {
      summary: { ok, environment: config.environment, channels },
      text: lines.join('\n'),
      exitCode: ok ? ExitCode.ok : ExitCode.failed,
    }
  },
}

if (isMainModule(import.meta.url)) main(job)
