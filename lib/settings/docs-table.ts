// The README's configuration table, generated from the settings table: every setting a
// variable can give, with its flag, default, the commands that read it and its meaning.
// `npm run docs:settings` writes it; test/docs/settings.test.ts fails when it drifts.
import { ALERT_JOBS } from './alert-settings.ts'
import { ALL_SETTINGS, defaultText, flagName } from './settings.ts'
import { POSTGRES_JOBS } from './source-settings.ts'
import { STORE_JOBS } from './store-settings.ts'
import { COMMAND_NAMES, type CommandName, type SettingDef } from './types.ts'

export const TABLE_START =
  '<!-- settings-table:start (generated from lib/settings: npm run docs:settings) -->'
export const TABLE_END = '<!-- settings-table:end -->'

/** Names for the command sets many settings share, so the column stays short. */
const GROUPS: [string, readonly CommandName[]][] = [
  ['every command', COMMAND_NAMES],
  ['every command with a store', STORE_JOBS],
  ['commands that alert', ALERT_JOBS],
  ['commands that connect to PostgreSQL', POSTGRES_JOBS],
]

export function usedBy(jobs: readonly CommandName[]): string {
  const same = (a: readonly string[], b: readonly string[]) =>
    a.length === b.length && a.every((name) => b.includes(name))
  return GROUPS.find(([, group]) => same(group, jobs))?.[0] ?? jobs.join(', ')
}

/** Rows: settings with a variable, in table order. */
export function settingsTableRows(): string[][] {
  return ALL_SETTINGS.filter((def) => def.env?.length && !def.common).map((def) => [
    def.env!.map((name) => `\`${name}\``).join(', '),
    flagCell(def),
    defaultText(def) === undefined ? '' : `\`${defaultText(def)}\``.replace(/^`(.* .*)`$/, '$1'),
    usedBy(def.jobs),
    def.help.replaceAll('|', '\\|'),
  ])
}

function flagCell(def: SettingDef): string {
  const names = [
    ...(def.flag ? [`\`--${flagName(def)}\``] : []),
    ...(def.short ? [`\`-${def.short}\``] : []),
    ...(def.positional ? [`\`[${def.positional}]\``] : []),
  ]
  return names.join(', ')
}

export function renderSettingsTable(): string {
  const header = ['variable', 'flag', 'default', 'used by', 'meaning']
  const rows = settingsTableRows()
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n')
}

/** The README with its table block replaced by the generated one. */
export function withSettingsTable(readme: string): string {
  const start = readme.indexOf(TABLE_START)
  const end = readme.indexOf(TABLE_END)
  if (start < 0 || end < start) throw new Error(`the README has no ${TABLE_START} … ${TABLE_END} block`)
  return `${readme.slice(0, start + TABLE_START.length)}\n\n${renderSettingsTable()}\n\n${readme.slice(end)}`
}
