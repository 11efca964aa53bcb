// The argument parser of every command, generated from the settings table: Node's
// util.parseArgs in strict mode, so an unknown option, a flag without its value and a
// stray argument are usage errors (exit 2) instead of being ignored.
import { parseArgs } from 'node:util'
import { LifeboatError } from '../core/errors.ts'
import { commandDef } from './commands.ts'
import { flagName, settingsFor } from './settings.ts'
import type { CommandName, SettingDef } from './types.ts'

export interface ParsedCommandLine {
  /** Values by flag name (`temp-dir`, `verify`), lists for repeatable flags, and the
   *  positional argument under the name of the setting that takes it (`days`). */
  flags: Record<string, unknown>
  positional: string[]
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options']

export function parseCommandLine(job: CommandName, argv: readonly string[]): ParsedCommandLine {
  const settings = settingsFor(job).filter((def) => def.flag)
  const options: NonNullable<Options> = {}
  for (const def of settings) {
    options[flagName(def)!] = {
      type: def.type === 'boolean' ? 'boolean' : 'string',
      ...(def.short ? { short: def.short } : {}),
      ...(def.type === 'list' ? { multiple: true } : {}),
    }
  }
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true })
  } catch (error) {
    throw new LifeboatError('USAGE', usageMessage(error as Error & { code?: string }, settings))
  }
  const flags: Record<string, unknown> = {}
  for (const def of settings) {
    const value = parsed.values[flagName(def)!]
    if (value === undefined) continue
    if (value === '' || (Array.isArray(value) && value.includes(''))) {
      throw new LifeboatError('USAGE', `--${def.flag} needs a value (see --help)`)
    }
    flags[def.flag!] = def.negatable ? !value : value
  }
  const positional = [...parsed.positionals]
  checkPositional(job, positional)
  const claimant = settingsFor(job).find((def) => def.positional)
  if (claimant && positional[0] !== undefined) flags[claimant.positional!] = positional[0]
  return { flags, positional }
}

function checkPositional(job: CommandName, positional: readonly string[]): void {
  const spec = commandDef(job).positional
  if (!spec && positional.length > 0) {
    throw new LifeboatError(
      'USAGE',
      `${job} takes no arguments, got: ${positional.join(' ')} (with npm run, options go after --: npm run ${commandDef(job).script} -- --json)`,
    )
  }
  if (spec && positional.length > 1) {
    throw new LifeboatError(
      'USAGE',
      `${job} takes one <${spec.name}>, got ${positional.length}: ${positional.join(' ')} (see --help)`,
    )
  }
  if (spec?.required && positional.length === 0) {
    throw new LifeboatError('USAGE', `${job} needs <${spec.name}> (see --help)`)
  }
}

function usageMessage(error: Error & { code?: string }, settings: readonly SettingDef[]): string {
  const option = /'(--?[^'\s,]+)(?:, --([^'\s]+))?/.exec(error.message)
  const named = option?.[2] ? `--${option[2]}` : (option?.[1] ?? 'an option')
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const guess = closestFlag(named, settings)
      return `unknown option ${named}${guess ? `; did you mean ${guess}?` : ''} (see --help)`
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(error.message)) return `${named} takes no value (see --help)`
      return `${named} needs a value (a value starting with - is written ${named.startsWith('--') ? `${named}=-x` : `--flag=-x`}; see --help)`
    default:
      return `${error.message} (see --help)`
  }
}

/** The flag a typo most likely meant: at most two edits away. */
export function closestFlag(typed: string, settings: readonly SettingDef[]): string | undefined {
  const word = typed.replace(/^-+/, '').split('=')[0]!
  let best: { name: string; distance: number } | undefined
  for (const def of settings) {
    const name = flagName(def)
    if (!name) continue
    const distance = editDistance(word, name)
    if (distance <= 2 && (!best || distance < best.distance)) best = { name: `--${name}`, distance }
  }
  return best?.name
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost)
    }
    previous = current
  }
  return previous[b.length]!
}
