// The one alert path every job ends with: read the failure history, decide (pure),
// send every channel independently with retry and timeout, save the history. Never throws.

import { describeSmtp, sendEmail } from '../adapters/notify/email.ts'
import { type HistorySourceReport, openFailureHistory } from '../adapters/notify/failure-history.ts'
import { pingHeartbeat } from '../adapters/notify/heartbeat.ts'
import type { Fetch } from '../adapters/notify/http.ts'
import { sendPagerDutyEvent } from '../adapters/notify/pagerduty.ts'
import { type RetryResult, withRetry } from '../adapters/notify/retry.ts'
import { sendSlack } from '../adapters/notify/slack.ts'
import type { Store } from '../adapters/store/store.ts'
import {
  type AlertConfig,
  type ChannelName,
  configuredChannels,
  readAlertConfig,
} from '../core/alert-config.ts'
import { type Env, SettingsReader } from '../core/config.ts'
import { isLifeboatError } from '../core/errors.ts'
import { describeUrl, redact } from '../core/secret.ts'
import {
  type AlertAction,
  decideAlerts,
  dedupKeyFor,
  type FailureHistory,
  historyAfterDelivery,
  NO_FAILURES,
} from './escalation.ts'
import {
  type MessageContext,
  renderEmail,
  renderPagerDutyResolve,
  renderPagerDutyTrigger,
  renderSlackMessage,
} from './messages.ts'
import type { JobOutcome, OutcomeInput } from './outcome.ts'

export interface ReportDeps {
  env: Env
  /** The job's store, when it got that far; its state/status.json holds the failure count. */
  store?: Store
  fetch?: Fetch
  log?: (line: string) => void
  now?: () => Date
  /** Parsed from `env` when absent. */
  config?: AlertConfig
}

export interface ChannelReport {
  channel: ChannelName
  /** `success` / `warning` / `failure` (Slack), `failure` (e-mail), `ping`, `trigger`, `resolve`, `test`. */
  action: string
  status: 'sent' | 'failed' | 'skipped'
  attempts: number
  /** Where it went, safe to print (webhook paths and passwords removed). */
  target?: string
  /** Why it failed or was skipped, redacted. */
  error?: string
}

export interface AlertReport {
  channels: ChannelReport[]
  actions: AlertAction[]
  previous: FailureHistory
  next: FailureHistory
  /** What each history source said (store, github, local). */
  sources: HistorySourceReport[]
  /** Whether the new history was written (store, local). */
  saved: HistorySourceReport[]
  /** Alert settings that were invalid and ignored; the remaining channels were still used. */
  problems: string[]
}

/** Sends the alerts an outcome calls for; a failed channel is reported, never thrown. */
export async function reportOutcome(deps: ReportDeps, outcome: OutcomeInput): Promise<AlertReport> {
  const log = safeLog(deps.log)
  const { config, problems } = deps.config ? { config: deps.config, problems: [] } : parseConfig(deps.env)
  for (const problem of problems) log(`alert: setting ignored: ${problem}`)
  // The environment and the run link come from the alert settings unless the job set them.
  const full: JobOutcome = {
    ...outcome,
    environment: outcome.environment ?? config.environment,
    ...(outcome.run || !config.run ? {} : { run: config.run }),
  }
  try {
    const opened = await openFailureHistory(
      {
        ...(deps.store ? { store: deps.store } : {}),
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
        ...(deps.now ? { now: deps.now } : {}),
        config: config.history,
        timeoutMs: config.delivery.timeoutMs,
      },
      full.job,
      full.environment,
    )
    for (const source of opened.sources) {
      if (source.status === 'unavailable')
        log(`alert: failure history from ${source.source} unavailable: ${source.error}`)
    }
    const decision = decideAlerts(full, opened.history)
    const context: MessageContext = {
      runbookBaseUrl: config.runbookBaseUrl,
      consecutiveFailures: decision.next.consecutiveFailures,
      pagerDuty: config.pagerDuty !== undefined,
    }
    const channels = await Promise.all(
      decision.actions.map((action) => deliver(action, full, context, config, deps.fetch, log)),
    )
    const next = historyAfterDelivery(decision.next, decision.actions, channels)
    const saved = await opened.save(next, full.status)
    for (const report of saved) {
      if (report.status === 'unavailable')
        log(`alert: could not save failure history to ${report.source}: ${report.error}`)
    }
    const failures = next.consecutiveFailures
    // With no channel configured at all there is nothing to report on each run.
    if (channels.some((c) => c.status !== 'skipped'))
      log(
        `alert: ${full.job} ${full.status}; ${failures} failure${failures === 1 ? '' : 's'} in a row; ` +
          summarize(channels),
      )
    return {
      channels,
      actions: decision.actions,
      previous: opened.history,
      next,
      sources: opened.sources,
      saved,
      problems,
    }
  } catch (error) {
    // Only a bug gets here; the job's own outcome must still stand.
    log(`alert: reporting failed unexpectedly: ${describe(error)}`)
    return {
      channels: [],
      actions: [],
      previous: NO_FAILURES,
      next: NO_FAILURES,
      sources: [],
      saved: [],
      problems: [...problems, `internal: ${describe(error)}`],
    }
  }
}

