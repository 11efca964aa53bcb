#!/usr/bin/env -S npx tsx
// npm run alert:test — send a clearly marked test message to every configured alert
// channel and say which worked. Exit 0 all worked, 1 one failed, 2 none configured or bad settings.
import { minimist } from 'zx'
import { sendTestAlerts } from '../lib/alerts/report-outcome.ts'
import { configuredChannels, readAlertConfig } from '../lib/core/alert-config.ts'
import { SettingsReader } from '../lib/core/config.ts'
import { ExitCode, isLifeboatError } from '../lib/core/errors.ts'
import { redact } from '../lib/core/secret.ts'

const USAGE = `
Usage: npm run alert:test -- [--json]

Sends a test message, marked as a test, to every configured alert channel:
  Slack      SLACK_WEBHOOK_URL
  PagerDuty  PAGERDUTY_ROUTING_KEY (+ PAGERDUTY_EVENTS_URL); triggers and at once
             resolves an info alert with its own key lifeboat/alert-test/<environment>
  E-mail     SMTP_URL + ONCALL_EMAIL (+ SMTP_FROM)
  Heartbeat  HEARTBEAT_URL (the test ping counts as a check-in)
Environment name: ALERT_ENVIRONMENT (default production). See docs/alerts.md.

Options:
  --json      print one JSON summary line on stdout
  -h, --help  this help
Exit codes: 0 every configured channel worked, 1 at least one failed,
            2 no channel configured or a setting is invalid.
`

async function run(): Promise<number> {
  let badFlag: string | undefined
  const args = minimist(process.argv.slice(2), {
    boolean: ['help', 'json'],
    alias: { h: 'help' },
    unknown: (flag) => {
      badFlag ??= flag
      return false
    },
  })
  if (args.help) {
    process.stdout.write(USAGE.trimStart())
    return ExitCode.ok
  }
  if (badFlag)
    return fail(ExitCode.usage, 'USAGE', `unknown argument "${badFlag}"; run with --help`, args.json)

  const reader = new SettingsReader(process.env)
  const config = readAlertConfig(reader)
  try {
    reader.finish()
  } catch (error) {
    if (!isLifeboatError(error)) throw error
    return fail(error.exitCode, error.code, error.message, args.json)
  }
  if (configuredChannels(config).length === 0) {
    return fail(
      ExitCode.usage,
      'CONFIG_MISSING',
      'no alert channel is configured: set SLACK_WEBHOOK_URL, PAGERDUTY_ROUTING_KEY, SMTP_URL and ONCALL_EMAIL, or HEARTBEAT_URL',
      args.json,
    )
  }

  const channels = await sendTestAlerts({ config, log: () => {} })
  const worked = channels.filter((c) => c.status === 'sent').length
  const ok = worked === channels.length
  if (args.json) {
    process.stdout.write(`${redact(JSON.stringify({ ok, environment: config.environment, channels }))}\n`)
  } else {
    const lines = [`Lifeboat alert test (environment ${config.environment}):`]
    for (const c of channels) {
      const mark = c.status === 'sent' ? '✔' : '✘'
      const detail = c.status === 'sent' ? (c.target ?? '') : `${c.error ?? 'failed'} (${c.target ?? ''})`
      lines.push(`  ${mark} ${c.channel.padEnd(9)} ${c.status.padEnd(6)} ${detail}`)
    }
    lines.push(
      `${worked} of ${channels.length} configured channel${channels.length === 1 ? '' : 's'} worked.`,
    )
    process.stdout.write(`${redact(lines.join('\n'))}\n`)
  }
  return ok ? ExitCode.ok : ExitCode.failed
}

function fail(exit: number, code: string, message: string, json: boolean): number {
  const text = redact(message)
  if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: { code, message: text } })}\n`)
  process.stderr.write(`lifeboat alert:test: ${code}: ${text}\n`)
  return exit
}

run().then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(
      `lifeboat alert:test: INTERNAL: ${redact(error instanceof Error ? error.message : String(error))}\n`,
    )
    process.exitCode = ExitCode.failed
  },
)
