// Supabase Storage from the stack to the scheduled jobs: the endpoints become repository
// variables, the access keys secrets in the environment of the jobs that use them (backup:
// production; drills and DR tests: staging), and the workflows hand them to those steps only.
// Optional throughout: a stack without Storage settings declares none of it.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { checkSecretValue, parseSettings, SETTINGS } from '../../infra/settings.ts'
import { isLifeboatError } from '../../lib/core/errors.ts'
import { GitHubEnvironment, GitHubSecret, GitHubVariable, StackOutput } from '../../lib/core/stack-outputs.ts'
import { storageSettingNames } from '../../lib/storage/settings.ts'
import { buildStack, FAKE_SECRETS, ofType, REPOSITORY_ROOT, readExample, toEngineConfig } from './harness.ts'
import { ResourceType } from './policy.ts'

const SOURCE_URL = 'https://abcdefghijklmnopqrst.supabase.co/storage/v1/s3'
const STAGING_URL = 'https://tsrqponmlkjihgfedcba.supabase.co/storage/v1/s3'
const STORAGE_PLAIN = [
  'lifeboat:storageS3Url',
  'lifeboat:storageS3Region',
  'lifeboat:stagingStorageS3Url',
  'lifeboat:stagingStorageS3Region',
]
const STORAGE_SECRETS = [
  'lifeboat:storageS3AccessKeyId',
  'lifeboat:storageS3SecretAccessKey',
  'lifeboat:stagingStorageS3AccessKeyId',
  'lifeboat:stagingStorageS3SecretAccessKey',
]
const isStorage = (name: unknown) => String(name).includes('SUPABASE_STORAGE')

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('the stack was built')
    },
    (error: unknown) => error as Error,
  )

