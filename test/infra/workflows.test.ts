// The workflows in .github/workflows: valid for GitHub's own parser, and held to the project's
// rules (schedules, timeouts, least permissions, pinned actions, scripts that exist, secrets and
// variables the Pulumi stack provisions, roles that match infra/access.ts, the fallback alert).
import { execFile, execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { type PipelineRole, ROLE_JOBS, ROLE_SESSION_SECONDS } from '../../infra/access.ts'
import { countFailedRuns } from '../../lib/adapters/notify/failure-history.ts'
import {
  BootstrapSecret,
  BootstrapVariable,
  GitHubEnvironment,
  GitHubSecret,
  GitHubVariable,
} from '../../lib/core/stack-outputs.ts'
import { SETTINGS, settingsFor } from '../../lib/settings/settings.ts'
import { TRUST_SETTINGS } from '../../lib/settings/trust-settings.ts'
import {
  type FakeWorkflowRun,
  type ReceivedMail,
  startGitHubApiReceiver,
  startPagerDutyReceiver,
  startSlackReceiver,
  startSmtpReceiver,
} from '../helpers/receivers.ts'
import { REPOSITORY_ROOT } from './harness.ts'
import { conditionHolds, evaluateValue, stepRuns } from './step-conditions.ts'
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
  /** A reusable workflow call (no steps of its own). */
  uses?: string
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

/** Every job that runs steps (a reusable workflow call has none of its own). */
function allJobs(): { file: string; id: string; job: Job }[] {
  return files.flatMap((file) =>
    Object.entries(workflows[file]!.jobs)
      .filter(([, job]) => job.uses === undefined)
      .map(([id, job]) => ({ file, id, job })),
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
const isAlertStep = (step: Step) => step.name?.startsWith('Alert when') ?? false

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
      // actions: read lets the jobs and the fallback alert count earlier failed runs for escalation.
      if (permissions.actions === 'read') expect(job.steps.some(isAlertStep), where).toBe(true)
    }
  })

  it('third-party actions are pinned by full commit SHA, with the version in a comment, the same everywhere', () => {
    const pins = new Map<string, string>()
    for (const file of files) {
      const lines = sources[file]!.split('\n').filter(
        (l) => /^\s*(-\s+)?uses:/.test(l) && !/uses:\s*\.\//.test(l),
      )
      for (const line of lines) {
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

  it('every action is a release that runs on Node 24 (the ones before ran on Node 20, past its end of life)', () => {
    // The first major of each whose action.yml says `runs.using: node24`, read from the releases.
    const firstOnNode24: Record<string, number> = {
      'actions/checkout': 5,
      'actions/setup-node': 5,
      'actions/upload-artifact': 6,
      'aws-actions/configure-aws-credentials': 6,
      'pulumi/actions': 7,
    }
    let checked = 0
    for (const file of files) {
      for (const [, action, major] of sources[file]!.matchAll(
        /uses:\s*([\w.-]+\/[\w.-]+)@[0-9a-f]{40}\s+#\s*v(\d+)/g,
      )) {
        expect(firstOnNode24[action!], `${file}: ${action} is not in the table`).toBeDefined()
        expect(Number(major), `${file}: ${action} v${major}`).toBeGreaterThanOrEqual(firstOnNode24[action!]!)
        checked++
      }
    }
    expect(checked).toBeGreaterThan(20)
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
  it('each role is assumed only by a job its trust policy names (workflow and environment), for at most its session limit', () => {
    for (const { file, id, job } of allJobs()) {
      for (const step of job.steps.filter(isAwsCredentials)) {
        const role = roleOf(step)
        if (!role) continue // the bootstrap deploy and preview roles of infra.yml
        expect(ROLE_JOBS[role], `${file} ${id}`).toContainEqual({
          workflow: file,
          environment: job.environment,
        })
        expect(Number(step.with?.['role-duration-seconds']), `${file} ${id}`).toBeLessThanOrEqual(
          ROLE_SESSION_SECONDS[role],
        )
      }
    }
  })

  it('no environment serves two roles in one workflow, so no job can assume another duty’s role', () => {
    const owner = new Map<string, PipelineRole>()
    for (const { file, id, job } of allJobs()) {
      for (const role of job.steps.filter(isAwsCredentials).map(roleOf)) {
        if (!role) continue
        const key = `${file}:${job.environment}`
        expect(owner.get(key) ?? role, `${file} ${id}`).toBe(role)
        owner.set(key, role)
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

  it('a job holds one role at most', () => {
    for (const { file, id, job } of allJobs()) {
      expect(job.steps.filter(isAwsCredentials).length, `${file} ${id}`).toBeLessThanOrEqual(1)
    }
  })

  it('jobs that hold credentials install without dependency install scripts', () => {
    for (const { file, id, job } of allJobs()) {
      const installs = job.steps.filter((s) => /\bnpm (ci|install)\b/.test(s.run ?? ''))
      if (job.permissions && typeof job.permissions === 'object' && job.permissions['id-token'] === 'write') {
        expect(
          installs.map((s) => s.run?.trim()),
          `${file} ${id}`,
        ).toEqual(['npm ci --ignore-scripts'])
      }
    }
  })
})

describe('backup.yml', () => {
  const workflow = workflows['backup.yml']!

  it('never runs two backups at once and never cancels a running one', () => {
    expect(workflow.concurrency).toEqual({ group: 'lifeboat-backup', 'cancel-in-progress': false })
  })

  it('runs backup → verify --quick → clean → monitor, one job per duty, cleaning only after a good, verified backup', () => {
    expect(Object.keys(workflow.jobs)).toEqual(['backup', 'verify', 'clean', 'monitor'])
    const sequence = Object.values(workflow.jobs).flatMap((job) =>
      job.steps
        .map((s) => /npm run --silent ([\w:]+(?: -- latest --quick)?)/.exec(s.run ?? '')?.[1])
        .filter(Boolean),
    )
    expect(sequence).toEqual([
      'backup:database',
      'backup:verify -- latest --quick',
      'backup:clean',
      'backup:monitor',
    ])
    expect(
      Object.fromEntries(Object.entries(workflow.jobs).map(([id, job]) => [id, job.environment])),
    ).toEqual({
      backup: 'production',
      verify: 'production-read',
      clean: 'production-clean',
      monitor: 'production-read',
    })
    expect(workflow.jobs.verify!.needs).toBe('backup')
    expect(workflow.jobs.clean!.needs).toEqual(['backup', 'verify'])
    expect(workflow.jobs.clean!.if).toBeUndefined() // skipped when the backup or its verification failed
    expect(workflow.jobs.monitor!.needs).toEqual(['backup', 'verify', 'clean'])
    expect(workflow.jobs.monitor!.if).toContain('!cancelled()')
  })

  it('hands the clean job the retention policy the stack publishes', () => {
    const retention = Object.values(GitHubVariable).filter((name) => name.startsWith('RETENTION_'))
    expect(retention).toHaveLength(5)
    expect(workflow.jobs.clean!.env).toEqual(
      Object.fromEntries(retention.map((name) => [name, expr(`vars.${name}`)])),
    )
  })

  it('hands the monitor step every setting of backup:monitor the stack publishes (replica store, region, lag)', () => {
    const job = workflow.jobs.monitor!
    const step = job.steps.find((s) => s.id === 'monitor')!
    const env = { ...workflow.env, ...job.env, ...step.env }
    const published = new Set<string>(Object.values(GitHubVariable))
    const read = settingsFor('monitor')
      .flatMap((def) => def.env ?? [])
      .filter((name) => published.has(name))
    expect(read).toEqual(expect.arrayContaining(['BACKUP_REPLICA_STORE', 'REPLICA_LAG_HOURS']))
    for (const name of read) expect(env[name], name).toBe(expr(`vars.${name}`))
  })

  it('gives the production database URL and the age recipients to the backup step only', () => {
    const backup = workflow.jobs.backup!.steps.find((s) => s.id === 'backup')!
    expect(backup.env?.DATABASE_URL).toBe(expr('secrets.DATABASE_URL'))
    expect(backup.env?.BACKUP_AGE_RECIPIENTS).toBe(expr('secrets.BACKUP_AGE_RECIPIENTS'))
    expect(sources['backup.yml']!.match(/secrets\.DATABASE_URL/g)).toHaveLength(1)
    expect(sources['backup.yml']).not.toMatch(/BACKUP_AGE_IDENTITY/)
  })
})

describe('signing keys in the workflows', () => {
  const steps = allJobs().flatMap(({ file, id, job }) => job.steps.map((step) => ({ file, id, job, step })))
  /** The steps that read backups (verify, clean, drill, DR test): the jobs TRUST_SETTINGS names. */
  const readsBackups = (step: Step) =>
    /npm run --silent (backup:verify|backup:clean|backup:drill|dr:test)\b/.test(step.run ?? '')

  it('hands the secret signing key to the backup step alone, in the production environment', () => {
    const holders = steps.filter(({ step }) => JSON.stringify(step).includes('BACKUP_SIGNING_KEY'))
    expect(holders.map(({ file, id, step }) => `${file} ${id} ${step.id}`)).toEqual([
      'backup.yml backup backup',
    ])
    const [{ job, step }] = holders as [(typeof holders)[number]]
    expect(step.env?.BACKUP_SIGNING_KEY).toBe(expr(`secrets.${GitHubSecret.signingKey.name}`))
    expect(job.environment).toBe(GitHubSecret.signingKey.scope)
    expect(GitHubSecret.signingKey.scope).toBe(GitHubEnvironment.production)
    for (const file of files) expect(workflows[file]!.env ?? {}).not.toHaveProperty('BACKUP_SIGNING_KEY')
  })

  it('gives every step that reads backups the public keys the stack publishes', () => {
    const readers = steps.filter(({ step }) => readsBackups(step))
    expect(readers.map(({ file, id }) => `${file} ${id}`).sort()).toEqual([
      'backup.yml clean',
      'backup.yml verify',
      'dr-test.yml dr-test',
      'drill.yml drill',
    ])
    for (const { file, id, step } of readers) {
      expect(step.env?.BACKUP_SIGNING_PUBLIC_KEYS, `${file} ${id}`).toBe(
        expr(`vars.${GitHubVariable.signingPublicKeys}`),
      )
    }
    expect(TRUST_SETTINGS.signingPublicKeys.jobs).toEqual(['restore', 'verify', 'clean', 'drill', 'dr-test'])
    expect(TRUST_SETTINGS.signingKey.jobs).toEqual(['backup'])
  })

  it('never lets a reader of backups hold the signing key, nor lets --allow-unsigned into a schedule', () => {
    for (const { file, id, step } of steps.filter(({ step }) => readsBackups(step))) {
      expect(step.env ?? {}, `${file} ${id}`).not.toHaveProperty('BACKUP_SIGNING_KEY')
    }
    for (const file of files)
      expect(sources[file], file).not.toMatch(/--allow-unsigned|LIFEBOAT_ALLOW_UNSIGNED/)
  })
})

describe('drill.yml and dr-test.yml', () => {
  it('the drill restores into a PostgreSQL service container pinned by digest', () => {
    const job = workflows['drill.yml']!.jobs.drill!
    expect(job.services?.postgres?.image).toMatch(/^postgres:\d+(\.\d+)*@sha256:[0-9a-f]{64}$/)
    expect(job.env?.TARGET_DATABASE_URL).toMatch(/@localhost:5432\//)
    expect(job.environment).toBe(GitHubEnvironment.staging)
  })

  describe('the copy the DR test restores from', () => {
    const workflow = workflows['dr-test.yml']!
    const job = workflow.jobs['dr-test']!
    const step = job.steps.find(isLifeboatStep)!
    const guard = job.steps.find((s) => s.name === 'Check that the stack has a replica')!
    const vars = {
      [GitHubVariable.backupStore]: 's3://acme-lifeboat-backups/production',
      [GitHubVariable.region]: 'eu-central-1',
      [GitHubVariable.replicaStore]: 's3://acme-lifeboat-backups-replica/production',
      [GitHubVariable.replicaRegion]: 'eu-west-1',
    }
    const STORE_NAMES = [
      'BACKUP_STORE',
      'AWS_REGION',
      'LIFEBOAT_RECORD_STORE',
      'LIFEBOAT_RECORD_STORE_REGION',
    ]
    /** What the Lifeboat step is given, as the runner evaluates it for a run with these inputs. */
    const storesFor = (inputs: Record<string, string>, published: Record<string, string> = vars) => {
      const env = { ...workflow.env, ...job.env, ...step.env }
      return Object.fromEntries(
        STORE_NAMES.map((name) => [name, evaluateValue(env[name] ?? '', { inputs, vars: published })]),
      )
    }

    it('is chosen on dispatch: primary (the default) or replica', () => {
      const dispatch = workflow.on.workflow_dispatch as {
        inputs: Record<string, { type: string; options: string[]; default: string }>
      }
      expect(dispatch.inputs.source).toMatchObject({
        type: 'choice',
        options: ['primary', 'replica'],
        default: 'primary',
      })
      expect(Object.keys(workflow.on).sort()).toEqual(['schedule', 'workflow_dispatch'])
    })

    it('the schedule and a primary run read the primary bucket and keep the records there', () => {
      const primary = {
        BACKUP_STORE: vars.BACKUP_STORE,
        AWS_REGION: vars.AWS_REGION,
        LIFEBOAT_RECORD_STORE: '',
        LIFEBOAT_RECORD_STORE_REGION: '',
      }
      // A scheduled run has no inputs.
      expect(storesFor({})).toEqual(primary)
      expect(storesFor({ source: 'primary' })).toEqual(primary)
    })

    it('a replica run reads the replica in its region and writes the records to the primary in its own', () => {
      // The reader may only list and read the replica (infra/iam-documents.ts readerPolicy).
      expect(storesFor({ source: 'replica' })).toEqual({
        BACKUP_STORE: vars.BACKUP_REPLICA_STORE,
        AWS_REGION: vars.BACKUP_REPLICA_REGION,
        LIFEBOAT_RECORD_STORE: vars.BACKUP_STORE,
        LIFEBOAT_RECORD_STORE_REGION: vars.AWS_REGION,
      })
    })

    it('sets the store settings on the Lifeboat step, under the names the settings table reads', () => {
      // Step-level: the credentials step exports AWS_REGION for the steps after it.
      for (const name of STORE_NAMES) {
        expect(workflow.env ?? {}, name).not.toHaveProperty(name)
        expect(job.env ?? {}, name).not.toHaveProperty(name)
        expect(step.env, name).toHaveProperty(name)
      }
      expect(SETTINGS.store.env).toContain('BACKUP_STORE')
      expect(SETTINGS.awsRegion.env![0]).toBe('AWS_REGION')
      expect(SETTINGS.recordStore.env).toEqual(['LIFEBOAT_RECORD_STORE'])
      expect(SETTINGS.recordStoreRegion.env).toEqual(['LIFEBOAT_RECORD_STORE_REGION'])
      expect(settingsFor('dr-test')).toEqual(
        expect.arrayContaining([SETTINGS.recordStore, SETTINGS.recordStoreRegion]),
      )
    })

    it('a replica run in a stack without a replica fails first, instead of testing the primary', () => {
      const without = { ...vars, [GitHubVariable.replicaStore]: '', [GitHubVariable.replicaRegion]: '' }
      // What the fallback in the expressions would do, and why the check exists.
      expect(storesFor({ source: 'replica' }, without).BACKUP_STORE).toBe(vars.BACKUP_STORE)
      expect(conditionHolds(guard.if!, { inputs: { source: 'replica' }, vars: without })).toBe(true)
      expect(conditionHolds(guard.if!, { inputs: { source: 'replica' }, vars })).toBe(false)
      expect(conditionHolds(guard.if!, { inputs: {}, vars: without })).toBe(false)
      expect(conditionHolds(guard.if!, { inputs: { source: 'primary' }, vars: without })).toBe(false)
      expect(job.steps.indexOf(guard)).toBe(0)
      const run = spawnSync('bash', ['-c', guard.run!], { encoding: 'utf8' })
      expect(run.status).toBe(1)
      expect(run.stdout).toContain('::error::source replica: the stack publishes no BACKUP_REPLICA_STORE')
    })
  })

  it('the DR test runs with the staging secrets (where it restores: dr-test-target.test.ts)', () => {
    const job = workflows['dr-test.yml']!.jobs['dr-test']!
    expect(job.environment).toBe(GitHubEnvironment.staging)
    const step = job.steps.find(isLifeboatStep)!
    expect(step.env?.BACKUP_AGE_IDENTITY).toBe(expr('secrets.BACKUP_AGE_IDENTITY'))
  })
})

describe('ci.yml and infra.yml', () => {
  it('ci runs the project’s own checks on push and pull request', () => {
    const ci = workflows['ci.yml']!
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push', 'workflow_call'])
    const runs = ci.jobs.check!.steps.map((s) => s.run).filter(Boolean)
    expect(runs).toEqual(['npm ci', 'npm run typecheck', 'npm run lint', 'npm test'])
  })

  it('infra previews on pull requests and applies on main behind the infrastructure environment', () => {
    const infra = workflows['infra.yml']!
    expect(Object.keys(infra.on).sort()).toEqual(['pull_request', 'push', 'workflow_dispatch'])
    // `up` only after the project's checks passed on the same commit.
    expect(infra.jobs.ci!.uses).toBe('./.github/workflows/ci.yml')
    expect(infra.jobs.up!.needs).toBe('ci')
    expect(Object.keys(workflows['ci.yml']!.on)).toContain('workflow_call')
    // The preview runs the pull request's code: a token for the infrastructure stack only (no secrets
    // in it), a read-only role, --refresh so drift shows.
    const preview = infra.jobs.preview!.steps.find((s) => s.uses?.startsWith('pulumi/actions@'))!
    expect(preview.env?.PULUMI_ACCESS_TOKEN).toBe(expr('secrets.PULUMI_PREVIEW_TOKEN'))
    expect(preview.with?.refresh).toBe(true)
    expect(JSON.stringify(infra.jobs.preview)).not.toMatch(/PULUMI_GITHUB_TOKEN|secrets\.PULUMI_ACCESS_TOKEN/)
    const command = (job: Job) => job.steps.find((s) => s.uses?.startsWith('pulumi/actions@'))?.with?.command
    expect(command(infra.jobs.preview!)).toBe('preview')
    expect(infra.jobs.preview!.if).toContain("github.event_name == 'pull_request'")
    expect(infra.jobs.preview!.environment).toBeUndefined()
    expect(command(infra.jobs.up!)).toBe('up')
    expect(infra.jobs.up!.if).toContain("github.ref == 'refs/heads/main'")
    expect(infra.jobs.up!.environment).toBe(GitHubEnvironment.infrastructure)
    expect(infra.concurrency?.['cancel-in-progress']).toBe(false)
  })

  it("keeps infra.yml's call of ci.yml out of the push's own CI run's concurrency group", () => {
    // A called workflow's concurrency applies in the caller's run, where github.workflow is
    // the caller's name; without it in the group the two runs of a push cancel each other.
    const ci = workflows['ci.yml']!
    expect(ci.concurrency?.group).toMatch(/\$\{\{ github\.workflow \}\}/)
    expect(ci.concurrency?.group).toMatch(/\$\{\{ github\.ref \}\}/)
  })
})

describe('alerting from the workflows', () => {
  const tail = (job: Job) => ({ summary: job.steps.at(-2)!, alert: job.steps.at(-1)! })
  const CHANNEL_SECRETS = ['SLACK_WEBHOOK_URL', 'PAGERDUTY_ROUTING_KEY', 'SMTP_URL']

  it('every Lifeboat job ends with a summary (always) and the fallback alert (failure, timeout, cancellation)', () => {
    const jobs = lifeboatJobs()
    expect(jobs.map((j) => `${j.file}#${j.id}`).sort()).toEqual([
      'backup.yml#backup',
      'backup.yml#clean',
      'backup.yml#monitor',
      'backup.yml#verify',
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
      expect(alert.if, `${file} ${id}`).toBe('failure() || cancelled()')
      expect(alert.env?.LIFEBOAT_STEPS, `${file} ${id}`).toBe(listed)
      expect(alert.env?.JOB_STATUS).toBe(expr('job.status'))
      expect(alert.env?.GITHUB_TOKEN).toBe(expr('github.token'))
      for (const name of CHANNEL_SECRETS)
        expect(alert.env?.[name], `${file} ${id} ${name}`).toBe(expr(`secrets.${name}`))
      expect(alert.uses, 'the fallback needs no checkout and no node_modules').toBeUndefined()
      expect(alert.run).not.toMatch(/\bnpm\b|\bnode\b|\bnpx\b/)
      for (const step of job.steps.filter(isLifeboatStep)) {
        expect(step.run, `${file} ${id}`).toContain(`--json > "$RUNNER_TEMP/lifeboat/${step.id}.json"`)
      }
      alertScripts.add(alert.run!)
      summaryScripts.add(summary.run!)
    }
    // One script, copied (infra.yml's deploy alert too): a fix to one copy that misses the others fails here.
    const deployAlert = workflows['infra.yml']!.jobs.up!.steps.at(-1)!
    expect(deployAlert.if).toBe('failure() || cancelled()')
    alertScripts.add(deployAlert.run!)
    expect(alertScripts.size).toBe(1)
    expect(summaryScripts.size).toBe(1)
  })

  it('every step has a timeout, and the steps fit the job’s: a hang fails a step and the alert still runs', () => {
    for (const { file, id, job } of [
      ...lifeboatJobs(),
      { file: 'infra.yml', id: 'up', job: workflows['infra.yml']!.jobs.up! },
    ]) {
      const timeouts = job.steps.map((s) => (s as { 'timeout-minutes'?: number })['timeout-minutes'])
      expect(
        timeouts.every((t) => typeof t === 'number' && t > 0),
        `${file} ${id}`,
      ).toBe(true)
      const total = timeouts.reduce((a, b) => a! + b!, 0)!
      expect(
        total,
        `${file} ${id}: steps ${total} min, job ${job['timeout-minutes']} min`,
      ).toBeLessThanOrEqual(job['timeout-minutes']!)
    }
  })

  it.each([
    ['a step failed (checkout, install, credentials, Lifeboat)', 'failure'],
    ['a step hit its timeout-minutes (the runner fails the step)', 'failure'],
    ['the run was cancelled or hit the job timeout', 'cancelled'],
  ] as const)('the alert and the summary run when %s', (_, state) => {
    for (const { file, id, job } of lifeboatJobs()) {
      const { summary, alert } = tail(job)
      expect(stepRuns(alert.if, state), `${file} ${id}`).toBe(true)
      expect(stepRuns(summary.if, state), `${file} ${id}`).toBe(true)
      // The Lifeboat step itself is skipped once an earlier step failed.
      expect(stepRuns(job.steps.find(isLifeboatStep)!.if, state), `${file} ${id}`).toBe(false)
    }
  })

  it('the alert stays out of a run that went well; `if: failure()` alone would miss a cancellation', () => {
    for (const { job } of lifeboatJobs()) expect(stepRuns(tail(job).alert.if, 'success')).toBe(false)
    expect(stepRuns('failure()', 'cancelled')).toBe(false)
  })

  const alertScript = tail(workflows['backup.yml']!.jobs.backup!).alert.run!
  const summaryScript = tail(workflows['backup.yml']!.jobs.backup!).summary.run!

  interface AlertRun {
    output: string
    code: number
    slack: unknown[]
    pages: Record<string, unknown>[]
    mails: ReceivedMail[]
  }

  async function runAlert(
    steps: string,
    options: {
      results?: Record<string, string>
      previousRuns?: FakeWorkflowRun['conclusion'][]
      status?: string
      slackDown?: boolean
    } = {},
  ): Promise<AlertRun> {
    const runnerTemp = mkdtempSync(join(tmpdir(), 'lifeboat-alert-'))
    mkdirSync(join(runnerTemp, 'lifeboat'))
    for (const [name, text] of Object.entries(options.results ?? {}))
      writeFileSync(join(runnerTemp, 'lifeboat', `${name}.json`), text)
    const slack = await startSlackReceiver()
    const pagerDuty = await startPagerDutyReceiver()
    const smtp = await startSmtpReceiver()
    const runs = (options.previousRuns ?? []).map((conclusion, i) => ({
      id: 100 + i,
      status: 'completed' as const,
      conclusion,
      created_at: new Date(Date.UTC(2027, 0, 10 - i, 2)).toISOString(),
    }))
    const github = await startGitHubApiReceiver(runs)
    try {
      const result = await runBash(alertScript, {
        RUNNER_TEMP: runnerTemp,
        LIFEBOAT_STEPS: steps,
        JOB_STATUS: options.status ?? 'failure',
        SLACK_WEBHOOK_URL: options.slackDown ? 'http://127.0.0.1:9/down' : slack.url,
        PAGERDUTY_ROUTING_KEY: 'pagerduty-routing-key-0123456789abcd',
        PAGERDUTY_EVENTS_URL: `${pagerDuty.origin}/v2/enqueue`,
        SMTP_URL: smtp.url,
        ONCALL_EMAIL: 'oncall@example.com, second@example.com',
        GITHUB_TOKEN: 'ghs_test_token',
        GITHUB_API_URL: github.origin,
        GITHUB_WORKFLOW: 'backup',
        GITHUB_WORKFLOW_REF: 'acme/lifeboat/.github/workflows/backup.yml@refs/heads/main',
        GITHUB_JOB: 'backup',
        GITHUB_REF_NAME: 'main',
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_REPOSITORY: 'acme/lifeboat',
        GITHUB_RUN_ID: '42',
        ALERT_ENVIRONMENT: 'production',
      })
      const mails = options.slackDown ? smtp.messages : await smtp.waitFor(smtp.messages.length)
      return {
        ...result,
        slack: slack.requests.map((r) => r.json),
        pages: pagerDuty.requests.map((r) => r.json as Record<string, unknown>),
        mails,
      }
    } finally {
      await Promise.all([slack.close(), pagerDuty.close(), smtp.close(), github.close()])
    }
  }

  it('a first failure before Lifeboat ran: Slack and e-mail, with the run link; no page yet', async () => {
    const run = await runAlert('backup=', { previousRuns: ['success'] })
    expect(run.code, run.output).toBe(0)
    expect(run.output).toContain(
      '::error::Lifeboat backup / backup ended (failure) before its own alerting could run',
    )
    expect(run.output).toContain('failed runs before this one: 0')
    expect(run.slack).toHaveLength(1)
    expect(JSON.stringify(run.slack[0])).toContain('https://github.com/acme/lifeboat/actions/runs/42')
    expect(run.mails).toHaveLength(1)
    expect(run.mails[0]!.to).toEqual(['oncall@example.com', 'second@example.com'])
    expect(run.mails[0]!.subject).toBe('[Lifeboat] backup / backup failed before it could alert')
    expect(run.pages).toEqual([])
  })

  it('the second failure in a row pages, even though Lifeboat never started, with the key a success resolves', async () => {
    const run = await runAlert('backup=', { previousRuns: ['failure', 'success'] })
    expect(run.code, run.output).toBe(0)
    expect(run.output).toContain('failed runs before this one: 1')
    expect(run.pages).toHaveLength(1)
    expect(run.pages[0]).toMatchObject({
      routing_key: 'pagerduty-routing-key-0123456789abcd',
      event_action: 'trigger',
      dedup_key: 'lifeboat/backup/production',
      payload: { severity: 'critical', source: 'acme/lifeboat' },
    })
    expect(run.slack).toHaveLength(1)
    expect(run.mails).toHaveLength(1)
  })

  it('a cancelled or timed-out run counts as a failed one, and a cancelled Lifeboat step alerts', async () => {
    const run = await runAlert('backup=cancelled', {
      previousRuns: ['cancelled', 'success'],
      status: 'cancelled',
    })
    expect(run.output).toContain('ended (cancelled)')
    expect(run.pages).toHaveLength(1)
  })

  it("counts the same failed runs as the jobs' own count, so the page it opens is resolved", async () => {
    const previousRuns: FakeWorkflowRun['conclusion'][] = [
      'failure',
      'cancelled',
      'skipped',
      'timed_out',
      'startup_failure',
      'success',
      'failure',
    ]
    const run = await runAlert('backup=', { previousRuns })
    const counted = countFailedRuns(
      previousRuns.map((conclusion, i) => ({
        id: 100 + i,
        status: 'completed',
        conclusion,
        created_at: new Date(Date.UTC(2027, 0, 10 - i, 2)).toISOString(),
      })),
    )
    expect(counted).toBe(4)
    expect(run.output).toContain(`failed runs before this one: ${counted}`)
  })

  it('also fires when Lifeboat crashed without writing its result', async () => {
    const run = await runAlert('drill=failure report=success', { results: { report: '{"ok":true}' } })
    expect(run.slack).toHaveLength(1)
  })

  it('stays quiet when the failing Lifeboat step reported (and alerted) itself', async () => {
    const run = await runAlert('backup=failure', {
      results: { backup: '{"ok":false,"job":"backup","error":{"code":"DB_UNREACHABLE"}}' },
    })
    expect(run.output).toContain('lifeboat backup reported the failure')
    expect(run.slack).toHaveLength(0)
    expect(run.mails).toHaveLength(0)
    expect(run.pages).toHaveLength(0)
  })

  it('fails the step, visibly, when a channel could not be reached', async () => {
    const run = await runAlert('backup=', { slackDown: true })
    expect(run.code).not.toBe(0)
    expect(run.output).toContain('::error::the Slack alert failed')
    expect(run.mails).toHaveLength(1)
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
function runBash(script: string, env: Record<string, string>): Promise<{ output: string; code: number }> {
  return new Promise((resolve) => {
    const argv = ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script]
    execFile('bash', argv, { env: { PATH: process.env.PATH ?? '', ...env } }, (error, stdout, stderr) => {
      resolve({
        output: `${stdout}${stderr}`,
        code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
      })
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
