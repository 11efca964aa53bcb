// What the channels say (Slack blocks, e-mail, PagerDuty bodies), the alert settings, and
// counting failed workflow runs: all pure, no receivers needed.
import { describe, expect, it } from 'vitest'
import { countFailedRuns, type WorkflowRun } from '../../lib/adapters/notify/failure-history.ts'
import {
  escapeMrkdwn,
  formatDuration,
  type MessageContext,
  renderEmail,
  renderPagerDutyResolve,
  renderPagerDutyTrigger,
  renderSlackMessage,
} from '../../lib/alerts/messages.ts'
import { buildOutcome, describeError, type JobOutcome } from '../../lib/alerts/outcome.ts'
import { configuredChannels, readAlertConfig, workflowOf } from '../../lib/core/alert-config.ts'
import { SettingsReader } from '../../lib/core/config.ts'
import { LifeboatError } from '../../lib/core/errors.ts'
import { formatBytes } from '../../lib/core/format.ts'
import { validatePagerDutyEvent, validateSlackMessage } from '../helpers/receivers.ts'

const started = new Date('2026-11-25T02:00:00Z')
const finished = new Date('2026-11-25T02:03:05Z')

const success: JobOutcome = {
  job: 'backup',
  status: 'success',
  environment: 'production',
  startedAt: started,
  finishedAt: finished,
  backupId: 'backup-2026-11-25T020000Z',
  location: 's3://bucket/prod/database-backups/backup-2026-11-25T020000Z.tar.gz',
  bytes: 5 * 1024 * 1024,
  rows: 1234567,
  tables: 12,
  warnings: [],
  run: {
    url: 'https://github.com/acme/db/actions/runs/42',
    runId: '42',
    actor: 'github-actions[bot]',
    repository: 'acme/db',
    workflow: 'Daily backup',
  },
}

const failure: JobOutcome = {
  ...success,
  status: 'failure',
  backupId: undefined,
  location: undefined,
  bytes: undefined,
  rows: undefined,
  tables: undefined,
  error: describeError(
    new LifeboatError('STORE_UNREACHABLE', 'cannot reach s3://bucket/prod: connect <ECONNREFUSED> & more'),
  ),
}

const context: MessageContext = {
  runbookBaseUrl: 'https://github.com/acme/db/blob/main/',
  consecutiveFailures: 2,
  pagerDuty: true,
}

describe('Slack message', () => {
  it('is valid Block Kit with the facts of a success', () => {
    const message = renderSlackMessage(success, { ...context, consecutiveFailures: 0 })
    expect(validateSlackMessage(message)).toEqual([])
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: '✅ Backup succeeded (production)' },
    })
    const all = JSON.stringify(message.blocks)
    for (const fact of [
      'backup-2026-11-25T020000Z',
      's3://bucket/prod/database-backups/',
      '5.0 MiB',
      '1,234,567',
      '3 min 5 s',
    ]) {
      expect(all).toContain(fact)
    }
    expect(all).toContain('<https://github.com/acme/db/actions/runs/42|Daily backup run 42>')
    expect(message.text).toContain('Backup succeeded')
  })

  it('says what failed, what to do, links the runbook, and escapes mrkdwn', () => {
    const message = renderSlackMessage(failure, context)
    expect(validateSlackMessage(message)).toEqual([])
    const all = JSON.stringify(message.blocks)
    expect(message.blocks[0]!.type).toBe('header')
    expect(all).toContain('FAILED')
    expect(all).toContain('`STORE_UNREACHABLE`')
    expect(all).toContain('connect &lt;ECONNREFUSED&gt; &amp; more')
    expect(all).toContain(
      '<https://github.com/acme/db/blob/main/runbooks/troubleshooting.md#store-unreachable|runbooks/troubleshooting.md#store-unreachable>',
    )
    expect(all).toContain('Failure 2 in a row: on-call has been paged')
    expect(message.text).toContain('STORE_UNREACHABLE')
  })

  it('lists warnings and keeps within Block Kit limits however long the text', () => {
    const long: JobOutcome = {
      ...success,
      status: 'warning',
      warnings: Array.from(
        { length: 200 },
        (_, i) => `table public.t${i}: rows dropped by 95% since the last backup`,
      ),
      details: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`detail ${i}`, 'x'.repeat(5000)])),
      error: { code: 'X', message: 'y'.repeat(10_000), hint: 'h', runbook: 'runbooks/troubleshooting.md#x' },
    }
    const message = renderSlackMessage(long, context)
    expect(validateSlackMessage(message)).toEqual([])
    expect(JSON.stringify(message.blocks[0])).toContain('⚠️')
    expect(JSON.stringify(message.blocks)).toContain('*Warnings*')
  })

  it('shows extra details (drill RTO, backup age), past the ten fields as text', () => {
    const drill: JobOutcome = {
      ...success,
      job: 'drill',
      details: { RTO: '42 s', 'RTO target': '60 s', 'Restored into': 'staging' },
    }
    const message = renderSlackMessage(drill, context)
    expect(validateSlackMessage(message)).toEqual([])
    const all = JSON.stringify(message.blocks)
    expect(all).toContain('*RTO*\\n42 s')
    expect(all).toContain('*Restored into:* staging')
    expect(renderEmail(drill, context).text).toMatch(/RTO:\s+42 s/)
  })

  it('keeps runbook paths relative when no base URL is known', () => {
    const message = renderSlackMessage(failure, { ...context, runbookBaseUrl: '' })
    expect(validateSlackMessage(message)).toEqual([])
    expect(JSON.stringify(message.blocks)).toContain('`runbooks/troubleshooting.md#store-unreachable`')
  })

  it('marks a test message as a test', () => {
    const message = renderSlackMessage({ ...success, job: 'alert-test' }, { ...context, test: true })
    expect(validateSlackMessage(message)).toEqual([])
    expect((message.blocks[0] as { text: { text: string } }).text.text).toMatch(
      /^🧪 TEST: .*no action needed/,
    )
  })
})

