// The workflows in .github/workflows: valid for GitHub's own parser, and held to the project's
// rules (schedules, timeouts, least permissions, pinned actions, scripts that exist, secrets and
// variables the Pulumi stack provisions, roles that match infra/access.ts, the fallback alert).
import { execFile, execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { type PipelineRole, ROLE_ENVIRONMENTS, ROLE_SESSION_SECONDS } from '../../infra/access.ts'
import {
  BootstrapSecret,
  BootstrapVariable,
  GitHubEnvironment,
  GitHubSecret,
  GitHubVariable,
} from '../../lib/core/stack-outputs.ts'
import { REPOSITORY_ROOT } from './harness.ts'
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from './workflow-parser.ts'

interface Step {
  id?: string
  name?: string
  uses?: string
  run?: string
  if?: string
  with?: Record<string, string | number | boolean>
  env?: Record<string, string>
}
interface Job {
  name?: string
  needs?: string | string[]
  if?: string
  environment?: string
  'timeout-minutes'?: number
  permissions?: Record<string, string> | string
  env?: Record<string, string>
  services?: Record<string, { image: string; env?: Record<string, string> }>
  steps: Step[]
}
interface Workflow {
  name: string
  on: Record<string, unknown>
  concurrency?: { group: string; 'cancel-in-progress'?: boolean }
  permissions?: Record<string, string> | string
  env?: Record<string, string>
  jobs: Record<string, Job>
}

/** A GitHub expression as it appears in a workflow file, `${{ inner }}`. */
const expr = (inner: string) => `\${{ ${inner} }}`

const DIRECTORY = join(REPOSITORY_ROOT, '.github/workflows')
const files = readdirSync(DIRECTORY)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
const sources = Object.fromEntries(files.map((f) => [f, readFileSync(join(DIRECTORY, f), 'utf8')]))
const workflows = Object.fromEntries(files.map((f) => [f, parse(sources[f]!) as Workflow]))
const packageScripts = Object.keys(
  (
    JSON.parse(readFileSync(join(REPOSITORY_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>
    }
  ).scripts,
)

function allJobs(): { file: string; id: string; job: Job }[] {
  return files.flatMap((file) =>
    Object.entries(workflows[file]!.jobs).map(([id, job]) => ({ file, id, job })),
  )
}
const isLifeboatStep = (step: Step) => /\bnpm run --silent (backup:|dr:)/.test(step.run ?? '')
const lifeboatJobs = () => allJobs().filter(({ job }) => job.steps.some(isLifeboatStep))
const roleOf = (step: Step): PipelineRole | undefined => {
  const arn = String(step.with?.['role-to-assume'] ?? '')
  if (arn.includes(GitHubVariable.writerRoleArn)) return 'writer'
  if (arn.includes(GitHubVariable.cleanerRoleArn)) return 'cleaner'
  if (arn.includes(GitHubVariable.readerRoleArn)) return 'reader'
  return undefined
}
const isAwsCredentials = (step: Step) =>
  step.uses?.startsWith('aws-actions/configure-aws-credentials@') ?? false

describe('workflow files', () => {
  it('are the five the project runs', () => {
    expect(files).toEqual(['backup.yml', 'ci.yml', 'dr-test.yml', 'drill.yml', 'infra.yml'])
  })

  it.each(files)('%s validates with GitHub’s workflow parser', async (file) => {
    const result = parseWorkflow({ name: file, content: sources[file]! }, new NoOperationTraceWriter())
    expect(result.context.errors.getErrors().map((e) => e.message)).toEqual([])
    expect(result.value).toBeDefined()
    const template = await convertWorkflowTemplate(result.context, result.value!)
    expect(template.errors ?? []).toEqual([])
    expect(template.jobs.map((j) => j.id.value)).toEqual(Object.keys(workflows[file]!.jobs))
  })

  it('the parser rejects a broken workflow (the check above can fail)', () => {
    const broken =
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    timeout-minutes: soon\n    steps:\n      - run: echo ' +
      expr('secrets.X(')
    const result = parseWorkflow({ name: 'broken.yml', content: broken }, new NoOperationTraceWriter())
    expect(result.context.errors.getErrors().length).toBeGreaterThanOrEqual(2)
  })
})

describe('schedules', () => {
  const year = 2027
  const firings = (cron: string) => fireTimes(cron, year)

  it('backup runs daily at 02:00 UTC and by hand', () => {
    const on = workflows['backup.yml']!.on
    expect(on.schedule).toEqual([{ cron: '0 2 * * *' }])
    expect(on).toHaveProperty('workflow_dispatch')
    const times = firings('0 2 * * *')
    expect(times).toHaveLength(365)
    expect(times.every((t) => t.getUTCHours() === 2 && t.getUTCMinutes() === 0)).toBe(true)
  })

  it('the drill runs monthly, away from the backup window', () => {
    const on = workflows['drill.yml']!.on
    const crons = (on.schedule as { cron: string }[]).map((s) => s.cron)
    expect(crons).toHaveLength(1)
    const times = firings(crons[0]!)
    expect(times).toHaveLength(12)
    expect(new Set(times.map((t) => t.getUTCMonth())).size).toBe(12)
    expect(times.every((t) => t.getUTCHours() >= 4)).toBe(true)
    expect(on).toHaveProperty('workflow_dispatch')
  })

  it('the DR test runs quarterly (January, April, July, October) and by hand', () => {
    const on = workflows['dr-test.yml']!.on
    const crons = (on.schedule as { cron: string }[]).map((s) => s.cron)
    expect(crons).toHaveLength(1)
    const times = firings(crons[0]!)
    expect(times.map((t) => t.getUTCMonth())).toEqual([0, 3, 6, 9])
    expect(on).toHaveProperty('workflow_dispatch')
  })

  it('ci and infra have no schedule', () => {
    expect(workflows['ci.yml']!.on.schedule).toBeUndefined()
    expect(workflows['infra.yml']!.on.schedule).toBeUndefined()
  })

  it('the cron reader agrees with standard cron on a few cases', () => {
    expect(fireTimes('30 4 * * 1', 2027)).toHaveLength(52) // Mondays
    expect(fireTimes('0 0 29 2 *', 2027)).toHaveLength(0)
    expect(fireTimes('0 */6 * * *', 2027)).toHaveLength(365 * 4)
  })
})

describe('hardening', () => {
  it('every job has a timeout within GitHub’s 6-hour limit', () => {
    for (const { file, id, job } of allJobs()) {
      const timeout = job['timeout-minutes']
      expect(typeof timeout, `${file} ${id}`).toBe('number')
      expect(timeout!, `${file} ${id}`).toBeGreaterThan(0)
      expect(timeout!, `${file} ${id}`).toBeLessThanOrEqual(360)
    }
  })

  it('permissions are empty at the top and least per job', () => {
    const allowed: Record<string, string> = {
      contents: 'read',
      actions: 'read',
      'id-token': 'write',
      'pull-requests': 'write',
    }
    for (const file of files) expect(workflows[file]!.permissions, file).toEqual({})
    for (const { file, id, job } of allJobs()) {
      const where = `${file} ${id}`
      expect(typeof job.permissions, where).toBe('object')
      const permissions = job.permissions as Record<string, string>
      for (const [scope, level] of Object.entries(permissions))
        expect(`${scope}: ${level}`, where).toBe(`${scope}: ${allowed[scope]}`)
      // id-token: write exactly where a step exchanges the OIDC token for AWS credentials.
      expect(permissions['id-token'] === 'write', where).toBe(job.steps.some(isAwsCredentials))
      // pull-requests: write only for the step that comments the preview on the PR.
      expect(permissions['pull-requests'] === 'write', where).toBe(
        job.steps.some((s) => s.uses?.startsWith('pulumi/actions@') && s.with?.['comment-on-pr'] === true),
      )
      // actions: read lets the jobs count earlier failed runs for escalation (lib/core/alert-config.ts).
      if (permissions.actions === 'read') expect(job.steps.some(isLifeboatStep), where).toBe(true)
    }
  })

  it('third-party actions are pinned by full commit SHA, with the version in a comment, the same everywhere', () => {
    const pins = new Map<string, string>()
    for (const file of files) {
      for (const line of sources[file]!.split('\n').filter((l) => /^\s*(-\s+)?uses:/.test(l))) {
        const match = /uses:\s*([\w.-]+\/[\w./-]+)@([0-9a-f]{40})\s+#\s*v\d+(\.\d+)*\s*$/.exec(line)
        expect(match, `${file}: ${line.trim()}`).not.toBeNull()
        const [, action, sha] = match!
        expect(pins.get(action!) ?? sha, `${action} pinned to two SHAs`).toBe(sha)
        pins.set(action!, sha!)
      }
    }
    expect([...pins.keys()].sort()).toEqual([
      'actions/checkout',
      'actions/setup-node',
      'actions/upload-artifact',
      'aws-actions/configure-aws-credentials',
      'pulumi/actions',
    ])
  })

  it('checkout never leaves the token in .git', () => {
    for (const { file, id, job } of allJobs()) {
      for (const step of job.steps.filter((s) => s.uses?.startsWith('actions/checkout@'))) {
        expect(step.with?.['persist-credentials'], `${file} ${id}`).toBe(false)
      }
    }
  })

  it('run scripts hold no GitHub expressions (values reach them through env, so nothing is injected)', () => {
    for (const { file, id, job } of allJobs()) {
      for (const step of job.steps.filter((s) => s.run))
        expect(step.run, `${file} ${id} ${step.name}`).not.toMatch(/\$\{\{/)
    }
  })

  it('secrets are handed to single steps, never to a whole workflow or job', () => {
    for (const file of files) {
      expect(JSON.stringify(workflows[file]!.env ?? {}), file).not.toMatch(/secrets\./)
      for (const [id, job] of Object.entries(workflows[file]!.jobs)) {
        expect(JSON.stringify(job.env ?? {}), `${file} ${id}`).not.toMatch(/secrets\./)
      }
    }
  })

  it('AWS credentials come from OIDC roles, never from stored keys', () => {
    for (const file of files)
      expect(sources[file], file).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/)
    for (const { file, id, job } of allJobs()) {
      for (const step of job.steps.filter(isAwsCredentials)) {
        expect(String(step.with?.['role-to-assume']), `${file} ${id}`).toMatch(/^\$\{\{ vars\.[A-Z_]+ \}\}$/)
      }
    }
  })
})

describe('what the workflows call and read exists', () => {
  it('every `npm run X` is a script in package.json', () => {
    const called = new Set<string>()
    for (const { job } of allJobs()) {
      for (const step of job.steps) {
        for (const m of (step.run ?? '').matchAll(/\bnpm run(?:\s+--[\w-]+)*\s+([\w:.-]+)/g))
          called.add(m[1]!)
      }
    }
    expect(called.size).toBeGreaterThan(5)
    for (const script of called) expect(packageScripts, script).toContain(script)
  })

  it('every secret and variable is one the Pulumi stack provisions (or a documented bootstrap setting)', () => {
    const secrets = new Set<string>([
      ...Object.values(GitHubSecret).map((s) => s.name),
      ...Object.values(BootstrapSecret),
    ])
    const variables = new Set<string>([...Object.values(GitHubVariable), ...Object.values(BootstrapVariable)])
    for (const file of files) {
      for (const m of sources[file]!.matchAll(/\bsecrets\.([A-Za-z_][\w]*)/g))
        expect(secrets, `${file}: ${m[0]}`).toContain(m[1])
      for (const m of sources[file]!.matchAll(/\bvars\.([A-Za-z_][\w]*)/g))
        expect(variables, `${file}: ${m[0]}`).toContain(m[1])
    }
  })

  it('environment secrets are read only by jobs running in that environment', () => {
    for (const { file, id, job } of allJobs()) {
      const text = JSON.stringify(job)
      for (const spec of Object.values(GitHubSecret)) {
        if (spec.scope === 'repository' || !text.includes(`secrets.${spec.name}`)) continue
        expect(job.environment, `${file} ${id} reads ${spec.name}`).toBe(spec.scope)
      }
    }
  })

  it('jobs use only the environments the stack creates', () => {
    const known = Object.values(GitHubEnvironment) as string[]
    for (const { file, id, job } of allJobs())
      if (job.environment) expect(known, `${file} ${id}`).toContain(job.environment)
  })
})

describe('roles in the workflows match infra/access.ts', () => {
  it('each role is assumed only from an environment its trust policy names, for at most its session limit', () => {
    for (const { file, id, job } of allJobs()) {
      for (const step of job.steps.filter(isAwsCredentials)) {
        const role = roleOf(step)
        if (!role) continue // the bootstrap deploy and preview roles of infra.yml
        expect(ROLE_ENVIRONMENTS[role], `${file} ${id}`).toContain(job.environment)
        expect(Number(step.with?.['role-duration-seconds']), `${file} ${id}`).toBeLessThanOrEqual(
          ROLE_SESSION_SECONDS[role],
        )
      }
    }
  })

  it('the Lifeboat steps run under the role made for them', () => {
    const expected: Record<string, PipelineRole> = {
      'backup:database': 'writer',
      'backup:verify': 'reader',
      'backup:clean': 'cleaner',
      'backup:monitor': 'reader',
      'backup:drill': 'reader',
      'backup:report': 'reader',
      'dr:test': 'reader',
    }
    const seen = new Set<string>()
    for (const { file, id, job } of lifeboatJobs()) {
      let current: PipelineRole | undefined
      for (const step of job.steps) {
        if (isAwsCredentials(step)) current = roleOf(step)
        const script = /npm run --silent ([\w:-]+)/.exec(step.run ?? '')?.[1]
        if (!script) continue
        seen.add(script)
        expect(current, `${file} ${id} ${script}`).toBe(expected[script])
      }
    }
    expect([...seen].sort()).toEqual(Object.keys(expected).sort())
  })

  it('a job that holds the writer role never holds the cleaner role', () => {
    for (const { file, id, job } of allJobs()) {
      const roles = new Set(job.steps.filter(isAwsCredentials).map(roleOf))
      expect(roles.has('writer') && roles.has('cleaner'), `${file} ${id}`).toBe(false)
    }
  })
})

describe('backup.yml', () => {
  const workflow = workflows['backup.yml']!

  it('never runs two backups at once and never cancels a running one', () => {
    expect(workflow.concurrency).toEqual({ group: 'lifeboat-backup', 'cancel-in-progress': false })
  })

  it('runs npm ci → backup → verify --quick → clean → monitor, cleaning only after a good backup', () => {
    const order = ['backup', 'clean', 'monitor'].flatMap((jobId) =>
      workflow.jobs[jobId]!.steps.map((s) => s.run ?? '').filter((r) => /npm (ci|run)/.test(r)),
    )
    const sequence = order.map((r) => /npm (ci|run --silent [\w:]+(?: -- --quick)?)/.exec(r)![1])
    expect(sequence).toEqual([
      'ci',
      'run --silent backup:database',
      'run --silent backup:verify -- --quick',
      'ci',
      'run --silent backup:clean',
      'ci',
      'run --silent backup:monitor',
    ])
    expect(workflow.jobs.clean!.needs).toBe('backup')
    expect(workflow.jobs.clean!.if).toBeUndefined() // skipped when the backup failed
    expect(workflow.jobs.monitor!.needs).toEqual(['backup', 'clean'])
    expect(workflow.jobs.monitor!.if).toContain('!cancelled()')
  })

  it('hands the clean job the retention policy the stack publishes', () => {
    const retention = Object.values(GitHubVariable).filter((name) => name.startsWith('RETENTION_'))
    expect(retention).toHaveLength(5)
    expect(workflow.jobs.clean!.env).toEqual(
      Object.fromEntries(retention.map((name) => [name, expr(`vars.${name}`)])),
    )
  })

  it('gives the production database URL and the age recipients to the backup step only', () => {
    const backup = workflow.jobs.backup!.steps.find((s) => s.id === 'backup')!
    expect(backup.env?.DATABASE_URL).toBe(expr('secrets.DATABASE_URL'))
    expect(backup.env?.BACKUP_AGE_RECIPIENTS).toBe(expr('secrets.BACKUP_AGE_RECIPIENTS'))
    expect(sources['backup.yml']!.match(/secrets\.DATABASE_URL/g)).toHaveLength(1)
    expect(sources['backup.yml']).not.toMatch(/BACKUP_AGE_IDENTITY/)
  })
})

describe('drill.yml and dr-test.yml', () => {
  it('the drill restores into a PostgreSQL service container', () => {
    const job = workflows['drill.yml']!.jobs.drill!
    expect(job.services?.postgres?.image).toMatch(/^postgres:\d+/)
    expect(job.env?.TARGET_DATABASE_URL).toMatch(/@localhost:5432\//)
    expect(job.environment).toBe(GitHubEnvironment.staging)
  })

  it('the DR test restores into the staging database with the staging secrets', () => {
    const job = workflows['dr-test.yml']!.jobs['dr-test']!
    expect(job.environment).toBe(GitHubEnvironment.staging)
    const step = job.steps.find(isLifeboatStep)!
    expect(step.env?.TARGET_DATABASE_URL).toBe(expr('secrets.STAGING_DATABASE_URL'))
    expect(step.env?.BACKUP_AGE_IDENTITY).toBe(expr('secrets.BACKUP_AGE_IDENTITY'))
  })
})

describe('ci.yml and infra.yml', () => {
  it('ci runs the project’s own checks on push and pull request', () => {
    const ci = workflows['ci.yml']!
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push'])
    const runs = ci.jobs.check!.steps.map((s) => s.run).filter(Boolean)
    expect(runs).toEqual(['npm ci', 'npm run typecheck', 'npm run lint', 'npm test'])
  })

  it('infra previews on pull requests and applies on main behind the infrastructure environment', () => {
    const infra = workflows['infra.yml']!
    expect(Object.keys(infra.on).sort()).toEqual(['pull_request', 'push', 'workflow_dispatch'])
    const command = (job: Job) => job.steps.find((s) => s.uses?.startsWith('pulumi/actions@'))?.with?.command
    expect(command(infra.jobs.preview!)).toBe('preview')
    expect(infra.jobs.preview!.if).toContain("github.event_name == 'pull_request'")
    expect(infra.jobs.preview!.environment).toBeUndefined()
    expect(command(infra.jobs.up!)).toBe('up')
    expect(infra.jobs.up!.if).toContain("github.ref == 'refs/heads/main'")
    expect(infra.jobs.up!.environment).toBe(GitHubEnvironment.infrastructure)
    expect(infra.concurrency?.['cancel-in-progress']).toBe(false)
  })
})

describe('alerting from the workflows', () => {
  const tail = (job: Job) => ({ summary: job.steps.at(-2)!, alert: job.steps.at(-1)! })

  it('every Lifeboat job ends with a summary (always) and the fallback alert (on failure)', () => {
    const jobs = lifeboatJobs()
    expect(jobs.map((j) => `${j.file}#${j.id}`).sort()).toEqual([
      'backup.yml#backup',
      'backup.yml#clean',
      'backup.yml#monitor',
      'dr-test.yml#dr-test',
      'drill.yml#drill',
    ])
    const alertScripts = new Set<string>()
    const summaryScripts = new Set<string>()
    for (const { file, id, job } of jobs) {
      const { summary, alert } = tail(job)
      const lifeboatIds = job.steps.filter(isLifeboatStep).map((s) => s.id)
      const listed = lifeboatIds.map((sid) => `${sid}=\${{ steps.${sid}.outcome }}`).join(' ')
      expect(summary.if, `${file} ${id}`).toBe('always()')
      expect(summary.env?.LIFEBOAT_STEPS, `${file} ${id}`).toBe(listed)
      expect(alert.if, `${file} ${id}`).toBe('failure()')
      expect(alert.env?.LIFEBOAT_STEPS, `${file} ${id}`).toBe(listed)
      expect(alert.env?.SLACK_WEBHOOK_URL).toBe(expr('secrets.SLACK_WEBHOOK_URL'))
      expect(alert.uses, 'the fallback needs no checkout and no node_modules').toBeUndefined()
      for (const step of job.steps.filter(isLifeboatStep)) {
        expect(step.run, `${file} ${id}`).toContain(`--json > "$RUNNER_TEMP/lifeboat/${step.id}.json"`)
      }
      alertScripts.add(alert.run!)
      summaryScripts.add(summary.run!)
    }
    // One script, copied: a fix to one copy that misses the others fails here.
    expect(alertScripts.size).toBe(1)
    expect(summaryScripts.size).toBe(1)
  })

  const alertScript = tail(workflows['backup.yml']!.jobs.backup!).alert.run!
  const summaryScript = tail(workflows['backup.yml']!.jobs.backup!).summary.run!

  async function runAlert(steps: string, results: Record<string, string>) {
    const runnerTemp = mkdtempSync(join(tmpdir(), 'lifeboat-alert-'))
    mkdirSync(join(runnerTemp, 'lifeboat'))
    for (const [name, text] of Object.entries(results))
      writeFileSync(join(runnerTemp, 'lifeboat', `${name}.json`), text)
    const received: string[] = []
    const server = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk) => {
        body += chunk
      })
      req.on('end', () => {
        received.push(body)
        res.end('ok')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    try {
      const output = await runBash(alertScript, {
        RUNNER_TEMP: runnerTemp,
        LIFEBOAT_STEPS: steps,
        SLACK_WEBHOOK_URL: `http://127.0.0.1:${port}/services/T0/B0/secret`,
        GITHUB_WORKFLOW: 'backup',
        GITHUB_JOB: 'backup',
        GITHUB_REF_NAME: 'main',
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_REPOSITORY: 'acme/lifeboat',
        GITHUB_RUN_ID: '42',
      })
      return { output, received }
    } finally {
      server.close()
    }
  }

  it('the fallback posts the run link to Slack when the job failed before Lifeboat ran', async () => {
    const { output, received } = await runAlert('backup= verify=', {})
    expect(output).toContain('::error::Lifeboat backup / backup failed before its own alerting could run')
    expect(received).toHaveLength(1)
    const payload = JSON.parse(received[0]!) as { text: string }
    expect(payload.text).toContain('https://github.com/acme/lifeboat/actions/runs/42')
  })

  it('the fallback also fires when Lifeboat crashed without writing its result', async () => {
    const { received } = await runAlert('backup=success verify=failure', { backup: '{"ok":true}' })
    expect(received).toHaveLength(1)
  })

  it('the fallback stays quiet when the failing Lifeboat step reported (and alerted) itself', async () => {
    const { output, received } = await runAlert('backup=failure verify=skipped', {
      backup: '{"ok":false,"job":"backup","error":{"code":"DB_UNREACHABLE"}}',
    })
    expect(output).toContain('lifeboat backup reported the failure')
    expect(received).toHaveLength(0)
  })

  it('the summary lists every step and each result', () => {
    const runnerTemp = mkdtempSync(join(tmpdir(), 'lifeboat-summary-'))
    mkdirSync(join(runnerTemp, 'lifeboat'))
    writeFileSync(
      join(runnerTemp, 'lifeboat', 'backup.json'),
      '{"ok":true,"job":"backup","id":"backup-2027-01-01T020000Z"}\n',
    )
    const summaryFile = join(runnerTemp, 'summary.md')
    execFileSync('bash', ['-e', '-c', summaryScript], {
      env: {
        PATH: process.env.PATH,
        RUNNER_TEMP: runnerTemp,
        GITHUB_STEP_SUMMARY: summaryFile,
        GITHUB_WORKFLOW: 'backup',
        GITHUB_JOB: 'backup',
        LIFEBOAT_STEPS: 'backup=success verify=',
      },
    })
    const summary = readFileSync(summaryFile, 'utf8')
    expect(summary).toContain('| backup | success |')
    expect(summary).toContain('| verify | not run |')
    expect(summary).toContain('"id": "backup-2027-01-01T020000Z"')
  })
})

/** Runs a step script the way GitHub runs `shell: bash` steps. */
function runBash(script: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const argv = ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script]
    execFile('bash', argv, { env: { PATH: process.env.PATH ?? '', ...env } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stdout}\n${stderr}`))
      else resolve(`${stdout}${stderr}`)
    })
  })
}

/** Every minute of a UTC year a five-field cron expression fires at. */
function fireTimes(expression: string, year: number): Date[] {
  const fields = expression.trim().split(/\s+/)
  if (fields.length !== 5) throw new Error(`not a five-field cron: ${expression}`)
  const [minute, hour, dom, month, dow] = [
    cronField(fields[0]!, 0, 59),
    cronField(fields[1]!, 0, 23),
    cronField(fields[2]!, 1, 31),
    cronField(fields[3]!, 1, 12),
    cronField(fields[4]!, 0, 6),
  ]
  const domRestricted = fields[2] !== '*'
  const dowRestricted = fields[4] !== '*'
  const times: Date[] = []
  for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += 60_000) {
    const d = new Date(t)
    if (!minute.has(d.getUTCMinutes()) || !hour.has(d.getUTCHours()) || !month.has(d.getUTCMonth() + 1))
      continue
    const domMatch = dom.has(d.getUTCDate())
    const dowMatch = dow.has(d.getUTCDay())
    // Standard cron: when both day fields are restricted, either may match.
    const dayMatch = domRestricted && dowRestricted ? domMatch || dowMatch : domMatch && dowMatch
    if (dayMatch) times.push(d)
  }
  return times
}

function cronField(field: string, min: number, max: number): Set<number> {
  const values = new Set<number>()
  for (const part of field.split(',')) {
    const [range, stepText] = part.split('/')
    const step = stepText ? Number(stepText) : 1
    const [lo, hi] =
      range === '*'
        ? [min, max]
        : range!.includes('-')
          ? range!.split('-').map(Number)
          : [Number(range), Number(range)]
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo! < min || hi! > max || step < 1) {
      throw new Error(`bad cron field ${field}`)
    }
    for (let v = lo!; v <= hi!; v += step) values.add(v)
  }
  return values
}