/** `npm run alert:test`: a clearly marked message to every configured channel. */
export async function sendTestAlerts(deps: {
  config: AlertConfig
  fetch?: Fetch
  log?: (line: string) => void
  now?: () => Date
}): Promise<ChannelReport[]> {
  const log = safeLog(deps.log)
  const config = deps.config
  const now = (deps.now ?? (() => new Date()))()
  const outcome: JobOutcome = {
    job: 'alert-test',
    status: 'success',
    environment: config.environment,
    startedAt: now,
    finishedAt: now,
    warnings: [],
    ...(config.run ? { run: config.run } : {}),
  }
  const context: MessageContext = {
    runbookBaseUrl: config.runbookBaseUrl,
    consecutiveFailures: 0,
    pagerDuty: config.pagerDuty !== undefined,
    test: true,
  }
  const reports = await Promise.all(
    configuredChannels(config).map((channel) =>
      deliverTest(channel, outcome, context, config, deps.fetch, log),
    ),
  )
  return reports
}

async function deliver(
  action: AlertAction,
  outcome: JobOutcome,
  context: MessageContext,
  config: AlertConfig,
  fetch: Fetch | undefined,
  log: (line: string) => void,
): Promise<ChannelReport> {
  const retry = config.delivery
  const http = (signal: AbortSignal) => ({ ...(fetch ? { fetch } : {}), signal })
  switch (action.type) {
    case 'slack': {
      const slack = config.slack
      if (!slack) return skipped('slack', action.tone, log)
      const message = renderSlackMessage(outcome, context)
      const result = await withRetry((signal) => sendSlack(slack.webhookUrl, message, http(signal)), retry)
      return finish('slack', action.tone, describeUrl(slack.webhookUrl.reveal()), result, log)
    }
    case 'email': {
      const email = config.email
      if (!email) return skipped('email', 'failure', log)
      const message = renderEmail(outcome, context)
      const result = await withRetry(
        (signal) => sendEmail(email, message, { signal, timeoutMs: retry.timeoutMs }),
        retry,
      )
      return finish(
        'email',
        'failure',
        `${email.to.join(', ')} via ${describeSmtp(email.smtpUrl)}`,
        result,
        log,
      )
    }
    case 'heartbeat': {
      const heartbeat = config.heartbeat
      if (!heartbeat) return skipped('heartbeat', 'ping', log)
      const result = await withRetry((signal) => pingHeartbeat(heartbeat.url, http(signal)), retry)
      return finish('heartbeat', 'ping', describeUrl(heartbeat.url.reveal()), result, log)
    }
    case 'page-trigger':
    case 'page-resolve': {
      const pagerDuty = config.pagerDuty
      const name = action.type === 'page-trigger' ? 'trigger' : 'resolve'
      if (!pagerDuty) return skipped('pagerduty', name, log)
      const event =
        action.type === 'page-trigger'
          ? renderPagerDutyTrigger(outcome, context, action.dedupKey, action.severity)
          : renderPagerDutyResolve(action.dedupKey)
      const result = await withRetry((signal) => sendPagerDutyEvent(pagerDuty, event, http(signal)), retry)
      return finish(
        'pagerduty',
        name,
        `${describeUrl(pagerDuty.eventsUrl, { keepPath: true })} ${action.dedupKey}`,
        result,
        log,
      )
    }
  }
}