describe('e-mail', () => {
  it('gives a person what they need to act: what, what to do, runbook, run, how to re-run', () => {
    const email = renderEmail(failure, context)
    expect(email.subject).toBe(
      '[Lifeboat][production] Backup FAILED: STORE_UNREACHABLE (2nd failure in a row)',
    )
    expect(email.text).toContain('What happened: STORE_UNREACHABLE: cannot reach s3://bucket/prod')
    expect(email.text).toContain('What to do:    Check BACKUP_STORE, the endpoint and the network.')
    expect(email.text).toContain(
      'Runbook:       https://github.com/acme/db/blob/main/runbooks/troubleshooting.md#store-unreachable',
    )
    expect(email.text).toContain('Workflow run:  https://github.com/acme/db/actions/runs/42')
    expect(email.text).toContain('npm run backup:database')
    expect(email.text).toContain('on-call has been paged (PagerDuty alert lifeboat/backup/production)')
  })

  it('on a first failure says nobody was paged yet', () => {
    const email = renderEmail(failure, { ...context, consecutiveFailures: 1 })
    expect(email.subject).toBe('[Lifeboat][production] Backup FAILED: STORE_UNREACHABLE')
    expect(email.text).toContain('PagerDuty pages on-call if the next run fails too')
    expect(renderEmail(failure, { ...context, consecutiveFailures: 1, pagerDuty: false }).text).toContain(
      'PagerDuty is not configured',
    )
  })

  it('marks a test message as a test', () => {
    const email = renderEmail({ ...success, job: 'alert-test' }, { ...context, test: true })
    expect(email.subject).toBe('[Lifeboat][production] TEST alert, no action needed')
    expect(email.text).toContain('This is a TEST message')
  })
})

describe('PagerDuty events', () => {
  it('builds a valid v2 trigger with summary, source, severity and custom details', () => {
    const event = renderPagerDutyTrigger(failure, context, 'lifeboat/backup/production', 'critical')
    expect(validatePagerDutyEvent({ routing_key: 'k', ...event })).toEqual([])
    expect(event).toMatchObject({
      event_action: 'trigger',
      dedup_key: 'lifeboat/backup/production',
      payload: {
        source: 'lifeboat/production',
        severity: 'critical',
        component: 'backup',
        class: 'STORE_UNREACHABLE',
        timestamp: '2026-11-25T02:03:05.000Z',
        custom_details: {
          consecutive_failures: 2,
          error_code: 'STORE_UNREACHABLE',
          runbook: 'https://github.com/acme/db/blob/main/runbooks/troubleshooting.md#store-unreachable',
          run_url: 'https://github.com/acme/db/actions/runs/42',
        },
      },
      client_url: 'https://github.com/acme/db/actions/runs/42',
    })
    expect(event.payload.summary).toMatch(
      /^\[production\] Lifeboat backup failed 2 times in a row: STORE_UNREACHABLE/,
    )
    expect(event.links).toContainEqual({
      href: 'https://github.com/acme/db/blob/main/runbooks/troubleshooting.md#store-unreachable',
      text: 'Runbook: STORE_UNREACHABLE',
    })
  })

  it('truncates the summary to 1024 characters and leaves relative runbooks out of links', () => {
    const long = { ...failure, error: { ...failure.error!, message: 'z'.repeat(5000) } }
    const event = renderPagerDutyTrigger(long, { ...context, runbookBaseUrl: '' }, 'k', 'error')
    expect(event.payload.summary.length).toBe(1024)
    expect(validatePagerDutyEvent({ routing_key: 'k', ...event })).toEqual([])
    expect(event.links).toEqual([
      { href: 'https://github.com/acme/db/actions/runs/42', text: 'Workflow run' },
    ])
  })

  it('resolves with the dedup key only', () => {
    expect(renderPagerDutyResolve('lifeboat/backup/production')).toEqual({
      event_action: 'resolve',
      dedup_key: 'lifeboat/backup/production',
    })
  })
})

