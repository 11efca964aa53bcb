// The signing keys under Pulumi's mocks: the secret key reaches GitHub as a secret of the
// backup job's environment alone (secrets stack), the public keys as the variable every
// reader of backups gets (infrastructure stack); bad keys are refused by name, never shown.
import { describe, expect, it } from 'vitest'
import { checkSecretValue, parseSettings, SETTINGS } from '../../infra/settings.ts'
import { GitHubEnvironment, GitHubSecret, GitHubVariable } from '../../lib/core/stack-outputs.ts'
import { generateSigningKeyPair } from '../../lib/trust/signature.ts'
import { buildStack, exampleWithFakeSecrets, FAKE_SECRETS, ofType, toEngineConfig } from './harness.ts'
import { ResourceType } from './policy.ts'

const EXAMPLE_KEY = 'RWRoeq/fbjYHf9Ra/66odywWscVr1UCvnr5QFOVGOp5RdAvLcApcFBzW'
const publicLine = (pair: { publicKeyFile: string }) => pair.publicKeyFile.split('\n')[1]!

function settingsWith(overrides: Record<string, unknown>) {
  const config = toEngineConfig({ ...exampleWithFakeSecrets(), ...overrides })
  return () => parseSettings((key) => config[key])
}

describe('the secret signing key (secrets stack)', () => {
  it('is an environment secret of the production environment (the backup job) and nowhere else', async () => {
    const built = await buildStack({ part: 'secrets' })
    const holders = [
      ...ofType(built, ResourceType.actionsSecret),
      ...ofType(built, ResourceType.environmentSecret),
    ].filter((s) => s.inputs.secretName === 'BACKUP_SIGNING_KEY')
    expect(holders).toHaveLength(1)
    const [secret] = holders
    expect(secret!.type).toBe(ResourceType.environmentSecret)
    expect(secret!.inputs.environment).toBe(GitHubEnvironment.production)
    expect(secret!.secretInputs).toContain('value')
    expect(JSON.stringify(secret!.inputs.value)).toContain(
      JSON.stringify(FAKE_SECRETS['lifeboat:signingKey']).slice(1, -1),
    )
    expect(GitHubSecret.signingKey).toEqual({ name: 'BACKUP_SIGNING_KEY', scope: 'production' })
  })

  it('is needed by every secrets stack: an unsigned backup would be refused by every reader', async () => {
    const error = await buildStack({ part: 'secrets', remove: ['lifeboat:signingKey'] }).catch((e) => e)
    expect(String((error as Error).message)).toContain('lifeboat:signingKey is not set')
  })

  it('is refused in the infrastructure stack, which pull requests preview', async () => {
    const error = await buildStack({
      overrides: { 'lifeboat:signingKey': FAKE_SECRETS['lifeboat:signingKey'] },
    }).catch((e: unknown) => e)
    const message = String((error as Error).message)
    expect(message).toContain('lifeboat:signingKey must not be in the infrastructure stack')
    expect(message).not.toContain(FAKE_SECRETS['lifeboat:signingKey']!.split('\n')[1]!)
  })

  it('must be a password-less minisign secret key; the problem names the setting, never the value', () => {
    const spec = SETTINGS.find((s) => s.key === 'lifeboat:signingKey')!
    expect(spec).toMatchObject({ kind: 'secret', required: true, secret: 'signingKey' })
    expect(checkSecretValue(spec, generateSigningKeyPair().secretKeyFile)).toBeUndefined()
    const publicKeyFile = generateSigningKeyPair().publicKeyFile
    const problem = checkSecretValue(spec, publicKeyFile)
    expect(problem).toMatch(/lifeboat:signingKey must be a minisign secret key file without a password/)
    expect(problem).not.toContain(publicKeyFile.split('\n')[1]!)
    expect(checkSecretValue(spec, 'RWQ-not-a-key')).toBeDefined()
  })
})

describe('the public signing keys (infrastructure stack)', () => {
  it('reach every workflow as the BACKUP_SIGNING_PUBLIC_KEYS repository variable', async () => {
    const built = await buildStack()
    const variable = ofType(built, ResourceType.actionsVariable).find(
      (v) => v.inputs.variableName === GitHubVariable.signingPublicKeys,
    )
    expect(variable?.inputs.value).toBe(EXAMPLE_KEY)
  })

  it('carry two keys while one is rotated, comma-separated, as the jobs read them', async () => {
    const next = publicLine(generateSigningKeyPair())
    const built = await buildStack({
      overrides: { 'lifeboat:signingPublicKeys': `${EXAMPLE_KEY}, ${next}` },
    })
    const variable = ofType(built, ResourceType.actionsVariable).find(
      (v) => v.inputs.variableName === GitHubVariable.signingPublicKeys,
    )
    expect(variable?.inputs.value).toBe(`${EXAMPLE_KEY},${next}`)
  })

  it('accept a whole .pub file and publish its key line', () => {
    const pair = generateSigningKeyPair()
    const parse = settingsWith({ 'lifeboat:signingPublicKeys': pair.publicKeyFile })
    expect(parse().signingPublicKeys).toBe(publicLine(pair))
  })

  it('are required, and refused when an entry is not a minisign public key', () => {
    expect(settingsWith({ 'lifeboat:signingPublicKeys': '' })).toThrow(
      /lifeboat:signingPublicKeys is not set/,
    )
    expect(settingsWith({ 'lifeboat:signingPublicKeys': `${EXAMPLE_KEY},age1notaminisignkey` })).toThrow(
      /lifeboat:signingPublicKeys entry 2 is not a minisign public key/,
    )
    expect(settingsWith({ 'lifeboat:signingPublicKeys': 'RWQ' })).toThrow(
      /lifeboat:signingPublicKeys value is not a minisign public key/,
    )
  })
})
