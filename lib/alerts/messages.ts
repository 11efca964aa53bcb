// What each channel says about an outcome, as plain data: Slack Block Kit, e-mail text,
// PagerDuty Events v2 bodies (without the routing key, which the adapter adds). Pure.
import { formatBytes, formatCount } from '../core/format.ts'
import type { PageSeverity, SlackTone } from './escalation.ts'
import { dedupKeyFor, PAGE_AFTER_FAILURES, toneOf } from './escalation.ts'
import type { JobName, JobOutcome } from './outcome.ts'

export interface MessageContext {
  /** Prefix for runbook paths (`https://github.com/o/r/blob/main/`), or '' for relative. */
  runbookBaseUrl: string
  /** Failures in a row including this run (0 on success). */
  consecutiveFailures: number
  /** PagerDuty is configured, so reaching the threshold pages on-call. */
  pagerDuty: boolean
  /** A message from `npm run alert:test`: says so loudly, asks for no action. */
  test?: boolean
}

export interface SlackText {
  type: 'plain_text' | 'mrkdwn'
  text: string
}
export type SlackBlock =
  | { type: 'header'; text: SlackText }
  | { type: 'section'; text?: SlackText; fields?: SlackText[] }
  | { type: 'context'; elements: SlackText[] }
  | { type: 'divider' }
export interface SlackMessage {
  /** Shown in notifications and by clients that cannot render blocks. */
  text: string
  blocks: SlackBlock[]
}

export interface EmailMessage {
  subject: string
  text: string
}

export interface PagerDutyTrigger {
  event_action: 'trigger'
  dedup_key: string
  payload: {
    summary: string
    source: string
    severity: PageSeverity | 'warning' | 'info'
    timestamp: string
    component: string
    group: string
    class: string
    custom_details: Record<string, string | number>
  }
  client: string
  client_url?: string
  links?: { href: string; text: string }[]
}
export interface PagerDutyResolve {
  event_action: 'resolve'
  dedup_key: string
}
export type PagerDutyEvent = PagerDutyTrigger | PagerDutyResolve

const JOB_TITLES: Record<JobName, string> = {
  backup: 'Backup',
  restore: 'Restore',
  verify: 'Verify',
  clean: 'Clean',
  monitor: 'Backup monitor',
  drill: 'Restore drill',
  'dr-test': 'DR test',
  'alert-test': 'Alert test',
}

/** The command that runs the job again, for the "what to do" line. */
export const JOB_COMMANDS: Record<JobName, string> = {
  backup: 'npm run backup:database',
  restore: 'npm run backup:restore',
  verify: 'npm run backup:verify',
  clean: 'npm run backup:clean',
  monitor: 'npm run backup:monitor',
  drill: 'npm run backup:drill',
  'dr-test': 'npm run dr:test',
  'alert-test': 'npm run alert:test',
}

const TONE_WORDS: Record<SlackTone, string> = {
  success: 'succeeded',
  warning: 'succeeded with warnings',
  failure: 'FAILED',
}
const TONE_ICONS: Record<SlackTone, string> = { success: '✅', warning: '⚠️', failure: '🚨' }

// Block Kit limits (api.slack.com/reference/block-kit/blocks): header 150 chars,
// section text 3000, 10 fields of 2000, 10 context elements, 50 blocks.
const HEADER_MAX = 150
const SECTION_MAX = 3000
const FIELD_MAX = 2000
const FIELDS_MAX = 10
// PagerDuty truncates summaries at 1024 characters; dedup keys allow 255.
const SUMMARY_MAX = 1024

export function jobTitle(job: JobName): string {
  return JOB_TITLES[job]
}