async function deliverTest(
  channel: ChannelName,
  outcome: JobOutcome,
  context: MessageContext,
  config: AlertConfig,
  fetch: Fetch | undefined,
  log: (line: string) => void,
): Promise<ChannelReport> {
  if (channel !== 'pagerduty') {
    const action: AlertAction =
      channel === 'slack'
        ? { type: 'slack', tone: 'success' }
        : channel === 'email'
          ? { type: 'email' }
          : { type: 'heartbeat' }
    const report = await deliver(action, outcome, context, config, fetch, log)
    return { ...report, action: 'test' }
  }
  const pagerDuty = config.pagerDuty!
  // Its own dedup key, so the test can never resolve (or merge into) a real page.
  const dedupKey = dedupKeyFor('alert-test', config.environment)
  const target = `${describeUrl(pagerDuty.eventsUrl, { keepPath: true })} ${dedupKey}`
  const http = (signal: AbortSignal) => ({ ...(fetch ? { fetch } : {}), signal })
  const trigger = renderPagerDutyTrigger(outcome, context, dedupKey, 'info')
  const triggered = await withRetry(
    (signal) => sendPagerDutyEvent(pagerDuty, trigger, http(signal)),
    config.delivery,
  )
  if (!triggered.ok) return finish('pagerduty', 'test', target, triggered, log)
  const resolved = await withRetry(
    (signal) => sendPagerDutyEvent(pagerDuty, renderPagerDutyResolve(dedupKey), http(signal)),
    config.delivery,
  )
  if (resolved.ok)
    return finish(
      'pagerduty',
      'test',
      target,
      { ...resolved, attempts: triggered.attempts + resolved.attempts },
      log,
    )
  const error = new Error(
    `triggered, but the resolve failed (resolve ${dedupKey} by hand): ${resolved.error.message}`,
  )
  return finish(
    'pagerduty',
    'test',
    target,
    { ok: false, error, attempts: triggered.attempts + resolved.attempts },
    log,
  )
}

function finish(
  channel: ChannelName,
  action: string,
  target: string,
  result: RetryResult<unknown>,
  log: (line: string) => void,
): ChannelReport {
  const attempts = `${result.attempts} attempt${result.attempts === 1 ? '' : 's'}`
  if (result.ok) {
    log(`alert: ${channel} ${action} sent to ${target} (${attempts})`)
    return { channel, action, status: 'sent', attempts: result.attempts, target }
  }
  const error = describe(result.error)
  log(`alert: ${channel} ${action} FAILED after ${attempts} (${target}): ${error}`)
  return { channel, action, status: 'failed', attempts: result.attempts, target, error }
}

function skipped(channel: ChannelName, action: string, _log: (line: string) => void): ChannelReport {
  // Not configured is a choice, not news: the summary line says what was skipped.
  return { channel, action, status: 'skipped', attempts: 0, error: 'not configured' }
}

function summarize(channels: readonly ChannelReport[]): string {
  if (channels.length === 0) return 'no alerts'
  return channels.map((c) => `${c.channel} ${c.action} ${c.status}`).join(', ')
}

/** Parses the alert settings without failing: an invalid channel is dropped, the rest still work. */
export function parseConfig(env: Env): { config: AlertConfig; problems: string[] } {
  const reader = new SettingsReader(env)
  const config = readAlertConfig(reader)
  try {
    reader.finish()
    return { config, problems: [] }
  } catch (error) {
    const details = isLifeboatError(error) && error.details.length > 0 ? error.details : [describe(error)]
    return { config, problems: details.map(redact) }
  }
}

// Every line leaves through redact(): a library message that echoes a URL stays clean.
function safeLog(log: ((line: string) => void) | undefined): (line: string) => void {
  return (line) => {
    try {
      ;(log ?? ((text: string) => process.stderr.write(`${text}\n`)))(redact(line))
    } catch {
      // a broken logger must not break alerting
    }
  }
}

function describe(error: unknown): string {
  return redact(error instanceof Error ? error.message : String(error))
}