describe('formatting', () => {
  it('formats sizes, durations and mrkdwn', () => {
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(1536)).toBe('1.5 KiB')
    expect(formatBytes(300 * 1024 ** 3)).toBe('300 GiB')
    expect(formatDuration(4_400)).toBe('4 s')
    expect(formatDuration(185_000)).toBe('3 min 5 s')
    expect(formatDuration(2 * 3600_000 + 60_000)).toBe('2 h 1 min')
    expect(escapeMrkdwn('a <b> & c')).toBe('a &lt;b&gt; &amp; c')
  })
})

describe('readAlertConfig', () => {
  const read = (env: Record<string, string>) => {
    const reader = new SettingsReader(env)
    const config = readAlertConfig(reader)
    let problems: string[] = []
    try {
      reader.finish()
    } catch (error) {
      problems = [...(error as LifeboatError).details]
    }
    return { config, problems }
  }

  it('has no channel and sensible defaults with an empty environment', () => {
    const { config, problems } = read({})
    expect(problems).toEqual([])
    expect(configuredChannels(config)).toEqual([])
    expect(config.environment).toBe('production')
    expect(config.runbookBaseUrl).toBe('')
    expect(config.history.stateFile).toBe('.lifeboat/status.json')
    expect(config.delivery).toEqual({ attempts: 3, backoffMs: 1000, timeoutMs: 10_000 })
  })

  it('reads every channel, keeps secrets wrapped, and derives links from GitHub Actions variables', () => {
    const { config, problems } = read({
      SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T1/B2/abcdef123456',
      PAGERDUTY_ROUTING_KEY: 'routingkey0123456789abcdef012345',
      SMTP_URL: 'smtps://alerts%40acme.io:pa55word@smtp.acme.io:465',
      ONCALL_EMAIL: 'oncall@acme.io, Backup Team <backup@acme.io>',
      HEARTBEAT_URL: 'https://hc-ping.com/1f2e3d4c',
      ALERT_ENVIRONMENT: 'staging',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'acme/db',
      GITHUB_RUN_ID: '77',
      GITHUB_RUN_ATTEMPT: '2',
      GITHUB_ACTOR: 'octocat',
      GITHUB_WORKFLOW: 'Daily backup',
      GITHUB_WORKFLOW_REF: 'acme/db/.github/workflows/backup.yml@refs/heads/main',
      GITHUB_REF_NAME: 'main',
      GITHUB_TOKEN: 'ghs_token0123456789',
    })
    expect(problems).toEqual([])
    expect(configuredChannels(config)).toEqual(['slack', 'pagerduty', 'email', 'heartbeat'])
    expect(config.pagerDuty?.eventsUrl).toBe('https://events.pagerduty.com/v2/enqueue')
    expect(config.email?.to).toEqual(['oncall@acme.io', 'Backup Team <backup@acme.io>'])
    expect(config.email?.from).toBe('Lifeboat <alerts@acme.io>')
    expect(config.environment).toBe('staging')
    expect(config.runbookBaseUrl).toBe('https://github.com/acme/db/blob/main/')
    expect(config.run).toEqual({
      url: 'https://github.com/acme/db/actions/runs/77/attempts/2',
      repository: 'acme/db',
      runId: '77',
      actor: 'octocat',
      workflow: 'Daily backup',
    })
    expect(config.history.github).toMatchObject({
      apiUrl: 'https://api.github.com',
      owner: 'acme',
      repo: 'db',
      workflow: 'backup.yml',
      branch: 'main',
      runId: '77',
    })
    const printed = JSON.stringify(config)
    for (const secret of ['abcdef123456', 'routingkey0123456789', 'pa55word', '1f2e3d4c', 'ghs_token']) {
      expect(printed).not.toContain(secret)
    }
  })

  it('reports every bad setting at once, never echoing a secret value', () => {
    const { config, problems } = read({
      SLACK_WEBHOOK_URL: 'hooks.slack.com/services/T1/B2/s3cr3tpart',
      SMTP_URL: 'smtp://u:p4ss@mail.example.com',
      HEARTBEAT_URL: 'ftp://x',
      ALERT_ATTEMPTS: '0',
    })
    expect(problems).toEqual([
      'ALERT_ATTEMPTS must be a whole number ≥ 1, got "0"',
      'SLACK_WEBHOOK_URL must be an http(s) URL',
      'ONCALL_EMAIL (SMTP_URL is set) is not set',
      'HEARTBEAT_URL must be an http(s) URL',
    ])
    expect(configuredChannels(config)).toEqual([])
    expect(problems.join(' ')).not.toContain('s3cr3tpart')
  })

  it('uses RUNBOOK_BASE_URL and PAGERDUTY_EVENTS_URL when given', () => {
    const { config } = read({
      RUNBOOK_BASE_URL: 'https://wiki.acme.io/lifeboat',
      PAGERDUTY_ROUTING_KEY: 'k'.repeat(32),
      PAGERDUTY_EVENTS_URL: 'https://events.eu.pagerduty.com/v2/enqueue',
    })
    expect(config.runbookBaseUrl).toBe('https://wiki.acme.io/lifeboat/')
    expect(config.pagerDuty?.eventsUrl).toBe('https://events.eu.pagerduty.com/v2/enqueue')
  })

  it('finds the workflow file in GITHUB_WORKFLOW_REF', () => {
    expect(workflowOf('acme/db/.github/workflows/backup.yml@refs/heads/main')).toBe('backup.yml')
    expect(workflowOf('acme/db/.github/workflows/dr-test.yaml@refs/tags/v1')).toBe('dr-test.yaml')
    expect(workflowOf(undefined)).toBeUndefined()
    expect(workflowOf('nonsense')).toBeUndefined()
  })
})

