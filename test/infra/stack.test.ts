// The Pulumi program under runtime mocks, configured from Pulumi.example.yaml: every property
// the product card promises (bucket, IAM, GitHub wiring, outputs) asserted on the declared resources.
import * as pulumi from '@pulumi/pulumi'
import { beforeAll, describe, expect, it } from 'vitest'
import { ROLE_SESSION_SECONDS } from '../../infra/access.ts'
import type { PolicyStatement } from '../../infra/iam-documents.ts'
import { SETTINGS } from '../../infra/settings.ts'
import { readWorkflowFiles } from '../../infra/workflow-files.ts'
import {
  GitHubEnvironment,
  GitHubSecret,
  GitHubVariable,
  StackOutput,
  VariableForOutput,
} from '../../lib/core/stack-outputs.ts'
import { SIGNATURE_SUFFIX } from '../../lib/trust/backup-signature.ts'
import {
  ACCOUNT,
  type BuiltStack,
  buildStack,
  documentOf,
  exampleWithFakeSecrets,
  FAKE_SECRETS,
  ofType,
  one,
  REPOSITORY_ROOT,
  replicaWithKey,
  resolved,
  STACK,
  toEngineConfig,
} from './harness.ts'
import { isAllowed, ResourceType } from './policy.ts'

const BUCKET = 'acme-lifeboat-backups'
/** Every Storage setting, plain and secret: a stack without Storage files has none of them. */
const STORAGE_SETTINGS = SETTINGS.filter((s) => /^lifeboat:(staging)?(storage|Storage)S3/.test(s.key)).map(
  (s) => s.key,
)
const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`
const roleArn = (duty: string) => `arn:aws:iam::${ACCOUNT}:role/lifeboat-${STACK}-${duty}`
const statement = (statements: PolicyStatement[], sid: string) => {
  const found = statements.find((s) => s.Sid === sid)
  if (!found) throw new Error(`no statement ${sid}`)
  return found
}

/** The primary backup bucket's resources (the replica and the trail bucket have their own). */
const onBackups = (r: { inputs: Record<string, unknown> }) => r.inputs.bucket === BUCKET

let stack: BuiltStack
beforeAll(async () => {
  stack = await buildStack()
})

describe('bucket', () => {
  it('is named from the config, protected, and never force-destroyed', () => {
    const bucket = one(stack, ResourceType.bucket, onBackups)
    expect(bucket.inputs.bucket).toBe(BUCKET)
    expect(bucket.protect).toBe(true)
    expect(bucket.inputs.forceDestroy).toBe(false)
  })

  it('is versioned', () => {
    expect(one(stack, ResourceType.versioning, onBackups).inputs).toMatchObject({
      bucket: BUCKET,
      versioningConfiguration: { status: 'Enabled' },
    })
  })

  it('encrypts with SSE-S3 (AES-256) by default', () => {
    expect(one(stack, ResourceType.encryption, onBackups).inputs).toEqual({
      bucket: BUCKET,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
    })
  })

  it('blocks every kind of public access and enforces bucket-owner ownership (no ACLs)', () => {
    expect(one(stack, ResourceType.publicAccessBlock, onBackups).inputs).toEqual({
      bucket: BUCKET,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    })
    expect(one(stack, ResourceType.ownership, onBackups).inputs).toEqual({
      bucket: BUCKET,
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    })
  })

  it('expires noncurrent versions after N days, aborts multipart uploads after a day, backstops late', () => {
    const rules = one(stack, ResourceType.lifecycle, onBackups).inputs.rules as Record<string, unknown>[]
    expect(rules).toEqual([
      {
        id: 'expire-noncurrent-versions',
        status: 'Enabled',
        filter: {},
        noncurrentVersionExpiration: { noncurrentDays: 30 },
        expiration: { expiredObjectDeleteMarker: true },
      },
      {
        id: 'abort-incomplete-multipart-uploads',
        status: 'Enabled',
        filter: {},
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      },
      {
        id: 'backstop-expire-current-backups',
        status: 'Enabled',
        // Only the archives: audit events, drill reports and the status file are never expired.
        filter: { prefix: 'production/database-backups/' },
        expiration: { days: 400 },
      },
    ])
  })

  it('has no backstop rule when backstopExpirationDays is 0', async () => {
    const built = await buildStack({ overrides: { 'lifeboat:backstopExpirationDays': 0 } })
    const rules = one(built, ResourceType.lifecycle, onBackups).inputs.rules as { id: string }[]
    expect(rules.map((r) => r.id)).toEqual([
      'expire-noncurrent-versions',
      'abort-incomplete-multipart-uploads',
    ])
  })

  it('turns Object Lock on in the configured mode, and leaves it off when told', async () => {
    expect(one(stack, ResourceType.objectLock, onBackups).inputs).toEqual({
      bucket: BUCKET,
      objectLockEnabled: 'Enabled',
      rule: { defaultRetention: { mode: 'GOVERNANCE', days: 35 } },
    })
    const compliance = await buildStack({
      overrides: { 'lifeboat:objectLock': { mode: 'compliance', days: 90 } },
    })
    expect(one(compliance, ResourceType.objectLock, onBackups).inputs.rule).toEqual({
      defaultRetention: { mode: 'COMPLIANCE', days: 90 },
    })
    const off = await buildStack({ overrides: { 'lifeboat:objectLock': { mode: 'off' } } })
    expect(ofType(off, ResourceType.objectLock).filter(onBackups)).toEqual([])
  })

  it('uses SSE-KMS with a bucket key when a key is configured, and lets the roles use the key', async () => {
    const key = `arn:aws:kms:eu-central-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`
    const built = await buildStack({
      overrides: { 'lifeboat:kmsKeyArn': key, 'lifeboat:replica': replicaWithKey() },
    })
    expect(one(built, ResourceType.encryption, onBackups).inputs.rules).toEqual([
      {
        applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: key },
        bucketKeyEnabled: true,
      },
    ])
    for (const duty of ['writer', 'cleaner', 'reader']) {
      const doc = documentOf(one(built, ResourceType.rolePolicy, (r) => r.name === `access-${duty}-policy`))
      expect(statement(doc.Statement, 'UseBucketKey').Resource).toBe(key)
    }
  })

  it('has a policy denying plain HTTP to everyone and MFA-less object reads/deletes to all but the pipeline roles', () => {
    const doc = documentOf(one(stack, ResourceType.bucketPolicy, onBackups))
    expect(statement(doc.Statement, 'DenyInsecureTransport')).toEqual({
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: '*',
      Action: ['s3:*'],
      Resource: [BUCKET_ARN, `${BUCKET_ARN}/*`],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    })
    const mfa = statement(doc.Statement, 'DenyObjectReadDeleteWithoutMfa')
    expect(mfa).toMatchObject({ Effect: 'Deny', Principal: '*', Resource: `${BUCKET_ARN}/*` })
    expect(mfa.Action).toEqual(
      expect.arrayContaining(['s3:GetObject', 's3:DeleteObject', 's3:DeleteObjectVersion']),
    )
    expect(mfa.Condition).toEqual({
      BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' },
      ArnNotLike: { 'aws:PrincipalArn': [roleArn('writer'), roleArn('cleaner'), roleArn('reader')] },
    })
  })
})

describe('IAM', () => {
  it('creates the GitHub OIDC provider for STS and keeps it when the stack is destroyed', () => {
    expect(one(stack, ResourceType.oidcProvider).inputs).toMatchObject({
      url: 'https://token.actions.githubusercontent.com',
      clientIdLists: ['sts.amazonaws.com'],
    })
  })

  it('references an existing provider instead of creating a second one', async () => {
    const existing = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`
    const built = await buildStack({ overrides: { 'lifeboat:existingOidcProviderArn': existing } })
    expect(ofType(built, ResourceType.oidcProvider)).toEqual([])
    expect(built.invokes.map((i) => i.token)).toContain(
      'aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider',
    )
    const trust = documentOf(
      one(built, ResourceType.role, (r) => r.name === 'access-writer'),
      'assumeRolePolicy',
    )
    expect(trust.Statement[0]!.Principal).toEqual({ Federated: existing })
  })

  it('trusts each role only from its duty’s jobs (environment and workflow file), for STS, with bounded sessions', () => {
    const ref = (env: string, file: string) =>
      `repo:acme/lifeboat:environment:${env}:job_workflow_ref:acme/lifeboat/.github/workflows/${file}@refs/heads/main`
    const expected: Record<string, string[]> = {
      writer: [ref('production', 'backup.yml')],
      cleaner: [ref('production-clean', 'backup.yml')],
      reader: [
        ref('production-read', 'backup.yml'),
        ref('staging', 'drill.yml'),
        ref('staging', 'dr-test.yml'),
      ],
    }
    for (const [duty, subjects] of Object.entries(expected)) {
      const role = one(stack, ResourceType.role, (r) => r.name === `access-${duty}`)
      expect(role.inputs.name).toBe(`lifeboat-${STACK}-${duty}`)
      expect(role.inputs.maxSessionDuration).toBe(ROLE_SESSION_SECONDS[duty as 'writer'])
      const trust = documentOf(role, 'assumeRolePolicy')
      expect(trust.Statement).toEqual([
        {
          Sid: 'GitHubActionsFromNamedEnvironments',
          Effect: 'Allow',
          Principal: {
            Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`,
          },
          Action: ['sts:AssumeRoleWithWebIdentity'],
          Condition: {
            StringEquals: {
              'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
              'token.actions.githubusercontent.com:sub': subjects,
            },
          },
        },
      ])
    }
  })

  it('makes every job’s OIDC subject name its environment and workflow file', () => {
    expect(one(stack, ResourceType.oidcTemplate).inputs).toEqual({
      repository: 'lifeboat',
      useDefault: false,
      includeClaimKeys: ['repo', 'context', 'job_workflow_ref'],
    })
  })

  const backup = `${BUCKET_ARN}/production/database-backups/backup-2027-01-01T020000Z.tar.gz`
  const sidecar = `${BUCKET_ARN}/production/database-backups/backup-2027-01-01T020000Z.manifest.json`
  const audit = `${BUCKET_ARN}/production/audit/2027/01/01/020000-backup.json`
  const drill = `${BUCKET_ARN}/production/drills/drill-1.json`
  const status = `${BUCKET_ARN}/production/state/status.json`
  const policyOf = (duty: string) =>
    documentOf(one(stack, ResourceType.rolePolicy, (r) => r.name === `access-${duty}-policy`))

  it('the writer puts and lists, reads only its status, and explicitly can delete nothing', () => {
    const doc = policyOf('writer')
    expect(isAllowed(doc, 's3:PutObject', backup)).toBe(true)
    expect(isAllowed(doc, 's3:PutObject', sidecar)).toBe(true)
    expect(isAllowed(doc, 's3:PutObject', audit)).toBe(true)
    expect(isAllowed(doc, 's3:PutObject', status)).toBe(true)
    expect(isAllowed(doc, 's3:ListBucket', BUCKET_ARN)).toBe(true)
    expect(isAllowed(doc, 's3:GetObject', status)).toBe(true)
    expect(isAllowed(doc, 's3:GetObject', backup)).toBe(false)
    for (const arn of [backup, sidecar, audit, drill, status]) {
      expect(isAllowed(doc, 's3:DeleteObject', arn)).toBe(false)
      expect(isAllowed(doc, 's3:DeleteObjectVersion', arn)).toBe(false)
    }
    expect(statement(doc.Statement, 'DenyAllDeletes')).toMatchObject({
      Effect: 'Deny',
      Action: expect.arrayContaining(['s3:DeleteObject', 's3:DeleteObjectVersion']),
      Resource: [BUCKET_ARN, `${BUCKET_ARN}/*`],
    })
    expect(statement(doc.Statement, 'ListLifeboatPrefix').Condition).toEqual({
      StringLike: { 's3:prefix': ['production/*'] },
    })
  })

  it('the cleaner lists and deletes under database-backups/ only, and cannot purge versions', () => {
    const doc = policyOf('cleaner')
    expect(isAllowed(doc, 's3:DeleteObject', backup)).toBe(true)
    expect(isAllowed(doc, 's3:DeleteObject', sidecar)).toBe(true)
    for (const arn of [audit, drill, status, `${BUCKET_ARN}/elsewhere/x`]) {
      expect(isAllowed(doc, 's3:DeleteObject', arn)).toBe(false)
    }
    expect(isAllowed(doc, 's3:DeleteObjectVersion', backup)).toBe(false)
    expect(isAllowed(doc, 's3:GetObject', sidecar)).toBe(true)
    // Clean counts a backup toward the floor only when its signature holds.
    expect(isAllowed(doc, 's3:GetObject', `${sidecar}${SIGNATURE_SUFFIX}`)).toBe(true)
    expect(isAllowed(doc, 's3:GetObject', backup)).toBe(false)
    expect(isAllowed(doc, 's3:GetObject', `${backup}.age`)).toBe(false)
    expect(isAllowed(doc, 's3:PutObject', backup)).toBe(false)
    expect(statement(doc.Statement, 'ListBackups').Condition).toEqual({
      StringLike: { 's3:prefix': ['production/database-backups/*'] },
    })
  })

  it('the reader gets and lists everything, writes only drill reports, audit events and its status', () => {
    const doc = policyOf('reader')
    for (const arn of [backup, sidecar, audit, drill, status])
      expect(isAllowed(doc, 's3:GetObject', arn)).toBe(true)
    expect(isAllowed(doc, 's3:PutObject', drill)).toBe(true)
    expect(isAllowed(doc, 's3:PutObject', audit)).toBe(true)
    expect(isAllowed(doc, 's3:PutObject', backup)).toBe(false)
    for (const arn of [backup, sidecar, audit, drill, status])
      expect(isAllowed(doc, 's3:DeleteObject', arn)).toBe(false)
  })

  it('the operator policy allows nothing without MFA', () => {
    const policy = one(stack, ResourceType.policy)
    expect(policy.inputs.name).toBe(`lifeboat-${STACK}-operator`)
    const doc = documentOf(policy)
    for (const s of doc.Statement.filter((st) => st.Effect === 'Allow')) {
      expect(s.Condition).toEqual({ Bool: { 'aws:MultiFactorAuthPresent': 'true' } })
    }
    expect(statement(doc.Statement, 'DenyWithoutMfa').Condition).toEqual({
      BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' },
    })
  })

  it('scopes the policies to the bucket root when the prefix is empty', async () => {
    const built = await buildStack({ overrides: { 'lifeboat:prefix': '' } })
    expect(built.outputs[StackOutput.backupStore]).toBe(`s3://${BUCKET}`)
    const cleaner = documentOf(one(built, ResourceType.rolePolicy, (r) => r.name === 'access-cleaner-policy'))
    expect(statement(cleaner.Statement, 'DeleteExpiredBackups').Resource).toBe(
      `${BUCKET_ARN}/database-backups/*`,
    )
    expect(statement(cleaner.Statement, 'ListBackups').Condition).toEqual({
      StringLike: { 's3:prefix': ['database-backups/*'] },
    })
    const writer = documentOf(one(built, ResourceType.rolePolicy, (r) => r.name === 'access-writer-policy'))
    expect(statement(writer.Statement, 'ListLifeboatPrefix').Condition).toBeUndefined()
  })
})

describe('GitHub', () => {
  it('creates an environment per duty, each limited to its branches', () => {
    const environments = ofType(stack, ResourceType.environment)
    expect(environments.map((e) => e.inputs.environment).sort()).toEqual(
      Object.values(GitHubEnvironment).sort(),
    )
    for (const env of environments) {
      expect(env.inputs.repository).toBe('lifeboat')
      expect(env.inputs.deploymentBranchPolicy).toEqual({
        protectedBranches: false,
        customBranchPolicies: true,
      })
    }
    const policies = ofType(stack, ResourceType.deploymentPolicy).map(
      (p) => `${p.inputs.environment}:${p.inputs.branchPattern}`,
    )
    expect(policies.sort()).toEqual([
      'infrastructure:main',
      'production-clean:main',
      'production-read:main',
      'production:main',
      'staging:main',
    ])
    const infrastructure = one(
      stack,
      ResourceType.environment,
      (e) => e.inputs.environment === 'infrastructure',
    )
    expect(infrastructure.inputs.reviewers).toEqual([{ users: [583231], teams: [] }])
  })

  it('adds environment reviewers when configured', async () => {
    const built = await buildStack({
      overrides: {
        'lifeboat:environments': {
          production: {
            branches: ['main', 'release/*'],
            reviewers: { users: [101], teams: [7] },
            waitTimerMinutes: 5,
          },
        },
      },
    })
    const production = one(built, ResourceType.environment, (e) => e.inputs.environment === 'production')
    expect(production.inputs.reviewers).toEqual([{ users: [101], teams: [7] }])
    expect(production.inputs.waitTimer).toBe(5)
    const branches = ofType(built, ResourceType.deploymentPolicy).filter(
      (p) => p.inputs.environment === 'production',
    )
    expect(branches.map((b) => b.inputs.branchPattern)).toEqual(['main', 'release/*'])
  })

  it('sets every secret in its scope, from secret config, still secret when it reaches GitHub (secrets stack)', async () => {
    const secretsStack = await buildStack({ part: 'secrets' })
    expect(ofType(secretsStack, ResourceType.bucket)).toEqual([])
    const repositorySecrets = ofType(secretsStack, ResourceType.actionsSecret)
    const environmentSecrets = ofType(secretsStack, ResourceType.environmentSecret)
    const scopes = [
      ...repositorySecrets.map((s) => `repository:${s.inputs.secretName}`),
      ...environmentSecrets.map((s) => `${s.inputs.environment}:${s.inputs.secretName}`),
    ]
    expect(scopes.sort()).toEqual(
      Object.values(GitHubSecret)
        .map((s) => `${s.scope}:${s.name}`)
        .sort(),
    )
    for (const secret of [...repositorySecrets, ...environmentSecrets]) {
      expect(secret.inputs.repository).toBe('lifeboat')
      expect(secret.secretInputs, String(secret.inputs.secretName)).toContain('value')
      expect(secret.inputs.plaintextValue).toBeUndefined()
    }
    const databaseUrl = environmentSecrets.find((s) => s.inputs.secretName === 'DATABASE_URL')!
    expect(JSON.stringify(databaseUrl.inputs.value)).toContain(FAKE_SECRETS['lifeboat:databaseUrl'])
  })

  it('sets only the secrets of the enabled channels', async () => {
    const built = await buildStack({
      part: 'secrets',
      overrides: { 'lifeboat:alerts': { channels: ['slack'] }, 'lifeboat:ageEncryption': false },
      remove: [
        'lifeboat:pagerDutyRoutingKey',
        'lifeboat:smtpUrl',
        'lifeboat:heartbeatUrl',
        'lifeboat:ageRecipients',
        'lifeboat:ageIdentity',
        'lifeboat:drTestDatabaseUrl',
        ...STORAGE_SETTINGS,
      ],
    })
    const names = [
      ...ofType(built, ResourceType.actionsSecret),
      ...ofType(built, ResourceType.environmentSecret),
    ].map((s) => s.inputs.secretName)
    expect(names.sort()).toEqual(['BACKUP_SIGNING_KEY', 'DATABASE_URL', 'SLACK_WEBHOOK_URL'])
  })

  it('holds no secret in the infrastructure stack, and refuses one put there', async () => {
    expect(ofType(stack, ResourceType.actionsSecret)).toEqual([])
    expect(ofType(stack, ResourceType.environmentSecret)).toEqual([])
    const text = JSON.stringify(stack.resources.map((r) => r.inputs))
    for (const value of Object.values(FAKE_SECRETS)) expect(text).not.toContain(value)
    const error = await buildStack({
      overrides: { 'lifeboat:databaseUrl': FAKE_SECRETS['lifeboat:databaseUrl'] },
    }).catch((e: unknown) => e)
    expect(String((error as Error).message)).toContain(
      'lifeboat:databaseUrl must not be in the infrastructure stack',
    )
    expect(String((error as Error).message)).not.toContain('prod-db-password')
  })

  it('publishes the outputs the workflows read as repository variables', () => {
    const variables = Object.fromEntries(
      ofType(stack, ResourceType.actionsVariable).map((v) => [v.inputs.variableName, v.inputs.value]),
    )
    expect(variables).toEqual({
      [GitHubVariable.region]: 'eu-central-1',
      [GitHubVariable.bucket]: BUCKET,
      [GitHubVariable.backupStore]: `s3://${BUCKET}/production`,
      [GitHubVariable.retentionDays]: '30',
      [GitHubVariable.retentionMinKeep]: '7',
      [GitHubVariable.retentionDaily]: '0',
      [GitHubVariable.retentionWeekly]: '8',
      [GitHubVariable.retentionMonthly]: '6',
      [GitHubVariable.writerRoleArn]: roleArn('writer'),
      [GitHubVariable.cleanerRoleArn]: roleArn('cleaner'),
      [GitHubVariable.readerRoleArn]: roleArn('reader'),
      [GitHubVariable.oncallEmail]: 'oncall@example.com',
      [GitHubVariable.pagerDutyEventsUrl]: 'https://events.pagerduty.com/v2/enqueue',
      [GitHubVariable.replicaStore]: 's3://acme-lifeboat-backups-replica/production',
      [GitHubVariable.replicaRegion]: 'eu-west-1',
      [GitHubVariable.replicaLagHours]: '6',
      [GitHubVariable.accessReview]: stack.outputs[StackOutput.accessReview],
      [GitHubVariable.signingPublicKeys]: 'RWRoeq/fbjYHf9Ra/66odywWscVr1UCvnr5QFOVGOp5RdAvLcApcFBzW',
      [GitHubVariable.storageS3Url]: 'https://abcdefghijklmnopqrst.supabase.co/storage/v1/s3',
      [GitHubVariable.storageS3Region]: 'eu-central-1',
      [GitHubVariable.stagingStorageS3Url]: 'https://tsrqponmlkjihgfedcba.supabase.co/storage/v1/s3',
      [GitHubVariable.stagingStorageS3Region]: 'eu-central-1',
    })
  })

  it('leaves the workflow files to reviewed pull requests by default', () => {
    expect(ofType(stack, ResourceType.repositoryFile)).toEqual([])
    expect(stack.outputs[StackOutput.workflowFiles]).toEqual([])
  })

  it('pushes every workflow file of .github/workflows, unchanged, to the workflow branch when told', async () => {
    const synced = await buildStack({
      overrides: { 'lifeboat:github': { owner: 'acme', repository: 'lifeboat', syncWorkflowFiles: true } },
    })
    const files = ofType(synced, ResourceType.repositoryFile)
    const expected = readWorkflowFiles(REPOSITORY_ROOT)
    expect(expected.length).toBeGreaterThanOrEqual(5)
    expect(files.map((f) => f.inputs.file)).toEqual(expected.map((f) => f.path))
    for (const file of files) {
      expect(file.inputs.content).toBe(expected.find((e) => e.path === file.inputs.file)!.content)
      expect(file.inputs).toMatchObject({ repository: 'lifeboat', branch: 'main', overwriteOnCreate: true })
    }
  })

  it('talks to GitHub as the configured owner', () => {
    expect(one(stack, 'pulumi:providers:github').inputs.owner).toBe('acme')
  })
})

describe('outputs', () => {
  it('are exactly the names in lib/core/stack-outputs.ts', () => {
    expect(Object.keys(stack.outputs).sort()).toEqual(Object.values(StackOutput).sort())
    expect(stack.outputs).toMatchObject({
      [StackOutput.bucketName]: BUCKET,
      [StackOutput.region]: 'eu-central-1',
      [StackOutput.backupStore]: `s3://${BUCKET}/production`,
      [StackOutput.writerRoleArn]: roleArn('writer'),
      [StackOutput.cleanerRoleArn]: roleArn('cleaner'),
      [StackOutput.readerRoleArn]: roleArn('reader'),
      [StackOutput.operatorPolicyArn]: `arn:aws:iam::${ACCOUNT}:policy/lifeboat-${STACK}-operator`,
    })
  })

  it('reach the workflows through the variables named for them', () => {
    const variables = Object.fromEntries(
      ofType(stack, ResourceType.actionsVariable).map((v) => [v.inputs.variableName, v.inputs.value]),
    )
    for (const [output, variable] of Object.entries(VariableForOutput)) {
      expect(variables[variable], `${output} → ${variable}`).toBe(stack.outputs[output])
    }
  })

  it('reveal no secret', () => {
    const text = JSON.stringify(stack.outputs)
    for (const value of Object.values(FAKE_SECRETS)) expect(text).not.toContain(value)
  })

  it('come out of infra/index.ts, the program Pulumi runs', async () => {
    const { default: program } = (await import('../../infra/index.ts')) as unknown as {
      default: () => Record<string, pulumi.Output<unknown>>
    }
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => ({
          id: `${args.name}-id`,
          state: { ...args.inputs, arn: `arn:mock:${args.name}` },
        }),
        call: (args) => args.inputs,
      },
      'lifeboat',
      STACK,
    )
    const config = toEngineConfig(exampleWithFakeSecrets())
    const secretKeys = SETTINGS.filter((s) => s.kind === 'secret').map((s) => s.key)
    for (const key of secretKeys) delete config[key]
    pulumi.runtime.setAllConfig(config, [])
    const outputs = program()
    expect(Object.keys(outputs).sort()).toEqual(Object.values(StackOutput).sort())
    expect(await resolved(outputs[StackOutput.backupStore]!)).toBe(`s3://${BUCKET}/production`)
  })
})
