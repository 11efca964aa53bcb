// The alert path against local receivers that check the documented payloads (Slack Block
// Kit, PagerDuty Events v2, GitHub workflow runs) and a real SMTP server (smtp-server).
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { FileStore } from '../../lib/adapters/store/file-store.ts'
import type { Store } from '../../lib/adapters/store/store.ts'
import { buildOutcome, describeError, type JobOutcome } from '../../lib/alerts/outcome.ts'
import { type AlertReport, reportOutcome } from '../../lib/alerts/report-outcome.ts'
import { STATUS_KEY } from '../../lib/archive/layout.ts'
import { LifeboatError } from '../../lib/core/errors.ts'
import {
  alertEnv,
  type HttpReceiver,
  type SmtpReceiver,
  startGitHubApiReceiver,
  startHeartbeatReceiver,
  startPagerDutyReceiver,
  startSlackReceiver,
  startSmtpReceiver,
} from '../helpers/receivers.ts'

const ROUTING_KEY = 'R0UT1NGK3Y0000000000000000000abc'
const GITHUB_TOKEN = 'ghs_T0k3nThatMustNeverBePrinted'

let slack: HttpReceiver
let pagerDuty: HttpReceiver
let heartbeat: HttpReceiver
let smtp: SmtpReceiver
let scratch: string

beforeAll(async () => {
  ;[slack, pagerDuty, heartbeat, smtp] = await Promise.all([
    startSlackReceiver(),
    startPagerDutyReceiver(),
    startHeartbeatReceiver(),
    startSmtpReceiver(),
  ])
  scratch = await mkdtemp(join(resolve('.tmp'), 'alerts-'))
})

afterAll(async () => {
  await Promise.all([slack?.close(), pagerDuty?.close(), heartbeat?.close(), smtp?.close()])
  if (scratch) await rm(scratch, { recursive: true, force: true })
})

let dir: string
let env: Record<string, string>

beforeEach(async () => {
  for (const receiver of [slack, pagerDuty, heartbeat]) {
    receiver.requests.length = 0
    receiver.reset()
  }
  smtp.messages.length = 0
  smtp.reject(250, 0)
  dir = await mkdtemp(join(scratch, 'case-'))
  env = {
    ...alertEnv({ slack, pagerDuty, smtp, heartbeat }),
    ALERT_ENVIRONMENT: 'ci',
    LIFEBOAT_STATE_FILE: join(dir, 'state', 'status.json'),
  }
})

/** Every secret the receivers were given; none may appear in a log line or a result. */
function secrets(): string[] {
  return [
    new URL(slack.url).pathname.split('/').pop()!,
    ROUTING_KEY,
    smtp.password,
    new URL(heartbeat.url).pathname.split('/').pop()!,
    GITHUB_TOKEN,
  ]
}

function expectNoSecrets(...texts: string[]): void {
  for (const text of texts) {
    for (const secret of secrets()) expect(text).not.toContain(secret)
  }
}

function outcome(status: JobOutcome['status'], more: Partial<JobOutcome> = {}): JobOutcome {
  const base: JobOutcome = {
    job: 'backup',
    status,
    environment: 'ci',
    startedAt: new Date('2026-11-25T02:00:00Z'),
    finishedAt: new Date('2026-11-25T02:01:30Z'),
    warnings: [],
  }
  if (status === 'failure') {
    base.error = describeError(
      new LifeboatError('STORE_UNREACHABLE', 'cannot reach s3://lifeboat/prod: ECONNREFUSED'),
    )
  } else {
    Object.assign(base, {
      backupId: 'backup-2026-11-25T020000Z',
      location: '/backups/database-backups/backup-2026-11-25T020000Z.tar.gz',
      bytes: 4096,
      rows: 1000,
      tables: 3,
    })
  }
  return { ...base, ...more }
}

async function report(
  result: JobOutcome,
  options: { store?: Store; env?: Record<string, string> } = {},
): Promise<{ report: AlertReport; lines: string[] }> {
  const lines: string[] = []
  const value = await reportOutcome(
    {
      env: options.env ?? env,
      ...(options.store ? { store: options.store } : {}),
      log: (line) => lines.push(line),
    },
    result,
  )
  expectNoSecrets(...lines, JSON.stringify(value))
  return { report: value, lines }
}