/** `runbooks/x.md#a` against the configured base. */
export function runbookLink(path: string, base: string): string {
  if (/^https?:\/\//.test(path)) return path
  return `${base}${path.replace(/^\/+/, '')}`
}

export function headline(outcome: JobOutcome, context: Pick<MessageContext, 'test'>): string {
  if (context.test) return `TEST: Lifeboat alert test (${outcome.environment}), no action needed`
  return `${jobTitle(outcome.job)} ${TONE_WORDS[toneOf(outcome)]} (${outcome.environment})`
}

export function renderSlackMessage(outcome: JobOutcome, context: MessageContext): SlackMessage {
  const tone = toneOf(outcome)
  const icon = context.test ? '🧪' : TONE_ICONS[tone]
  const title = headline(outcome, context)
  const blocks: SlackBlock[] = [{ type: 'header', text: plain(truncate(`${icon} ${title}`, HEADER_MAX)) }]
  if (context.test) {
    blocks.push({
      type: 'section',
      text: mrkdwn(
        'This is a *test message* from `npm run alert:test`. It checks that this channel receives Lifeboat alerts; nothing has failed.',
      ),
    })
  }

  // The header names the environment and the context line the time; the rest are fields,
  // and what does not fit Slack's ten fields follows as lines of text.
  const facts = factsOf(outcome).filter(([label]) => label !== 'Environment' && label !== 'Finished')
  const fields = facts
    .slice(0, FIELDS_MAX)
    .map(([label, value]) => mrkdwn(truncate(`*${escapeMrkdwn(label)}*\n${escapeMrkdwn(value)}`, FIELD_MAX)))
  blocks.push({ type: 'section', fields })
  const overflow = facts
    .slice(FIELDS_MAX)
    .map(([label, value]) => `*${escapeMrkdwn(label)}:* ${escapeMrkdwn(value)}`)
  if (overflow.length > 0)
    blocks.push({ type: 'section', text: mrkdwn(truncate(overflow.join('\n'), SECTION_MAX)) })

  if (outcome.error) {
    const link = runbookLink(outcome.error.runbook, context.runbookBaseUrl)
    const runbook = /^https?:\/\//.test(link)
      ? `<${link}|${escapeMrkdwn(outcome.error.runbook)}>`
      : `\`${link}\``
    blocks.push({
      type: 'section',
      text: mrkdwn(
        truncate(
          [
            `*Error* \`${escapeMrkdwn(outcome.error.code)}\`: ${escapeMrkdwn(outcome.error.message)}`,
            `*What to do:* ${escapeMrkdwn(outcome.error.hint)}`,
            `*Runbook:* ${runbook}`,
          ].join('\n'),
          SECTION_MAX,
        ),
      ),
    })
  }
  if (outcome.warnings.length > 0) {
    const lines = outcome.warnings.map((warning) => `• ${escapeMrkdwn(warning)}`).join('\n')
    blocks.push({ type: 'section', text: mrkdwn(truncate(`*Warnings*\n${lines}`, SECTION_MAX)) })
  }

  const context_: SlackText[] = []
  if (tone === 'failure' && !context.test) context_.push(mrkdwn(escalationLine(outcome, context)))
  if (outcome.run) {
    const who = outcome.run.actor ? ` by ${escapeMrkdwn(outcome.run.actor)}` : ''
    const what = outcome.run.workflow ? `${escapeMrkdwn(outcome.run.workflow)} ` : ''
    context_.push(mrkdwn(`<${outcome.run.url}|${what}run ${escapeMrkdwn(outcome.run.runId ?? '')}>${who}`))
  }
  context_.push(mrkdwn(`Lifeboat · finished ${outcome.finishedAt.toISOString()}`))
  blocks.push({ type: 'context', elements: context_ })

  return { text: `${icon} Lifeboat: ${title}${outcome.error ? `: ${outcome.error.code}` : ''}`, blocks }
}

export function renderEmail(outcome: JobOutcome, context: MessageContext): EmailMessage {
  const tone = toneOf(outcome)
  const count =
    tone === 'failure' && context.consecutiveFailures > 1
      ? ` (${ordinal(context.consecutiveFailures)} failure in a row)`
      : ''
  const subject = context.test
    ? `[Lifeboat][${outcome.environment}] TEST alert, no action needed`
    : `[Lifeboat][${outcome.environment}] ${jobTitle(outcome.job)} ${TONE_WORDS[tone]}${outcome.error ? `: ${outcome.error.code}` : ''}${count}`

  const lines: string[] = []
  if (context.test) {
    lines.push(
      'This is a TEST message from `npm run alert:test`.',
      'It checks that the on-call address receives Lifeboat alerts. Nothing has failed; no action is needed.',
      '',
    )
  } else {
    lines.push(
      `The Lifeboat ${outcome.job} job ${TONE_WORDS[tone].toLowerCase()} in ${outcome.environment}.`,
      '',
    )
  }
  if (outcome.error) {
    lines.push(
      `What happened: ${outcome.error.code}: ${outcome.error.message}`,
      `What to do:    ${outcome.error.hint}`,
      `Runbook:       ${runbookLink(outcome.error.runbook, context.runbookBaseUrl)}`,
    )
  }
  if (outcome.run) lines.push(`Workflow run:  ${outcome.run.url}`)
  if (!context.test && tone === 'failure') {
    lines.push(
      `Run again:     ${JOB_COMMANDS[outcome.job]} (or re-run the workflow)`,
      '',
      escalationLine(outcome, context),
    )
  }
  if (outcome.warnings.length > 0) {
    lines.push('', 'Warnings:', ...outcome.warnings.map((warning) => `  - ${warning}`))
  }
  lines.push('', 'Details:')
  const facts = factsOf(outcome)
  const width = Math.max(...facts.map(([label]) => label.length))
  for (const [label, value] of facts) lines.push(`  ${`${label}:`.padEnd(width + 2)}${value}`)
  lines.push('', '-- ', `Sent by Lifeboat. Runbooks: ${runbookLink('runbooks/', context.runbookBaseUrl)}`)
  return { subject, text: `${lines.join('\n')}\n` }
}

export function renderPagerDutyTrigger(
  outcome: JobOutcome,
  context: MessageContext,
  dedupKey: string,
  severity: PagerDutyTrigger['payload']['severity'],
): PagerDutyTrigger {
  const error = outcome.error
  const summary = context.test
    ? `TEST from npm run alert:test (${outcome.environment}): Lifeboat can page you. Resolving at once, no action needed.`
    : `[${outcome.environment}] Lifeboat ${outcome.job} failed ${context.consecutiveFailures} times in a row${error ? `: ${error.code}: ${error.message}` : ''}`
  const details: Record<string, string | number> = {
    job: outcome.job,
    environment: outcome.environment,
    consecutive_failures: context.consecutiveFailures,
    started_at: outcome.startedAt.toISOString(),
    finished_at: outcome.finishedAt.toISOString(),
  }
  if (error) {
    details.error_code = error.code
    details.error = error.message
    details.what_to_do = error.hint
    details.runbook = runbookLink(error.runbook, context.runbookBaseUrl)
  }
  if (outcome.run) details.run_url = outcome.run.url
  if (outcome.backupId) details.backup_id = outcome.backupId
  if (outcome.location) details.location = outcome.location
  for (const [key, value] of Object.entries(outcome.details ?? {})) details[key] = value

  const event: PagerDutyTrigger = {
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: truncate(summary, SUMMARY_MAX),
      source: `lifeboat/${outcome.environment}`,
      severity,
      timestamp: outcome.finishedAt.toISOString(),
      component: outcome.job,
      group: 'lifeboat',
      class: error?.code ?? (context.test ? 'alert-test' : 'failure'),
      custom_details: details,
    },
    client: 'Lifeboat',
  }
  const links: { href: string; text: string }[] = []
  if (outcome.run) {
    event.client_url = outcome.run.url
    links.push({ href: outcome.run.url, text: 'Workflow run' })
  }
  // PagerDuty links must be absolute URLs; a relative runbook path stays in custom_details.
  if (error && /^https?:\/\//.test(details.runbook as string)) {
    links.push({ href: details.runbook as string, text: `Runbook: ${error.code}` })
  }
  if (links.length > 0) event.links = links
  return event
}