describe('Storage in the stack', () => {
  it('publishes both endpoints as repository variables, and none without Storage settings', async () => {
    const variablesOf = async (remove: string[]) =>
      Object.fromEntries(
        ofType(await buildStack({ remove }), ResourceType.actionsVariable)
          .filter((v) => isStorage(v.inputs.variableName))
          .map((v) => [v.inputs.variableName, v.inputs.value]),
      )
    expect(await variablesOf([])).toEqual({
      [GitHubVariable.storageS3Url]: SOURCE_URL,
      [GitHubVariable.storageS3Region]: 'eu-central-1',
      [GitHubVariable.stagingStorageS3Url]: STAGING_URL,
      [GitHubVariable.stagingStorageS3Region]: 'eu-central-1',
    })
    expect(await variablesOf(STORAGE_PLAIN)).toEqual({})
  })

  it('sets the source keys in production and the scratch keys in staging, secret up to GitHub', async () => {
    const built = await buildStack({ part: 'secrets' })
    expect(ofType(built, ResourceType.actionsSecret).filter((s) => isStorage(s.inputs.secretName))).toEqual(
      [],
    )
    const storage = ofType(built, ResourceType.environmentSecret).filter((s) =>
      isStorage(s.inputs.secretName),
    )
    expect(storage.map((s) => `${s.inputs.environment}:${s.inputs.secretName}`).sort()).toEqual([
      'production:SUPABASE_STORAGE_S3_ACCESS_KEY_ID',
      'production:SUPABASE_STORAGE_S3_SECRET_ACCESS_KEY',
      'staging:STAGING_SUPABASE_STORAGE_S3_ACCESS_KEY_ID',
      'staging:STAGING_SUPABASE_STORAGE_S3_SECRET_ACCESS_KEY',
    ])
    for (const secret of storage) {
      expect(secret.secretInputs, String(secret.inputs.secretName)).toContain('value')
      expect(secret.inputs.plaintextValue).toBeUndefined()
    }
    const key = storage.find((s) => s.inputs.secretName === 'SUPABASE_STORAGE_S3_SECRET_ACCESS_KEY')!
    expect(JSON.stringify(key.inputs.value)).toContain(FAKE_SECRETS['lifeboat:storageS3SecretAccessKey'])
    // No environment of the verify, clean or monitor jobs holds a Storage key.
    for (const environment of [GitHubEnvironment.productionRead, GitHubEnvironment.productionClean]) {
      expect(storage.filter((s) => s.inputs.environment === environment)).toEqual([])
    }
  })

  it('without Storage settings creates no Storage secret and names none to set', async () => {
    const secrets = await buildStack({ part: 'secrets', remove: [...STORAGE_PLAIN, ...STORAGE_SECRETS] })
    const names = [
      ...ofType(secrets, ResourceType.actionsSecret),
      ...ofType(secrets, ResourceType.environmentSecret),
    ].map((s) => s.inputs.secretName)
    expect(names.length).toBeGreaterThan(3)
    expect(names.filter(isStorage)).toEqual([])
    const infrastructure = await buildStack({ remove: STORAGE_PLAIN })
    expect(infrastructure.outputs[StackOutput.githubSecrets]).not.toContain('lifeboat:storageS3AccessKeyId')
    expect(infrastructure.outputs[StackOutput.githubSecrets]).not.toContain(
      'lifeboat:stagingStorageS3SecretAccessKey',
    )
  })

  it('names the Storage keys the secrets stack must set when the endpoints are configured', async () => {
    const built = await buildStack()
    expect(built.outputs[StackOutput.githubSecrets]).toEqual(expect.arrayContaining(STORAGE_SECRETS))
  })

  it('refuses half a key pair in one line naming the missing setting', async () => {
    const error = await failureOf(
      buildStack({ part: 'secrets', remove: ['lifeboat:storageS3SecretAccessKey'] }),
    )
    expect(isLifeboatError(error) && error.code).toBe('CONFIG_MISSING')
    expect(error.message).not.toContain('\n')
    expect(error.message).toContain(
      "lifeboat:storageS3SecretAccessKey is not set: run `pulumi config set --secret lifeboat:storageS3SecretAccessKey '…'`",
    )
    expect(error.message).not.toContain(FAKE_SECRETS['lifeboat:storageS3AccessKeyId'])
  })

  it('refuses keys set without their endpoint, naming both settings and never the key', async () => {
    const error = await failureOf(
      buildStack({
        part: 'secrets',
        remove: ['lifeboat:stagingStorageS3Url', 'lifeboat:stagingStorageS3Region'],
      }),
    )
    expect(isLifeboatError(error) && error.code).toBe('CONFIG_INVALID')
    expect(error.message).not.toContain('\n')
    expect(error.message).toContain(
      'lifeboat:stagingStorageS3AccessKeyId is set but lifeboat:stagingStorageS3Url is not',
    )
    for (const key of STORAGE_SECRETS) expect(error.message).not.toContain(FAKE_SECRETS[key])
  })

  it('keeps Storage keys out of the infrastructure stack', async () => {
    const error = await failureOf(
      buildStack({
        overrides: { 'lifeboat:storageS3SecretAccessKey': FAKE_SECRETS['lifeboat:storageS3SecretAccessKey'] },
      }),
    )
    expect(error.message).toContain(
      'lifeboat:storageS3SecretAccessKey must not be in the infrastructure stack',
    )
    expect(error.message).not.toContain(FAKE_SECRETS['lifeboat:storageS3SecretAccessKey'])
  })

  it('checks a key’s shape, naming the setting and never the value', () => {
    const spec = SETTINGS.find((s) => s.key === 'lifeboat:storageS3SecretAccessKey')!
    expect(checkSecretValue(spec, FAKE_SECRETS['lifeboat:storageS3SecretAccessKey']!)).toBeUndefined()
    const problem = checkSecretValue(spec, 'pasted with spaces hunter22hunter22')
    expect(problem).toMatch(/^lifeboat:storageS3SecretAccessKey must be the key as Supabase shows it/)
    expect(problem).not.toContain('hunter22')
  })
})