describe('countFailedRuns', () => {
  const run = (
    id: number,
    day: number,
    conclusion: WorkflowRun['conclusion'],
    status = 'completed',
  ): WorkflowRun => ({
    id,
    status,
    conclusion,
    created_at: `2026-11-${String(day).padStart(2, '0')}T02:00:00Z`,
  })

  it('counts failed runs back to the newest success, whatever order they come in', () => {
    const runs = [run(1, 1, 'failure'), run(2, 2, 'success'), run(4, 4, 'timed_out'), run(3, 3, 'failure')]
    expect(countFailedRuns(runs)).toBe(2)
  })

  it('counts cancelled runs (a job timeout); ignores skipped runs, runs still going and this run', () => {
    const runs = [
      run(1, 1, 'success'),
      run(2, 2, 'failure'),
      run(3, 3, 'cancelled'),
      run(4, 4, 'startup_failure'),
      run(5, 5, 'skipped'),
      run(6, 6, null, 'in_progress'),
      run(7, 7, 'failure'),
    ]
    expect(countFailedRuns(runs, '7')).toBe(3)
    expect(countFailedRuns(runs)).toBe(4)
  })

  it('is zero after a success and with no runs', () => {
    expect(countFailedRuns([run(1, 1, 'failure'), run(2, 2, 'success')])).toBe(0)
    expect(countFailedRuns([])).toBe(0)
  })
})

describe('buildOutcome', () => {
  const times = { startedAt: started, finishedAt: finished }

  it('is a failure with the error described (code, redacted message, hint, runbook) when the job threw', () => {
    const outcome = buildOutcome({
      job: 'verify',
      ...times,
      error: new LifeboatError('VERIFY_FAILED', 'data/public.orders.ndjson does not match'),
    })
    expect(outcome).toEqual({
      job: 'verify',
      ...times,
      status: 'failure',
      warnings: [],
      error: {
        code: 'VERIFY_FAILED',
        message: 'data/public.orders.ndjson does not match',
        hint: 'The named files do not match their checksums; choose another backup.',
        runbook: 'runbooks/troubleshooting.md#verify-failed',
      },
    })
    expect(buildOutcome({ job: 'backup', ...times, error: new Error('boom') }).error?.code).toBe('INTERNAL')
  })

  it('is a success, or a warning when there are warnings, with the facts given', () => {
    expect(buildOutcome({ job: 'backup', ...times, backupId: 'b', rows: 3 })).toEqual({
      job: 'backup',
      ...times,
      backupId: 'b',
      rows: 3,
      status: 'success',
      warnings: [],
    })
    expect(buildOutcome({ job: 'drill', ...times, warnings: ['RTO exceeded'] }).status).toBe('warning')
  })
})