const channel = (r: AlertReport, name: string, action?: string) =>
  r.channels.find((c) => c.channel === name && (action === undefined || c.action === action))

/** A store whose every call fails as an unreachable bucket does. */
const unreachableStore: Store = {
  location: 's3://lifeboat-down/prod',
  locate: (key) => `s3://lifeboat-down/prod/${key}`,
  put: () => Promise.reject(new LifeboatError('STORE_UNREACHABLE', 'cannot reach s3://lifeboat-down/prod')),
  get: () => Promise.reject(new LifeboatError('STORE_UNREACHABLE', 'cannot reach s3://lifeboat-down/prod')),
  head: () => Promise.reject(new LifeboatError('STORE_UNREACHABLE', 'cannot reach s3://lifeboat-down/prod')),
  list: () => Promise.reject(new LifeboatError('STORE_UNREACHABLE', 'cannot reach s3://lifeboat-down/prod')),
  delete: () =>
    Promise.reject(new LifeboatError('STORE_UNREACHABLE', 'cannot reach s3://lifeboat-down/prod')),
}

describe('reportOutcome', () => {
  it('fail → Slack and e-mail; fail again → page; success → Slack, heartbeat and resolve with the same key', async () => {
    // A store the backups made (only a backup creates a missing folder store).
    await mkdir(join(dir, 'store'))
    const store = new FileStore(join(dir, 'store'))

    const first = await report(outcome('failure'), { store })
    expect(first.report.channels.map((c) => `${c.channel}:${c.action}:${c.status}`)).toEqual([
      'slack:failure:sent',
      'email:failure:sent',
    ])
    expect(pagerDuty.requests).toHaveLength(0)
    expect(slack.requests).toHaveLength(1)
    const failureMessage = slack.requests[0]!.json
    expect(failureMessage.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: '🚨 Backup FAILED (ci)' },
    })
    expect(JSON.stringify(failureMessage.blocks)).toContain('STORE_UNREACHABLE')
    expect(failureMessage.text).toContain('Backup FAILED')
    const [mail] = await smtp.waitFor(1)
    expect(mail).toMatchObject({ to: ['oncall@example.com'], user: 'lifeboat' })
    expect(mail!.subject).toBe('[Lifeboat][ci] Backup FAILED: STORE_UNREACHABLE')
    expect(mail!.text).toContain('What to do:    Check BACKUP_STORE, the endpoint and the network.')
    expect(mail!.text).toContain('Runbook:       runbooks/troubleshooting.md#store-unreachable')

    const second = await report(outcome('failure'), { store })
    expect(channel(second.report, 'pagerduty', 'trigger')?.status).toBe('sent')
    expect(pagerDuty.requests).toHaveLength(1)
    const trigger = pagerDuty.requests[0]!.json
    expect(trigger).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: 'lifeboat/backup/ci',
      payload: { source: 'lifeboat/ci', severity: 'critical', custom_details: { consecutive_failures: 2 } },
    })
    expect(trigger.payload.summary).toContain('Lifeboat backup failed 2 times in a row: STORE_UNREACHABLE')
    expect((await smtp.waitFor(2))[1]!.subject).toContain('(2nd failure in a row)')

    const third = await report(outcome('success'), { store })
    expect(third.report.channels.map((c) => `${c.channel}:${c.action}:${c.status}`)).toEqual([
      'slack:success:sent',
      'heartbeat:ping:sent',
      'pagerduty:resolve:sent',
    ])
    expect(pagerDuty.requests[1]!.json).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: 'lifeboat/backup/ci',
    })
    const success = slack.requests[2]!.json
    expect(success.blocks[0].text.text).toBe('✅ Backup succeeded (ci)')
    const facts = JSON.stringify(success.blocks)
    for (const fact of [
      'backup-2026-11-25T020000Z',
      'database-backups/backup-2026-11-25T020000Z.tar.gz',
      '4.0 KiB',
      '1 min 30 s',
    ]) {
      expect(facts).toContain(fact)
    }
    expect(heartbeat.requests.map((r) => r.method)).toEqual(['GET'])
    expect(smtp.messages).toHaveLength(2)

    const status = JSON.parse(await readFile(join(dir, 'store', STATUS_KEY), 'utf8'))
    expect(status.jobs.backup).toMatchObject({
      environment: 'ci',
      consecutiveFailures: 0,
      pageOpen: false,
      dedupKey: 'lifeboat/backup/ci',
      lastStatus: 'success',
    })
    expect(status.jobs.backup.lastFailureAt).toBeDefined()
  })

  it('counts failures while the store is unreachable (local state file) and pages on the second', async () => {
    const first = await report(outcome('failure'), { store: unreachableStore })
    expect(first.report.sources.find((s) => s.source === 'store')).toMatchObject({ status: 'unavailable' })
    expect(first.report.saved).toEqual([
      { source: 'store', status: 'unavailable', error: 'skipped: the store did not answer the read' },
      { source: 'local', status: 'ok' },
    ])
    expect(
      first.lines.some((l) => l.includes('failure history from store unavailable: STORE_UNREACHABLE')),
    ).toBe(true)
    expect(pagerDuty.requests).toHaveLength(0)

    const second = await report(outcome('failure'), { store: unreachableStore })
    expect(second.report.previous).toEqual({ consecutiveFailures: 1, pageOpen: false })
    expect(channel(second.report, 'pagerduty', 'trigger')?.status).toBe('sent')

    const third = await report(outcome('success'), { store: new FileStore(join(dir, 'store')) })
    expect(channel(third.report, 'pagerduty', 'resolve')?.status).toBe('sent')
    expect(pagerDuty.requests.map((r) => [r.json.event_action, r.json.dedup_key])).toEqual([
      ['trigger', 'lifeboat/backup/ci'],
      ['resolve', 'lifeboat/backup/ci'],
    ])
    // The store is back: it now holds the record too, and the next failure starts from one.
    const fourth = await report(outcome('failure'), { store: new FileStore(join(dir, 'store')) })
    expect(fourth.report.next).toEqual({ consecutiveFailures: 1, pageOpen: false })
  })

  it('does not wait on a store that never answers', async () => {
    const hung: Store = { ...unreachableStore, get: () => new Promise(() => {}) }
    const started = Date.now()
    const { report: result } = await report(outcome('failure'), {
      store: hung,
      env: { ...env, ALERT_TIMEOUT_MS: '300' },
    })
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(result.sources.find((s) => s.source === 'store')).toMatchObject({
      status: 'unavailable',
      error: 'no answer within 300 ms',
    })
    expect(channel(result, 'email')?.status).toBe('sent')
  })

  it('counts failed runs of the same workflow through the GitHub API when nothing else knows', async () => {
    const github = await startGitHubApiReceiver([
      { id: 9, status: 'completed', conclusion: 'success', created_at: '2026-11-23T02:00:00Z' },
      { id: 10, status: 'completed', conclusion: 'failure', created_at: '2026-11-24T02:00:00Z' },
      { id: 11, status: 'in_progress', conclusion: null, created_at: '2026-11-25T02:00:00Z' },
    ])
    try {
      const ciEnv = {
        ...env,
        GITHUB_ACTIONS: 'true',
        GITHUB_API_URL: github.origin,
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_REPOSITORY: 'acme/db',
        GITHUB_RUN_ID: '11',
        GITHUB_ACTOR: 'octocat',
        GITHUB_WORKFLOW: 'Daily backup',
        GITHUB_WORKFLOW_REF: 'acme/db/.github/workflows/backup.yml@refs/heads/main',
        GITHUB_REF_NAME: 'main',
        GITHUB_TOKEN,
      }
      const { report: result } = await report(outcome('failure'), { store: unreachableStore, env: ciEnv })
      expect(github.requests).toHaveLength(1)
      const request = github.requests[0]!
      expect(request.path).toBe(
        '/repos/acme/db/actions/workflows/backup.yml/runs?status=completed&per_page=30&branch=main',
      )
      expect(request.headers.authorization).toBe(`Bearer ${GITHUB_TOKEN}`)
      expect(request.headers.accept).toBe('application/vnd.github+json')
      expect(result.sources.find((s) => s.source === 'github')).toMatchObject({
        status: 'ok',
        consecutiveFailures: 1,
      })
      expect(result.previous).toEqual({ consecutiveFailures: 1, pageOpen: false })
      expect(channel(result, 'pagerduty', 'trigger')?.status).toBe('sent')

      const trigger = pagerDuty.requests[0]!.json
      expect(trigger.client_url).toBe('https://github.com/acme/db/actions/runs/11')
      expect(trigger.links).toContainEqual({
        href: 'https://github.com/acme/db/actions/runs/11',
        text: 'Workflow run',
      })
      expect(trigger.links).toContainEqual({
        href: 'https://github.com/acme/db/blob/main/runbooks/troubleshooting.md#store-unreachable',
        text: 'Runbook: STORE_UNREACHABLE',
      })
      expect(JSON.stringify(slack.requests[0]!.json.blocks)).toContain(
        '<https://github.com/acme/db/actions/runs/11|Daily backup run 11> by octocat',
      )

      // Without a usable token GitHub refuses; the count falls back to the local file, reported.
      github.failWith(401, 1, '{"message":"Bad credentials"}')
      const { report: again } = await report(outcome('failure'), { store: unreachableStore, env: ciEnv })
      expect(again.sources.find((s) => s.source === 'github')).toMatchObject({
        status: 'unavailable',
        error: 'The GitHub API answered 401: {"message":"Bad credentials"}',
      })
      expect(again.previous.consecutiveFailures).toBe(2)
    } finally {
      await github.close()
    }
  })

  it('a Slack that answers 500 is retried and reported; the e-mail still goes out', async () => {
    slack.failWith(500, Number.POSITIVE_INFINITY, 'rollup_error')
    const { report: result, lines } = await report(outcome('failure'))
    expect(slack.requests).toHaveLength(3)
    expect(channel(result, 'slack')).toMatchObject({
      status: 'failed',
      attempts: 3,
      error: 'Slack answered 500: rollup_error',
      target: `${slack.origin}/**redacted**`,
    })
    expect(channel(result, 'email')).toMatchObject({ status: 'sent', attempts: 1 })
    expect(await smtp.waitFor(1)).toHaveLength(1)
    expect(lines.some((l) => l.includes('slack failure FAILED after 3 attempts'))).toBe(true)
  })

  it('waits out a 429 and sends; does not retry a 404 (a revoked webhook)', async () => {
    slack.failWith(429, 1, 'rate_limited', { 'retry-after': '0' })
    const { report: limited } = await report(outcome('success'))
    expect(channel(limited, 'slack')).toMatchObject({ status: 'sent', attempts: 2 })

    slack.failWith(404, Number.POSITIVE_INFINITY, 'no_service')
    const { report: revoked } = await report(outcome('success'))
    expect(channel(revoked, 'slack')).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: 'Slack answered 404: no_service',
    })
    expect(channel(revoked, 'heartbeat')?.status).toBe('sent')
  })

  it('a hung Slack times out and does not hold the other channels', async () => {
    slack.hang()
    const started = Date.now()
    const { report: result } = await report(outcome('failure'), {
      env: { ...env, ALERT_TIMEOUT_MS: '300', ALERT_ATTEMPTS: '2' },
    })
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(channel(result, 'slack')).toMatchObject({
      status: 'failed',
      attempts: 2,
      error: 'timed out after 300 ms',
    })
    expect(channel(result, 'email')?.status).toBe('sent')
  })

  it('an SMTP server that refuses connections is retried and reported; Slack still goes out', async () => {
    const closed = await closedPort()
    const refused = { ...env, SMTP_URL: `smtp://lifeboat:${smtp.password}@127.0.0.1:${closed}` }
    const { report: result } = await report(outcome('failure'), { env: refused })
    expect(channel(result, 'email')).toMatchObject({ status: 'failed', attempts: 3 })
    expect(channel(result, 'email')?.error).toMatch(/^SMTP smtp:\/\/127\.0\.0\.1:\d+: E[A-Z]+ .*ECONNREFUSED/)
    expect(channel(result, 'email')?.target).toBe(`oncall@example.com via smtp://127.0.0.1:${closed}`)
    expect(channel(result, 'slack')?.status).toBe('sent')
  })

  it('an SMTP 5xx refusal or bad login is final; a 4xx is retried', async () => {
    smtp.reject(550)
    const { report: rejected } = await report(outcome('failure'))
    expect(channel(rejected, 'email')).toMatchObject({ status: 'failed', attempts: 1 })
    expect(channel(rejected, 'email')?.error).toContain('550')

    smtp.reject(451, 1)
    const { report: deferred } = await report(outcome('failure'))
    expect(channel(deferred, 'email')).toMatchObject({ status: 'sent', attempts: 2 })

    smtp.reject(250, 0)
    const wrong = { ...env, SMTP_URL: `smtp://lifeboat:wrong-${smtp.password}@127.0.0.1:${smtp.port}` }
    const { report: denied } = await report(outcome('failure'), { env: wrong })
    expect(channel(denied, 'email')).toMatchObject({ status: 'failed', attempts: 1 })
    expect(channel(denied, 'email')?.error).toContain('EAUTH')
  })

  it('a PagerDuty 400 is final, a 502 is retried', async () => {
    const store = new FileStore(join(dir, 'store'))
    await report(outcome('failure'), { store })
    pagerDuty.failWith(
      400,
      Number.POSITIVE_INFINITY,
      '{"status":"invalid event","message":"Event object is invalid"}',
    )
    const { report: invalid } = await report(outcome('failure'), { store })
    expect(channel(invalid, 'pagerduty')).toMatchObject({ status: 'failed', attempts: 1 })
    expect(channel(invalid, 'pagerduty')?.error).toContain('PagerDuty answered 400')

    pagerDuty.failWith(502, 2)
    const { report: flaky } = await report(outcome('failure'), { store })
    expect(channel(flaky, 'pagerduty')).toMatchObject({ status: 'sent', attempts: 3 })
  })

  it('a resolve PagerDuty did not take is sent again by the next success', async () => {
    const store = new FileStore(join(dir, 'store'))
    await report(outcome('failure'), { store })
    await report(outcome('failure'), { store })
    pagerDuty.failWith(503, Number.POSITIVE_INFINITY)
    const { report: lost } = await report(outcome('success'), { store })
    expect(channel(lost, 'pagerduty', 'resolve')?.status).toBe('failed')
    expect(lost.next).toEqual({ consecutiveFailures: 0, pageOpen: true })

    pagerDuty.reset()
    const { report: again } = await report(outcome('success'), { store })
    expect(channel(again, 'pagerduty', 'resolve')?.status).toBe('sent')
    expect(again.next).toEqual({ consecutiveFailures: 0, pageOpen: false })
    const { report: quiet } = await report(outcome('success'), { store })
    expect(channel(quiet, 'pagerduty')).toBeUndefined()
  })

  it('warnings go to Slack as a warning, with no e-mail and no page', async () => {
    const { report: result } = await report(
      outcome('warning', { warnings: ['public.orders: 95% fewer rows than the previous backup'] }),
    )
    expect(result.channels.map((c) => `${c.channel}:${c.action}`)).toEqual([
      'slack:warning',
      'heartbeat:ping',
    ])
    const blocks = JSON.stringify(slack.requests[0]!.json.blocks)
    expect(blocks).toContain('⚠️ Backup succeeded with warnings (ci)')
    expect(blocks).toContain('95% fewer rows')
    expect(smtp.messages).toHaveLength(0)
  })

  it('names the environment from ALERT_ENVIRONMENT when the job does not', async () => {
    const input = buildOutcome({
      job: 'monitor',
      startedAt: new Date('2026-11-25T08:00:00Z'),
      finishedAt: new Date('2026-11-25T08:00:01Z'),
      error: new LifeboatError('MONITOR_FAILED', 'the newest backup is 49 h old'),
    })
    const lines: string[] = []
    const staging = { ...env, ALERT_ENVIRONMENT: 'staging' }
    await reportOutcome({ env: staging, log: (line) => lines.push(line) }, input)
    const second = await reportOutcome({ env: staging, log: (line) => lines.push(line) }, input)
    expect(channel(second, 'pagerduty', 'trigger')?.status).toBe('sent')
    expect(pagerDuty.requests[0]!.json).toMatchObject({
      dedup_key: 'lifeboat/monitor/staging',
      payload: { severity: 'critical', class: 'MONITOR_FAILED' },
    })
    expect(slack.requests[0]!.json.blocks[0].text.text).toBe('🚨 Backup monitor FAILED (staging)')
    expectNoSecrets(...lines)
  })

  it('skips channels that are not configured and still counts failures', async () => {
    const bare = { LIFEBOAT_STATE_FILE: join(dir, 'bare.json') }
    const { report: first } = await report(outcome('failure'), { env: bare })
    expect(first.channels.map((c) => `${c.channel}:${c.status}`)).toEqual(['slack:skipped', 'email:skipped'])
    const { report: second } = await report(outcome('failure'), { env: bare })
    expect(second.channels.map((c) => `${c.channel}:${c.action}:${c.status}`)).toContain(
      'pagerduty:trigger:skipped',
    )
    expect(second.next.consecutiveFailures).toBe(2)
  })

  it('reports invalid alert settings and still uses the valid channels', async () => {
    const broken = { ...env, SLACK_WEBHOOK_URL: 'hooks.slack.com/services/T0/B0/s3cr3tW3bh00kP4th' }
    const { report: result, lines } = await report(outcome('failure'), { env: broken })
    expect(result.problems).toEqual(['SLACK_WEBHOOK_URL must be an http(s) URL'])
    expect(lines[0]).toBe('alert: setting ignored: SLACK_WEBHOOK_URL must be an http(s) URL')
    expect(channel(result, 'slack')?.status).toBe('skipped')
    expect(channel(result, 'email')?.status).toBe('sent')
  })
})

