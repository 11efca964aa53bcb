// Where the quarterly DR test restores. The dr-test workflow brings its own PostgreSQL, as the
// drill does, and the test creates and drops its database there as a superuser: never on a
// server from the stack, which Supabase users pointed at a staging project (a database created
// there is no project, its `postgres` no superuser, and schema.sql's owners failed). The stack
// may name an empty database instead (lifeboat:drTestDatabaseUrl → DR_TEST_DATABASE_URL); a
// stack that still sets the old lifeboat:stagingDatabaseUrl keeps deploying, warned.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as pulumi from '@pulumi/pulumi'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { parse } from 'yaml'
import { checkSecretValue, deprecatedSettings, SETTINGS } from '../../infra/settings.ts'
import { readDrTestConfig } from '../../lib/core/drill-config.ts'
import { isLifeboatError } from '../../lib/core/errors.ts'
import { GitHubEnvironment, GitHubSecret, StackOutput } from '../../lib/core/stack-outputs.ts'
import { settingsFor } from '../../lib/settings/settings.ts'
import { buildStack, FAKE_SECRETS, REPOSITORY_ROOT } from './harness.ts'
import { ResourceType } from './policy.ts'
import { evaluateValue } from './step-conditions.ts'

interface Service {
  image: string
  env?: Record<string, string>
  ports?: string[]
  options?: string
}
interface Job {
  environment?: string
  env?: Record<string, string>
  services?: Record<string, Service>
  steps: { run?: string; env?: Record<string, string> }[]
}
interface Workflow {
  env?: Record<string, string>
  jobs: Record<string, Job>
}

const read = (file: string) => readFileSync(join(REPOSITORY_ROOT, '.github/workflows', file), 'utf8')
const source = read('dr-test.yml')
const workflow = parse(source) as Workflow
const job = workflow.jobs['dr-test']!
const step = job.steps.find((s) => /\bnpm run --silent dr:test\b/.test(s.run ?? ''))!
const drill = (parse(read('drill.yml')) as Workflow).jobs.drill!

/** The Lifeboat step's environment as the runner evaluates it, with these secrets set. */
function stepEnv(secrets: Record<string, string> = {}): Record<string, string> {
  const contexts = {
    inputs: {},
    vars: { BACKUP_STORE: 's3://acme-lifeboat-backups/production', AWS_REGION: 'eu-central-1' },
    secrets,
    github: { token: 'ghs_token' },
  }
  const env = { ...workflow.env, ...job.env, ...step.env }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, evaluateValue(String(v), contexts)]))
}

describe('dr-test.yml: the server the DR test restores on', () => {
  const postgres = job.services?.postgres

  it("is a PostgreSQL service container: the drill's image and digest, ready before the steps run", () => {
    expect(postgres?.image).toMatch(/^postgres:\d+(\.\d+)*@sha256:[0-9a-f]{64}$/)
    // One pinned image receives decrypted production data in both workflows (Drill image).
    expect(postgres?.image).toBe(drill.services?.postgres?.image)
    expect(postgres?.ports).toEqual(['5432:5432'])
    expect(postgres?.options).toMatch(/--health-cmd "pg_isready -U postgres -d postgres"/)
    expect(postgres?.options).toMatch(/--health-retries \d+/)
  })

  it('is what STAGING_DATABASE_URL names, as the superuser the image creates, in the step the runner evaluates', () => {
    const env = stepEnv()
    const url = new URL(env.STAGING_DATABASE_URL!)
    expect(url.host).toBe('localhost:5432')
    // The image's POSTGRES_USER defaults to postgres, a superuser: schema.sql's owners and grants work.
    expect(postgres?.env?.POSTGRES_USER ?? 'postgres').toBe('postgres')
    expect(url.username).toBe('postgres')
    expect(url.password).toBe(postgres?.env?.POSTGRES_PASSWORD)
    expect(url.pathname).toBe(`/${postgres?.env?.POSTGRES_DB}`)
  })

  it('never takes a server from the stack, and passes no TARGET_DATABASE_URL (the DR test does not read it)', () => {
    expect(source).not.toMatch(/secrets\.STAGING_DATABASE_URL/)
    expect(Object.values(GitHubSecret).map((s) => s.name)).not.toContain('STAGING_DATABASE_URL')
    expect(settingsFor('dr-test').flatMap((s) => s.env ?? [])).not.toContain('TARGET_DATABASE_URL')
    for (const env of [workflow.env, job.env, step.env])
      expect(env ?? {}).not.toHaveProperty('TARGET_DATABASE_URL')
  })

  it("makes the test create its database on the container; the stack's empty database wins when it is set", () => {
    const onContainer = readDrTestConfig(stepEnv(), {}).target
    expect(onContainer?.kind).toBe('server')
    expect(onContainer?.setting).toBe('STAGING_DATABASE_URL')
    expect(onContainer?.url.reveal()).toContain('@localhost:5432/')

    const empty = FAKE_SECRETS['lifeboat:drTestDatabaseUrl']!
    const given = readDrTestConfig(stepEnv({ DR_TEST_DATABASE_URL: empty }), {}).target
    expect(given?.kind).toBe('database')
    expect(given?.setting).toBe('DR_TEST_DATABASE_URL')
    expect(given?.url.reveal()).toContain('db.drtestprojectref.supabase.co')
  })

  it('reads DR_TEST_DATABASE_URL from the staging environment the job runs in', () => {
    expect(stepEnv({ DR_TEST_DATABASE_URL: 'the-secret' }).DR_TEST_DATABASE_URL).toBe('the-secret')
    expect(stepEnv().DR_TEST_DATABASE_URL).toBe('')
    expect(GitHubSecret.drTestDatabaseUrl).toEqual({ name: 'DR_TEST_DATABASE_URL', scope: job.environment })
    expect(job.environment).toBe(GitHubEnvironment.staging)
  })
})