export function renderPagerDutyResolve(dedupKey: string): PagerDutyResolve {
  return { event_action: 'resolve', dedup_key: dedupKey }
}

/** Label/value pairs shown in every channel, only those the outcome has. */
export function factsOf(outcome: JobOutcome): [string, string][] {
  const facts: [string, string][] = [
    ['Job', outcome.job],
    ['Outcome', outcome.status],
    ['Environment', outcome.environment],
  ]
  if (outcome.backupId) facts.push(['Backup', outcome.backupId])
  if (outcome.location) facts.push(['Location', outcome.location])
  if (outcome.bytes !== undefined) facts.push(['Size', formatBytes(outcome.bytes)])
  if (outcome.rows !== undefined) facts.push(['Rows', formatCount(outcome.rows)])
  if (outcome.tables !== undefined) facts.push(['Tables', String(outcome.tables)])
  facts.push(['Duration', formatDuration(outcome.finishedAt.getTime() - outcome.startedAt.getTime())])
  facts.push(['Finished', outcome.finishedAt.toISOString()])
  for (const [label, value] of Object.entries(outcome.details ?? {})) facts.push([label, String(value)])
  return facts
}

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000))
  if (seconds < 60) return `${seconds} s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`
}

/** Slack's mrkdwn treats &, < and > as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}

function escalationLine(outcome: JobOutcome, context: MessageContext): string {
  const n = context.consecutiveFailures
  if (n >= PAGE_AFTER_FAILURES) {
    return context.pagerDuty
      ? `Failure ${n} in a row: on-call has been paged (PagerDuty alert ${dedupKeyFor(outcome.job, outcome.environment)}).`
      : `Failure ${n} in a row: PagerDuty is not configured, so nobody was paged.`
  }
  return context.pagerDuty
    ? 'First failure: Slack and e-mail only. PagerDuty pages on-call if the next run fails too.'
    : 'First failure: Slack and e-mail only (PagerDuty is not configured).'
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')
  return `${n}${suffix}`
}

function plain(text: string): SlackText {
  return { type: 'plain_text', text }
}

function mrkdwn(text: string): SlackText {
  return { type: 'mrkdwn', text }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}
