// Alert channel settings, read once from the environment. Every channel is optional;
// URLs, keys and the SMTP URL travel as `Secret` so they never reach a log line.

import type { RunInfo } from '../alerts/outcome.ts'
import { SETTINGS as S } from '../settings/settings.ts'
import { isHttpUrl, type SettingsReader } from './config.ts'
import { registerWebhookSecret, type Secret } from './secret.ts'

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue'
export const GITHUB_API_URL = 'https://api.github.com'
export const DEFAULT_STATE_FILE = '.lifeboat/status.json'

export type ChannelName = 'slack' | 'pagerduty' | 'email' | 'heartbeat'

export interface AlertConfig {
  environment: string
  /** Prefix for repository-relative runbook paths; '' keeps them relative. */
  runbookBaseUrl: string
  slack?: { webhookUrl: Secret }
  pagerDuty?: { routingKey: Secret; eventsUrl: string }
  email?: { smtpUrl: Secret; to: string[]; from: string }
  heartbeat?: { url: Secret }
  delivery: DeliveryOptions
  history: HistoryConfig
  run?: RunInfo
}

export interface DeliveryOptions {
  attempts: number
  backoffMs: number
  timeoutMs: number
}

export interface HistoryConfig {
  /** Local fallback for the failure count when neither the store nor GitHub answers. */
  stateFile: string
  github?: GitHubRunsConfig
}

/** Enough to ask GitHub for the previous runs of the workflow this run belongs to. */
export interface GitHubRunsConfig {
  apiUrl: string
  token: Secret
  owner: string
  repo: string
  /** Workflow file name (`backup.yml`) or numeric id; both are accepted by the API. */
  workflow: string
  branch?: string
  runId?: string
}

/** Reads every alert setting; problems are collected in the reader (finish() reports them). */
export function readAlertConfig(reader: SettingsReader): AlertConfig {
  const config: AlertConfig = {
    environment: reader.optional(S.alertEnvironment)!,
    runbookBaseUrl: readRunbookBase(reader),
    delivery: {
      attempts: reader.integer(S.alertAttempts),
      backoffMs: reader.integer(S.alertBackoffMs),
      timeoutMs: reader.integer(S.alertTimeoutMs),
    },
    history: {
      stateFile: reader.optional(S.stateFile)!,
    },
  }

  const slack = reader.secret(S.slackWebhookUrl)
  if (slack) registerWebhookSecret(slack)
  if (slack && checkHttpUrl(reader, 'SLACK_WEBHOOK_URL', slack)) config.slack = { webhookUrl: slack }

  const routingKey = reader.secret(S.pagerDutyRoutingKey)
  const eventsUrl = reader.optional(S.pagerDutyEventsUrl)!
  if (routingKey && checkHttpUrl(reader, 'PAGERDUTY_EVENTS_URL', eventsUrl)) {
    config.pagerDuty = { routingKey, eventsUrl }
  }

  const smtpUrl = reader.secret(S.smtpUrl)
  const to = reader.list(S.oncallEmail)
  if (smtpUrl && to.length === 0) reader.missing('ONCALL_EMAIL (SMTP_URL is set)')
  if (!smtpUrl && to.length > 0) reader.missing('SMTP_URL (ONCALL_EMAIL is set)')
  const badAddress = to.find((address) => !/^[^@\s]+@[^@\s]+$/.test(address.replace(/^.*<(.*)>$/, '$1')))
  if (badAddress) reader.invalid(`ONCALL_EMAIL must be e-mail addresses, got "${badAddress}"`)
  if (smtpUrl && to.length > 0 && !badAddress && isSmtpUrl(reader, smtpUrl)) {
    config.email = { smtpUrl, to, from: reader.optional(S.smtpFrom) ?? defaultSender(smtpUrl) }
  }

  const heartbeat = reader.secret(S.heartbeatUrl)
  if (heartbeat) registerWebhookSecret(heartbeat)
  if (heartbeat && checkHttpUrl(reader, 'HEARTBEAT_URL', heartbeat)) config.heartbeat = { url: heartbeat }

  const github = readGitHubRuns(reader)
  if (github) config.history.github = github
  const run = readRunInfo(reader)
  if (run) config.run = run
  return config
}

