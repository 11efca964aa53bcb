// Builds the Lifeboat program under Pulumi's runtime mocks with the configuration from
// Pulumi.example.yaml (placeholders swapped for fake secrets) and records every resource:
// its resolved inputs, the mocked outputs, and its options (protect) via a transformation.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as pulumi from '@pulumi/pulumi'
import { parse } from 'yaml'
import { readLifeboatConfig } from '../../infra/config.ts'
import { GitHubSecrets } from '../../infra/github-secrets.ts'
import type { PolicyDocument } from '../../infra/iam-documents.ts'
import { Lifeboat } from '../../infra/lifeboat.ts'
import {
  DEPRECATED_SETTINGS,
  retentionReachDays,
  SECRET_PLACEHOLDER,
  SETTINGS,
} from '../../infra/settings.ts'
import { readWorkflowFiles } from '../../infra/workflow-files.ts'
import { generateSigningKeyPair } from '../../lib/trust/signature.ts'
import type { DeclaredResource, PolicyExpectations } from './policy.ts'

export const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const EXAMPLE_PATH = `${REPOSITORY_ROOT}Pulumi.example.yaml`
export const ACCOUNT = '123456789012'
export const STACK = 'test'

/** Fake secret values, each valid for its setting, each recognisable when it leaks. */
export const FAKE_SECRETS: Record<string, string> = {
  'lifeboat:databaseUrl': 'postgresql://postgres:prod-db-password-1234@db.example.supabase.co:5432/postgres',
  'lifeboat:drTestDatabaseUrl':
    'postgresql://postgres:dr-test-db-password-5678@db.drtestprojectref.supabase.co:5432/postgres',
  /** Deprecated (DEPRECATED_SETTINGS): still held by stacks set up before the DR test had its own server. */
  'lifeboat:stagingDatabaseUrl':
    'postgresql://postgres:staging-db-password-5678@db.staging.example:5432/postgres',
  'lifeboat:slackWebhookUrl': 'https://hooks.slack.com/services/T000/B000/slack-secret-path',
  'lifeboat:pagerDutyRoutingKey': 'pagerduty-routing-key-0123456789abcd',
  'lifeboat:smtpUrl': 'smtps://alerts:smtp-password-9999@smtp.example.com:465',
  'lifeboat:heartbeatUrl': 'https://hc-ping.com/heartbeat-secret-uuid',
  'lifeboat:ageRecipients': 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p',
  'lifeboat:ageIdentity': 'AGE-SECRET-KEY-1QQPQ5KFQQ3J4Y8ZRZ7W6F2G0Q4PX9Z8L7ZYZ5W9QJ5N6T8YQ3R0SQ7XKQY',
  'lifeboat:signingKey': generateSigningKeyPair().secretKeyFile,
  'lifeboat:storageS3AccessKeyId': '625729a08b95bf1b7ff351a663f3a23c',
  'lifeboat:storageS3SecretAccessKey': 'storage-secret-850181e4652dd023b7a98c58ae0d2d34bd487ee0',
  'lifeboat:stagingStorageS3AccessKeyId': '0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f6',
  'lifeboat:stagingStorageS3SecretAccessKey': 'staging-storage-secret-7b98c58ae0d2d34bd487ee0cc3254ae',
}

export type RawExample = Record<string, unknown>

/** The `config:` section of Pulumi.example.yaml, as YAML values. */
export function readExample(): RawExample {
  const document = parse(readFileSync(EXAMPLE_PATH, 'utf8')) as { config?: RawExample }
  if (!document.config) throw new Error('Pulumi.example.yaml has no config: section')
  return document.config
}

/** What the Pulumi engine hands a program: every value a string, objects as JSON. */
export function toEngineConfig(example: RawExample): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(example)) {
    if (value === null || value === undefined) continue
    out[key] =
      typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value)
  }
  return out
}

export interface BuildOptions {
  /** Which stack to build: the infrastructure (default; the secret settings are left out) or the secrets. */
  part?: 'infrastructure' | 'secrets'
  /** Replaces settings (YAML values, as in the example) after the placeholders are filled. */
  overrides?: RawExample
  /** Removes settings before the build. */
  remove?: string[]
  /** Secret settings to hand over as plain text, as when typed into Pulumi.<stack>.yaml by hand. */
  plaintext?: string[]
  /** Tampering for policy tests: applied to every resource the program declares. */
  transformations?: pulumi.ResourceTransformation[]
  /** Mocked invoke results by token. */
  invokes?: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>>
}