describe('Storage settings parser', () => {
  const engine = toEngineConfig(readExample())
  const problemsOf = (changes: Record<string, string | undefined>): string[] => {
    try {
      parseSettings((key) => (key in changes ? changes[key] : engine[key]))
    } catch (error) {
      if (isLifeboatError(error)) return [...error.details]
      throw error
    }
    return []
  }

  it('reads both endpoints from the example, and neither when they are empty', () => {
    expect(parseSettings((key) => engine[key]).storage).toEqual({
      source: { url: SOURCE_URL, region: 'eu-central-1' },
      staging: { url: STAGING_URL, region: 'eu-central-1' },
    })
    const empty = Object.fromEntries(STORAGE_PLAIN.map((key) => [key, '']))
    expect(parseSettings((key) => (key in empty ? empty[key] : engine[key])).storage).toEqual({})
  })

  it('wants the URL and the region together', () => {
    expect(problemsOf({ 'lifeboat:storageS3Region': undefined })).toEqual([
      'lifeboat:storageS3Region is not set (lifeboat:storageS3Url is): the region shown beside the endpoint',
    ])
    expect(problemsOf({ 'lifeboat:stagingStorageS3Url': '' })).toEqual([
      'lifeboat:stagingStorageS3Region is set but lifeboat:stagingStorageS3Url is not: set both or neither',
    ])
  })

  it('wants an https URL without credentials, and never echoes one', () => {
    expect(problemsOf({ 'lifeboat:storageS3Url': 'http://abc.supabase.co/storage/v1/s3' })).toEqual([
      'lifeboat:storageS3Url must be an https URL without credentials, such as https://<ref>.supabase.co/storage/v1/s3',
    ])
    const leaked = problemsOf({
      'lifeboat:storageS3Url': 'https://key:hunter22@abc.supabase.co/storage/v1/s3',
    })
    expect(leaked).toHaveLength(1)
    expect(leaked.join()).not.toContain('hunter22')
    expect(problemsOf({ 'lifeboat:storageS3Region': 'Frankfurt' })).toEqual([
      'lifeboat:storageS3Region must be a region such as eu-central-1, got "Frankfurt"',
    ])
  })

  it('refuses a scratch Storage that is the one backed up, in either host form', () => {
    const problems = problemsOf({
      'lifeboat:stagingStorageS3Url': 'https://ABCDEFGHIJKLMNOPQRST.storage.supabase.co/storage/v1/s3/',
    })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^lifeboat:stagingStorageS3Url must name a scratch project/)
  })
})

describe('Storage in the workflows', () => {
  interface Step {
    id?: string
    run?: string
    env?: Record<string, string>
  }
  interface Job {
    environment?: string
    env?: Record<string, string>
    steps: Step[]
  }
  const workflow = (file: string) =>
    parse(readFileSync(join(REPOSITORY_ROOT, '.github/workflows', file), 'utf8')) as {
      env?: Record<string, string>
      jobs: Record<string, Job>
    }
  const expr = (inner: string) => `\${{ ${inner} }}`
  const lifeboatStep = (job: Job) =>
    job.steps.find((s) => /npm run --silent (backup:|dr:)/.test(s.run ?? ''))!
  const storageEnv = (env: Record<string, string> | undefined) =>
    Object.fromEntries(Object.entries(env ?? {}).filter(([name]) => isStorage(name)))
  /** What a step needs for one Storage role: the endpoint from variables, the keys from secrets. */
  const endpointEnv = (role: 'source' | 'staging') => {
    const names = storageSettingNames(role)
    return {
      [names.url]: expr(`vars.${names.url}`),
      [names.region]: expr(`vars.${names.region}`),
      [names.accessKeyId]: expr(`secrets.${names.accessKeyId}`),
      [names.secretAccessKey]: expr(`secrets.${names.secretAccessKey}`),
    }
  }

  it('hands the backup step the Storage it backs up, keys from the production environment', () => {
    const backup = workflow('backup.yml')
    const job = backup.jobs.backup!
    expect(job.environment).toBe(GitHubSecret.storageS3AccessKeyId.scope)
    expect(storageEnv(lifeboatStep(job).env)).toEqual(endpointEnv('source'))
    expect(storageEnv(backup.env)).toEqual({})
    expect(storageEnv(job.env)).toEqual({})
  })

  it('gives the verify, clean and monitor jobs no Storage setting at all', () => {
    const { jobs } = workflow('backup.yml')
    expect(Object.keys(jobs).sort()).toEqual(['backup', 'clean', 'monitor', 'verify'])
    for (const id of ['verify', 'clean', 'monitor']) {
      expect(JSON.stringify(jobs[id]), id).not.toMatch(/SUPABASE_STORAGE/)
    }
  })

  it.each([
    ['drill.yml', 'drill'],
    ['dr-test.yml', 'dr-test'],
  ])(
    '%s restores files into the scratch Storage only, knowing the one backed up to refuse it',
    (file, id) => {
      const job = workflow(file).jobs[id]!
      expect(job.environment).toBe(GitHubSecret.stagingStorageS3AccessKeyId.scope)
      expect(storageEnv(lifeboatStep(job).env)).toEqual({
        ...endpointEnv('staging'),
        // Read as the Storage a drill must never write to (lib/storage/settings.ts readProductionStorage).
        [GitHubVariable.storageS3Url]: expr(`vars.${GitHubVariable.storageS3Url}`),
      })
      expect(JSON.stringify(job)).not.toMatch(/secrets\.SUPABASE_STORAGE/)
    },
  )
})