export function configuredChannels(config: AlertConfig): ChannelName[] {
  const names: ChannelName[] = []
  if (config.slack) names.push('slack')
  if (config.pagerDuty) names.push('pagerduty')
  if (config.email) names.push('email')
  if (config.heartbeat) names.push('heartbeat')
  return names
}

/** The GitHub Actions run this process belongs to, from the default environment variables. */
export function readRunInfo(reader: SettingsReader): RunInfo | undefined {
  const server = reader.env('GITHUB_SERVER_URL')
  const repository = reader.env('GITHUB_REPOSITORY')
  const runId = reader.env('GITHUB_RUN_ID')
  if (!server || !repository || !runId) return undefined
  const attempt = reader.env('GITHUB_RUN_ATTEMPT')
  const url = `${server.replace(/\/$/, '')}/${repository}/actions/runs/${runId}${attempt && attempt !== '1' ? `/attempts/${attempt}` : ''}`
  const run: RunInfo = { url, repository, runId }
  const actor = reader.env('GITHUB_ACTOR')
  const workflow = reader.env('GITHUB_WORKFLOW')
  if (actor) run.actor = actor
  if (workflow) run.workflow = workflow
  return run
}

function readRunbookBase(reader: SettingsReader): string {
  const explicit = reader.optional(S.runbookBaseUrl)
  if (explicit) return explicit.endsWith('/') ? explicit : `${explicit}/`
  const server = reader.env('GITHUB_SERVER_URL')
  const repository = reader.env('GITHUB_REPOSITORY')
  // Runbooks on the default branch: a run on a feature branch still links to pages that exist.
  return server && repository ? `${server.replace(/\/$/, '')}/${repository}/blob/main/` : ''
}

// GitHub counts failures even when the store is unreachable; it needs a token with
// `actions: read` and the workflow this run belongs to.
function readGitHubRuns(reader: SettingsReader): GitHubRunsConfig | undefined {
  const token = reader.secret(S.githubToken)
  const repository = reader.env('GITHUB_REPOSITORY')
  const workflow = workflowOf(reader.env('GITHUB_WORKFLOW_REF'))
  if (!token || !repository || !workflow) return undefined
  const [owner, repo] = repository.split('/')
  if (!owner || !repo) return undefined
  const config: GitHubRunsConfig = {
    apiUrl: (reader.env('GITHUB_API_URL') ?? GITHUB_API_URL).replace(/\/$/, ''),
    token,
    owner,
    repo,
    workflow,
  }
  const branch = reader.env('GITHUB_REF_NAME')
  const runId = reader.env('GITHUB_RUN_ID')
  // A pull request's ref (`12/merge`) has no runs of its own worth counting.
  if (branch && reader.env('GITHUB_REF_TYPE') !== 'tag' && !/^\d+\/merge$/.test(branch))
    config.branch = branch
  if (runId) config.runId = runId
  return config
}

/** `octo/repo/.github/workflows/backup.yml@refs/heads/main` → `backup.yml`. */
export function workflowOf(workflowRef: string | undefined): string | undefined {
  const match = /\.github\/workflows\/([^@/]+)(@|$)/.exec(workflowRef ?? '')
  return match?.[1]
}

function checkHttpUrl(reader: SettingsReader, name: string, value: Secret | string): boolean {
  if (isHttpUrl(typeof value === 'string' ? value : value.reveal())) return true
  // The value itself may be a secret: name the setting, never echo it.
  reader.invalid(`${name} must be an http(s) URL`)
  return false
}

function isSmtpUrl(reader: SettingsReader, value: Secret): boolean {
  try {
    const url = new URL(value.reveal())
    if ((url.protocol === 'smtp:' || url.protocol === 'smtps:') && url.hostname) return true
  } catch {
    // reported below
  }
  reader.invalid('SMTP_URL must look like smtp://user:password@host:587 or smtps://user:password@host:465')
  return false
}

function defaultSender(smtpUrl: Secret): string {
  const url = new URL(smtpUrl.reveal())
  const user = decodeURIComponent(url.username)
  return user.includes('@') ? `Lifeboat <${user}>` : `Lifeboat <lifeboat@${url.hostname}>`
}
