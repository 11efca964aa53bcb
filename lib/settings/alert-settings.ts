// Where failures are reported: Slack, PagerDuty, e-mail, a heartbeat, and how hard to
// try. Every channel is optional; URLs and keys are secrets.
import { type CommandName, defineSettings } from './types.ts'

/** Commands whose outcome goes down the alert path (docs/alerts.md), and the two that test it. */
export const ALERT_JOBS = [
  'backup',
  'verify',
  'clean',
  'monitor',
  'drill',
  'dr-test',
  'alert-test',
  'doctor',
] as const satisfies readonly CommandName[]

export const ALERT_SETTINGS = defineSettings({
  slackWebhookUrl: {
    env: ['SLACK_WEBHOOK_URL'],
    type: 'string',
    secret: true,
    jobs: ALERT_JOBS,
    help: 'Slack incoming webhook',
  },
  pagerDutyRoutingKey: {
    env: ['PAGERDUTY_ROUTING_KEY'],
    type: 'string',
    secret: true,
    jobs: ALERT_JOBS,
    help: 'PagerDuty Events API v2 routing key: pages on the second consecutive failure',
  },
  pagerDutyEventsUrl: {
    env: ['PAGERDUTY_EVENTS_URL'],
    type: 'string',
    default: 'https://events.pagerduty.com/v2/enqueue',
    jobs: ALERT_JOBS,
    help: "PagerDuty's endpoint (the EU service region has its own)",
  },
  smtpUrl: {
    env: ['SMTP_URL'],
    type: 'string',
    secret: true,
    jobs: ALERT_JOBS,
    help: 'e-mail on failure: smtp://user:password@host:587 or smtps://…:465',
  },
  oncallEmail: {
    env: ['ONCALL_EMAIL'],
    type: 'list',
    jobs: ALERT_JOBS,
    help: 'who gets the e-mail (comma-separated)',
  },
  smtpFrom: {
    env: ['SMTP_FROM'],
    type: 'string',
    defaultText: 'Lifeboat <the SMTP user>',
    jobs: ALERT_JOBS,
    help: 'the sender of the e-mail',
  },
  heartbeatUrl: {
    env: ['HEARTBEAT_URL'],
    type: 'string',
    secret: true,
    jobs: ALERT_JOBS,
    help: "pinged on success (a dead-man's switch)",
  },
  alertEnvironment: {
    env: ['ALERT_ENVIRONMENT'],
    type: 'string',
    default: 'production',
    jobs: ALERT_JOBS,
    help: 'the environment named in every alert',
  },
  runbookBaseUrl: {
    env: ['RUNBOOK_BASE_URL'],
    type: 'string',
    defaultText: 'the repository on GitHub, in Actions',
    jobs: ALERT_JOBS,
    help: 'prefix of the runbook links in alerts',
  },
  alertAttempts: {
    env: ['ALERT_ATTEMPTS'],
    type: 'integer',
    default: 3,
    min: 1,
    jobs: ALERT_JOBS,
    help: 'attempts per channel',
  },
  alertBackoffMs: {
    env: ['ALERT_BACKOFF_MS'],
    type: 'integer',
    default: 1000,
    min: 0,
    jobs: ALERT_JOBS,
    help: 'first retry delay in ms, doubled each attempt',
  },
  alertTimeoutMs: {
    env: ['ALERT_TIMEOUT_MS'],
    type: 'integer',
    default: 10_000,
    min: 1,
    jobs: ALERT_JOBS,
    help: 'timeout of one delivery in ms',
  },
  stateFile: {
    env: ['LIFEBOAT_STATE_FILE'],
    type: 'string',
    default: '.lifeboat/status.json',
    jobs: ALERT_JOBS,
    help: 'where the consecutive-failure count is kept when neither the store nor GitHub answers',
  },
  githubToken: {
    env: ['GITHUB_TOKEN'],
    type: 'string',
    secret: true,
    jobs: ALERT_JOBS,
    help: 'in Actions, with actions: read, lets failures be counted from the workflow runs',
  },
})
