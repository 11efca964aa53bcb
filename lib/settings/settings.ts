// The one table of settings, composed from its parts, and the lookups the parser,
// --help, completion and the docs make in it.
import { ALERT_SETTINGS } from './alert-settings.ts'
import { BACKUP_SETTINGS } from './backup-settings.ts'
import { DRILL_SETTINGS } from './drill-settings.ts'
import { LIFECYCLE_SETTINGS } from './lifecycle-settings.ts'
import { RESTORE_SETTINGS } from './restore-settings.ts'
import { SOURCE_SETTINGS } from './source-settings.ts'
import { COMMON_SETTINGS, STORE_SETTINGS } from './store-settings.ts'
import { TRUST_SETTINGS } from './trust-settings.ts'
import type { CommandName, SettingDef } from './types.ts'

export const SETTINGS = {
  ...COMMON_SETTINGS,
  ...STORE_SETTINGS,
  ...SOURCE_SETTINGS,
  ...BACKUP_SETTINGS,
  ...RESTORE_SETTINGS,
  ...LIFECYCLE_SETTINGS,
  ...DRILL_SETTINGS,
  ...ALERT_SETTINGS,
  ...TRUST_SETTINGS,
} as const

export const ALL_SETTINGS: readonly SettingDef[] = Object.values(SETTINGS)

/** The settings a command takes, in table order. */
export function settingsFor(job: CommandName): SettingDef[] {
  return ALL_SETTINGS.filter((def) => def.jobs.includes(job))
}

/** The help line a command shows for a setting. */
export function helpLine(def: SettingDef, job: CommandName | undefined): string {
  return (job && def.helpFor?.[job]) ?? def.help
}

/** `--no-verify` for a negatable boolean, `--table` otherwise. */
export function flagName(def: SettingDef): string | undefined {
  if (!def.flag) return undefined
  return def.negatable ? `no-${def.flag}` : def.flag
}

/** The default as text, or undefined when there is none worth showing. */
export function defaultText(def: SettingDef): string | undefined {
  if (def.defaultText) return def.defaultText
  if (def.default === undefined || def.default === false) return undefined
  if (def.negatable) return undefined
  return String(def.default)
}

/** Problems of the table itself: a flag or short flag taken twice by one command. */
export function tableProblems(settings: readonly SettingDef[] = ALL_SETTINGS): string[] {
  const problems: string[] = []
  const keys = new Set<string>()
  for (const def of settings) {
    if (keys.has(def.key)) problems.push(`setting ${def.key} is defined twice`)
    keys.add(def.key)
    if (!def.flag && !def.env?.length) problems.push(`${def.key} has neither a flag nor a variable`)
    if (def.negatable && def.type !== 'boolean') problems.push(`${def.key} is negatable but not a boolean`)
  }
  const jobs = new Set(settings.flatMap((def) => def.jobs))
  for (const job of jobs) {
    const mine = settings.filter((def) => def.jobs.includes(job))
    const taken = new Map<string, string>()
    for (const def of mine) {
      for (const name of [
        flagName(def),
        def.short && `-${def.short}`,
        def.positional && `[${def.positional}]`,
      ]) {
        if (!name) continue
        const other = taken.get(name)
        if (other) problems.push(`${job}: ${name} belongs to both ${other} and ${def.key}`)
        taken.set(name, def.key)
      }
      for (const env of def.env ?? []) {
        const other = taken.get(env)
        if (other) problems.push(`${job}: ${env} belongs to both ${other} and ${def.key}`)
        taken.set(env, def.key)
      }
    }
  }
  return problems
}