export interface RecordedResource extends DeclaredResource {
  /** Secret-ness of each input as the program passed it (before the mock monitor unwraps it). */
  secretInputs: string[]
}

export interface BuiltStack {
  resources: RecordedResource[]
  outputs: Record<string, unknown>
  invokes: { token: string; inputs: Record<string, unknown> }[]
  expectations: PolicyExpectations
}

/** A key in the example replica's region, for stacks whose primary uses SSE-KMS. */
export const REPLICA_KMS_KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/5678abcd-12ab-34cd-56ef-1234567890ab`

/** The example's replica with its own KMS key (a KMS-encrypted primary requires one). */
export function replicaWithKey(): RawExample {
  return { ...(readExample()['lifeboat:replica'] as RawExample), kmsKeyArn: REPLICA_KMS_KEY }
}

export function exampleWithFakeSecrets(): RawExample {
  const example = readExample()
  for (const spec of SETTINGS.filter((s) => s.kind === 'secret')) {
    if (example[spec.key] === SECRET_PLACEHOLDER) example[spec.key] = FAKE_SECRETS[spec.key]
  }
  return example
}

/** Builds the program against mocks and waits until every declared resource is registered. */
export async function buildStack(options: BuildOptions = {}): Promise<BuiltStack> {
  const part = options.part ?? 'infrastructure'
  const example: RawExample = { ...exampleWithFakeSecrets(), 'lifeboat:part': part }
  if (part === 'infrastructure') {
    for (const spec of SETTINGS.filter((s) => s.kind === 'secret')) delete example[spec.key]
  }
  Object.assign(example, options.overrides)
  for (const key of options.remove ?? []) delete example[key]
  const config = toEngineConfig(example)
  // A deprecated key was set with --secret too.
  const secretKeys = [
    ...SETTINGS.filter((s) => s.kind === 'secret').map((s) => s.key),
    ...DEPRECATED_SETTINGS.map((s) => s.key),
  ].filter((key) => !options.plaintext?.includes(key))

  const registered = new Map<string, RecordedResource>()
  const invokes: BuiltStack['invokes'] = []
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const outputs = mockOutputs(args.type, args.name, args.inputs)
        const key = `${args.type}::${args.name}`
        const existing = registered.get(key)
        registered.set(key, {
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          outputs,
          secretInputs: existing?.secretInputs ?? [],
          ...(existing?.protect !== undefined ? { protect: existing.protect } : {}),
          ...(existing?.retainOnDelete !== undefined ? { retainOnDelete: existing.retainOnDelete } : {}),
        })
        return { id: String(outputs.id), state: outputs }
      },
      call: (args) => {
        invokes.push({ token: args.token, inputs: args.inputs })
        const handler = options.invokes?.[args.token] ?? defaultInvokes[args.token]
        if (!handler) throw new Error(`unmocked invoke ${args.token}`)
        return handler(args.inputs)
      },
    },
    'lifeboat',
    STACK,
    false,
  )
  pulumi.runtime.setAllConfig(
    config,
    secretKeys.filter((k) => k in config),
  )

  const declared: { resource: pulumi.Resource; type: string; name: string }[] = []
  const secretChecks: Promise<void>[] = []
  const record: pulumi.ResourceTransformation = (args) => {
    declared.push({ resource: args.resource, type: args.type, name: args.name })
    const key = `${args.type}::${args.name}`
    const entry: RecordedResource = registered.get(key) ?? {
      type: args.type,
      name: args.name,
      inputs: {},
      secretInputs: [],
    }
    if (args.opts.protect !== undefined) entry.protect = args.opts.protect
    if (args.opts.retainOnDelete !== undefined) entry.retainOnDelete = args.opts.retainOnDelete
    for (const [prop, value] of Object.entries(args.props ?? {})) {
      if (pulumi.Output.isInstance(value)) {
        secretChecks.push(
          pulumi.isSecret(value).then((secret) => {
            if (secret) entry.secretInputs.push(prop)
          }),
        )
      }
    }
    registered.set(key, entry)
    return undefined
  }

  const lifeboatConfig = readLifeboatConfig()
  // The recorder runs last, so it sees the props after any tampering.
  const componentOptions = { transformations: [...(options.transformations ?? []), record] }
  const programOutputs: Record<string, pulumi.Output<unknown>> = lifeboatConfig.settings.part === 'secrets'
    ? {
        githubSecrets: pulumi.output(
          new GitHubSecrets(
            'github',
            {
              owner: lifeboatConfig.settings.github.owner,
              repository: lifeboatConfig.settings.github.repository,
              secrets: lifeboatConfig.secrets,
            },
            componentOptions,
          ).names,
        ),
      }
    : new Lifeboat(
        'lifeboat',
        { config: lifeboatConfig, workflowFiles: readWorkflowFiles(REPOSITORY_ROOT) },
        componentOptions,
      ).outputs

  const outputs: Record<string, unknown> = {}
  for (const [name, output] of Object.entries(programOutputs)) outputs[name] = await resolved(output)
  // Registration finishes when each resource's URN resolves.
  await Promise.all(declared.map((d) => resolved(d.resource.urn)))
  await Promise.all(secretChecks)

  return {
    resources: [...registered.values()].filter((r) => !r.type.startsWith('lifeboat:')),
    outputs,
    invokes,
    expectations: {
      prefix: lifeboatConfig.settings.prefix,
      retentionReachDays: retentionReachDays(lifeboatConfig.settings.retention),
      github: lifeboatConfig.settings.github,
    },
  }
}

export function resolved<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)))
}

export function ofType(stack: BuiltStack, type: string): RecordedResource[] {
  return stack.resources.filter((r) => r.type === type)
}

export function one(
  stack: BuiltStack,
  type: string,
  predicate: (r: RecordedResource) => boolean = () => true,
) {
  const found = ofType(stack, type).filter(predicate)
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`)
  return found[0]!
}