describe('npm run alert:test (jobs/alert-test.ts)', () => {
  it('sends a marked test to every configured channel and exits 0', async () => {
    const result = await runAlertTest([], env)
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Lifeboat alert test (environment ci):')
    for (const name of ['slack', 'pagerduty', 'email', 'heartbeat'])
      expect(result.stdout).toMatch(new RegExp(`✔ ${name}\\s+sent`))
    expect(result.stdout).toContain('4 of 4 configured channels worked.')

    expect(slack.requests[0]!.json.blocks[0].text.text).toMatch(
      /^🧪 TEST: Lifeboat alert test \(ci\), no action needed/,
    )
    expect(
      pagerDuty.requests.map((r) => [r.json.event_action, r.json.dedup_key, r.json.routing_key]),
    ).toEqual([
      ['trigger', 'lifeboat/alert-test/ci', ROUTING_KEY],
      ['resolve', 'lifeboat/alert-test/ci', ROUTING_KEY],
    ])
    expect(pagerDuty.requests[0]!.json.payload).toMatchObject({ severity: 'info', source: 'lifeboat/ci' })
    expect(pagerDuty.requests[0]!.json.payload.summary).toMatch(/^TEST from npm run alert:test/)
    const [mail] = await smtp.waitFor(1)
    expect(mail!.subject).toBe('[Lifeboat][ci] TEST alert, no action needed')
    expect(mail!.text).toContain('This is a TEST message')
    expect(heartbeat.requests).toHaveLength(1)
    expectNoSecrets(result.stdout, result.stderr)
  })

  it('exits 1 and says which channel failed (--json)', async () => {
    slack.failWith(500)
    const result = await runAlertTest(['--json'], env)
    expect(result.code).toBe(1)
    const summary = JSON.parse(result.stdout)
    expect(summary.ok).toBe(false)
    expect(
      summary.channels.map((c: { channel: string; status: string }) => `${c.channel}:${c.status}`),
    ).toEqual(['slack:failed', 'pagerduty:sent', 'email:sent', 'heartbeat:sent'])
    expectNoSecrets(result.stdout, result.stderr)
  })

  it('exits 2 when no channel is configured or a setting is invalid', async () => {
    const none = await runAlertTest([], {})
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('CONFIG_MISSING: no alert channel is configured')
    const invalid = await runAlertTest([], { SMTP_URL: smtp.url })
    expect(invalid.code).toBe(2)
    expect(invalid.stderr).toContain('ONCALL_EMAIL (SMTP_URL is set) is not set')
    expectNoSecrets(invalid.stderr)
    expect((await runAlertTest(['--bogus'], env)).code).toBe(2)
  })
})

/** Runs the job as `npm run alert:test` would, with only the given environment. */
function runAlertTest(
  args: string[],
  extra: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      resolve('node_modules/.bin/tsx'),
      ['jobs/alert-test.ts', ...args],
      // A clean environment: the CI runner's own GITHUB_* and alert settings must not leak in.
      { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...extra }, timeout: 60_000 },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    )
  })
}

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  const port = (server.address() as { port: number }).port
  await new Promise((done) => server.close(done))
  return port
}