describe('lifeboat:drTestDatabaseUrl', () => {
  const environmentSecrets = (built: Awaited<ReturnType<typeof buildStack>>) =>
    built.resources.filter((r) => r.type === ResourceType.environmentSecret)

  it('is optional: published as DR_TEST_DATABASE_URL (staging, still secret) when set, absent when not', async () => {
    const spec = SETTINGS.find((s) => s.key === 'lifeboat:drTestDatabaseUrl')!
    expect(spec).toMatchObject({ kind: 'secret', required: false, secret: 'drTestDatabaseUrl' })

    const set = environmentSecrets(await buildStack({ part: 'secrets' })).find(
      (s) => s.inputs.secretName === 'DR_TEST_DATABASE_URL',
    )
    expect(set?.inputs.environment).toBe(GitHubEnvironment.staging)
    expect(set?.secretInputs).toContain('value')
    expect(JSON.stringify(set?.inputs.value)).toContain(FAKE_SECRETS['lifeboat:drTestDatabaseUrl'])

    const unset = await buildStack({ part: 'secrets', remove: ['lifeboat:drTestDatabaseUrl'] })
    expect(environmentSecrets(unset).map((s) => s.inputs.secretName)).not.toContain('DR_TEST_DATABASE_URL')
    // Not one the infrastructure stack tells the secrets stack it must set.
    const infrastructure = await buildStack()
    expect(infrastructure.outputs[StackOutput.githubSecrets]).not.toContain('lifeboat:drTestDatabaseUrl')
  })

  it('must be a PostgreSQL URL', () => {
    const spec = SETTINGS.find((s) => s.key === 'lifeboat:drTestDatabaseUrl')!
    expect(checkSecretValue(spec, FAKE_SECRETS['lifeboat:drTestDatabaseUrl']!)).toBeUndefined()
    expect(checkSecretValue(spec, 'mysql://u:hunter22@h/d')).toBe(
      'lifeboat:drTestDatabaseUrl must be a postgresql:// connection URL',
    )
  })
})

describe('a stack that still sets lifeboat:stagingDatabaseUrl', () => {
  const old = { 'lifeboat:stagingDatabaseUrl': FAKE_SECRETS['lifeboat:stagingDatabaseUrl'] }
  afterEach(() => vi.restoreAllMocks())

  it('deploys its secrets stack, with a warning saying what to set instead, and publishes the value nowhere', async () => {
    const warn = vi.spyOn(pulumi.log, 'warn').mockImplementation(() => Promise.resolve())
    const built = await buildStack({ part: 'secrets', overrides: old })
    const names = environmentSecrets(built)
    expect(names).not.toContain('STAGING_DATABASE_URL')
    // Its value is not taken over as DR_TEST_DATABASE_URL: that one is restored into as it is.
    const text = JSON.stringify(built.resources.map((r) => r.inputs))
    expect(text).not.toContain(FAKE_SECRETS['lifeboat:stagingDatabaseUrl'])
    const warnings = warn.mock.calls.map(([message]) => message)
    expect(warnings).toEqual(deprecatedSettings((key) => old[key as keyof typeof old]))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('`pulumi config rm lifeboat:stagingDatabaseUrl`')
    expect(warnings[0]).toContain('lifeboat:drTestDatabaseUrl')
    expect(warnings[0]).not.toContain('staging-db-password')
  })

  it('is still refused in the infrastructure stack, which pull requests preview', async () => {
    vi.spyOn(pulumi.log, 'warn').mockImplementation(() => Promise.resolve())
    const error = await buildStack({ overrides: old }).catch((e: unknown) => e)
    expect(isLifeboatError(error) && error.code).toBe('CONFIG_INVALID')
    expect(String((error as Error).message)).toContain(
      'lifeboat:stagingDatabaseUrl must not be in the infrastructure stack',
    )
  })

  function environmentSecrets(built: Awaited<ReturnType<typeof buildStack>>): unknown[] {
    return built.resources
      .filter((r) => r.type === ResourceType.environmentSecret)
      .map((r) => r.inputs.secretName)
  }
})