/** Provider-computed values, shaped like AWS and GitHub's. */
function mockOutputs(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case 'aws:s3/bucket:Bucket':
      return { ...inputs, id: inputs.bucket, arn: `arn:aws:s3:::${String(inputs.bucket)}` }
    case 'aws:iam/role:Role':
      return { ...inputs, id: inputs.name, arn: `arn:aws:iam::${ACCOUNT}:role/${String(inputs.name)}` }
    case 'aws:sns/topic:Topic':
      return {
        ...inputs,
        id: `${name}-id`,
        arn: `arn:aws:sns:eu-central-1:${ACCOUNT}:${String(inputs.name)}`,
      }
    case 'aws:cloudwatch/eventRule:EventRule':
      return {
        ...inputs,
        id: `${name}-id`,
        arn: `arn:aws:events:eu-central-1:${ACCOUNT}:rule/${String(inputs.name)}`,
      }
    case 'aws:iam/policy:Policy':
      return { ...inputs, id: `${name}-id`, arn: `arn:aws:iam::${ACCOUNT}:policy/${String(inputs.name)}` }
    case 'aws:iam/openIdConnectProvider:OpenIdConnectProvider':
      return {
        ...inputs,
        id: `${name}-id`,
        arn: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`,
      }
    default:
      return { ...inputs, id: `${name}-id` }
  }
}

const defaultInvokes: NonNullable<BuildOptions['invokes']> = {
  'aws:index/getCallerIdentity:getCallerIdentity': () => ({
    accountId: ACCOUNT,
    arn: `arn:aws:iam::${ACCOUNT}:user/deployer`,
    id: ACCOUNT,
    userId: 'AIDAEXAMPLE',
  }),
  'aws:index/getRegion:getRegion': () => ({
    name: 'eu-central-1',
    id: 'eu-central-1',
    region: 'eu-central-1',
  }),
  'aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider': (inputs) => ({
    arn: inputs.arn,
    url: 'token.actions.githubusercontent.com',
    clientIdLists: ['sts.amazonaws.com'],
    thumbprintLists: [],
    tags: {},
  }),
}

/** A transformation that rewrites the props of the declared resources of one type (and name). */
export function tamper(
  type: string,
  name: string | RegExp,
  change: (props: Record<string, unknown>) => Record<string, unknown>,
): pulumi.ResourceTransformation {
  return (args) => {
    if (args.type !== type) return undefined
    if (typeof name === 'string' ? args.name !== name : !name.test(args.name)) return undefined
    return { props: change({ ...args.props }), opts: args.opts }
  }
}

/** Rewrites a JSON policy prop (an Output of a string) through a function on the parsed document. */
export function editPolicy(
  value: unknown,
  edit: (doc: { Statement: Record<string, unknown>[] }) => { Statement: Record<string, unknown>[] },
): pulumi.Output<string> {
  return pulumi.output(value as pulumi.Input<string>).apply((text) => JSON.stringify(edit(JSON.parse(text))))
}

/** Parses a recorded JSON policy input. */
export function documentOf(resource: RecordedResource, prop = 'policy'): PolicyDocument {
  return JSON.parse(String(resource.inputs[prop])) as PolicyDocument
}
