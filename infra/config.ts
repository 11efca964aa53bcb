// Reads the stack configuration through Pulumi: plain settings via infra/settings.ts,
// secrets only through `requireSecret`, so they stay secret in state, previews and outputs,
// and only in the secrets stack: the infrastructure stack refuses to hold one.
import * as pulumi from '@pulumi/pulumi'
import { LifeboatError } from '../lib/core/errors.ts'
import type { GitHubSecretKey } from '../lib/core/stack-outputs.ts'
import {
  checkSecretValue,
  DEPRECATED_SETTINGS,
  deprecatedSettings,
  type LifeboatSettings,
  neededSecrets,
  parseSettings,
  type RawConfig,
  SECRET_PLACEHOLDER,
  SETTINGS,
  straySecrets,
} from './settings.ts'

export type LifeboatSecrets = Partial<Record<GitHubSecretKey, pulumi.Output<string>>>

export interface LifeboatConfig {
  /** The Pulumi stack name; physical names carry it so stacks never collide. */
  stack: string
  settings: LifeboatSettings
  secrets: LifeboatSecrets
}

/** The current stack's configuration; throws one error naming every missing or bad setting. */
export function readLifeboatConfig(): LifeboatConfig {
  const raw: RawConfig = (key) => {
    const [namespace, name] = splitKey(key)
    return new pulumi.Config(namespace).get(name)
  }
  const settings = parseSettings(raw)
  // Warned, never refused: a stack set up by an older Lifeboat keeps deploying.
  for (const warning of deprecatedSettings(raw)) pulumi.log.warn(warning)
  const secrets: LifeboatSecrets = {}
  const missing: string[] = []
  if (settings.part === 'infrastructure') {
    // Pull requests preview this stack with their own code: any secret in it could be printed.
    // A deprecated key held a secret too (lifeboat:stagingDatabaseUrl): still refused here.
    const held = [
      ...SETTINGS.filter((spec) => spec.kind === 'secret').map((spec) => spec.key),
      ...DEPRECATED_SETTINGS.map((spec) => spec.key),
    ].filter((key) => ![undefined, '', SECRET_PLACEHOLDER].includes(raw(key)))
    if (held.length > 0) {
      throw new LifeboatError(
        'CONFIG_INVALID',
        `Stack configuration: ${held.join(', ')} must not be in the infrastructure stack (pull requests preview it): ` +
          `set ${held.length === 1 ? 'it' : 'them'} in the secrets stack (lifeboat:part: secrets) and \`pulumi config rm\` ${held.length === 1 ? 'it' : 'them'} here`,
        { details: held },
      )
    }
    return { stack: pulumi.getStack(), settings, secrets }
  }
  const stray = straySecrets(settings, raw)
  if (stray.length > 0) {
    throw new LifeboatError('CONFIG_INVALID', `Stack configuration: ${stray.join('; ')}`, { details: stray })
  }
  for (const spec of neededSecrets(settings, raw)) {
    const [namespace, name] = splitKey(spec.key)
    // A value typed into Pulumi.<stack>.yaml by hand (or the example's placeholder) sits there in
    // plain text, in git; only `pulumi config set --secret` encrypts it.
    if (isStoredInPlainText(spec.key)) {
      missing.push(
        `${spec.key} is not stored as a secret: run \`pulumi config set --secret ${spec.key} '…'\``,
      )
      continue
    }
    let value: pulumi.Output<string>
    try {
      value = new pulumi.Config(namespace).requireSecret(name)
    } catch {
      missing.push(`${spec.key} is not set: run \`pulumi config set --secret ${spec.key} '…'\``)
      continue
    }
    // The check runs inside apply: the value never leaves the secret Output, and a bad one
    // fails the preview with a message that names the setting only.
    secrets[spec.secret!] = value.apply((plain) => {
      const problem = checkSecretValue(spec, plain)
      if (problem) throw new LifeboatError('CONFIG_INVALID', problem)
      return plain
    })
  }
  if (missing.length > 0) {
    throw new LifeboatError('CONFIG_MISSING', `Stack configuration: ${missing.join('; ')}`, {
      details: missing,
    })
  }
  return { stack: pulumi.getStack(), settings, secrets }
}

/**
 * The engine tells the program which keys are encrypted (PULUMI_CONFIG_SECRET_KEYS); the SDK
 * reads that list in `runtime.isConfigSecret`, which its typings do not export. An engine
 * that sends no list must not make every secret look like plain text, so the check only
 * applies when the list is there (or names at least one of our secrets).
 */
function isStoredInPlainText(key: string): boolean {
  const isConfigSecret = (pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean })
    .isConfigSecret
  if (typeof isConfigSecret !== 'function' || pulumi.runtime.getConfig(key) === undefined) return false
  const listSent =
    process.env.PULUMI_CONFIG_SECRET_KEYS !== undefined ||
    SETTINGS.some((spec) => spec.kind === 'secret' && isConfigSecret(spec.key))
  return listSent && !isConfigSecret(key)
}

function splitKey(key: string): [string, string] {
  const at = key.indexOf(':')
  return [key.slice(0, at), key.slice(at + 1)]
}
