// Reads --help text and the README's configuration table back into flags, variables
// and defaults, and lists every way they differ from the settings table.
import { TABLE_END, TABLE_START } from '../../lib/settings/docs-table.ts'
import { ALL_SETTINGS, defaultText, flagName, settingsFor } from '../../lib/settings/settings.ts'
import type { CommandName, SettingDef } from '../../lib/settings/types.ts'

interface Described {
  /** `--table`, or the variables for an environment-only entry. */
  name: string
  short?: string
  env: string[]
  default?: string
}

/** The option and environment entries of one --help text. */
export function parseHelp(text: string): { options: Described[]; environment: Described[] } {
  const options: Described[] = []
  const environment: Described[] = []
  let section: 'options' | 'environment' | undefined
  let current: { head: string; text: string[]; into: Described[] } | undefined
  const flush = () => {
    if (!current) return
    current.into.push(describe(current.head, current.text.join(' ').trim(), current.into === options))
    current = undefined
  }
  for (const line of text.split('\n')) {
    if (line.startsWith('Options:')) section = 'options'
    else if (line.startsWith('Environment')) section = 'environment'
    else if (!line.startsWith(' ')) {
      flush()
      if (line.trim() !== '') section = undefined
    } else if (section && /^ {32}\S/.test(line) && current) current.text.push(line.trim())
    else if (section && /^ {2}(\S| {4}--)/.test(line)) {
      flush()
      const into = section === 'options' ? options : environment
      // A head too long for its column stands alone; its text follows on the next lines.
      const inColumn = line.length > 32 && line.slice(0, 32).endsWith('  ')
      current = inColumn
        ? { head: line.slice(0, 32).trimEnd(), text: [line.slice(32)], into }
        : { head: line.trimEnd(), text: [], into }
    }
  }
  flush()
  return { options, environment }
}

function describe(head: string, text: string, isOption: boolean): Described {
  const facts = /\[([^[\]]*)\]$/.exec(text)?.[1] ?? ''
  const parts = facts.split('; ').filter(Boolean)
  const fallback = parts.find((p) => p.startsWith('default '))?.slice('default '.length)
  const env = parts.filter((p) => !p.startsWith('default ')).flatMap((p) => p.split(', '))
  if (isOption) {
    const m = /^ {2}(?:-(\S), )?\s*--(\S+)/.exec(head)
    return {
      name: `--${m?.[2] ?? head}`,
      ...(m?.[1] ? { short: m[1] } : {}),
      env,
      ...(fallback ? { default: fallback } : {}),
    }
  }
  const names = head.trim().replace(/ or \[\w+\]$/, '')
  return { name: names, env: names.split(', '), ...(fallback ? { default: fallback } : {}) }
}

/** Every difference between a command's --help and the settings table. */
export function helpDrift(job: CommandName, text: string): string[] {
  const { options, environment } = parseHelp(text)
  const problems: string[] = []
  const expected = settingsFor(job)
  const withFlag = expected.filter((d) => d.flag)
  const shown = new Map(options.map((o) => [o.name, o]))
  for (const def of withFlag) {
    const name = `--${flagName(def)}`
    const o = shown.get(name)
    if (!o) {
      problems.push(`${job}: ${name} is in the table but not in --help`)
      continue
    }
    shown.delete(name)
    compare(problems, `${job} ${name}`, def, o)
  }
  for (const name of shown.keys())
    problems.push(`${job}: --help shows ${name}, which the table does not give it`)
  const envOnly = expected.filter((d) => !d.flag && d.env?.length)
  const listed = new Map(environment.map((e) => [e.name, e]))
  for (const def of envOnly) {
    const name = def.env!.join(', ')
    const e = listed.get(name)
    if (!e) problems.push(`${job}: ${name} is in the table but not in --help`)
    else {
      listed.delete(name)
      compare(problems, `${job} ${name}`, def, { ...e, env: def.env! as string[] })
    }
  }
  for (const name of listed.keys())
    problems.push(`${job}: --help lists ${name}, which the table does not give it`)
  return problems
}

function compare(problems: string[], where: string, def: SettingDef, shown: Described): void {
  if ((def.short ?? undefined) !== shown.short)
    problems.push(`${where}: short flag -${def.short} vs -${shown.short}`)
  const env = (def.env ?? []).join(', ')
  if (env !== shown.env.join(', ')) problems.push(`${where}: variables "${env}" vs "${shown.env.join(', ')}"`)
  if (defaultText(def) !== shown.default)
    problems.push(`${where}: default "${defaultText(def)}" in the table vs "${shown.default}" shown`)
}

/** Every difference between the README's configuration table and the settings table. */
export function readmeDrift(readme: string): string[] {
  const start = readme.indexOf(TABLE_START)
  const end = readme.indexOf(TABLE_END)
  if (start < 0 || end < start) return ['the README has no generated configuration table']
  const rows = readme
    .slice(start, end)
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) =>
      l
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((c) => c.trim()),
    )
  const problems: string[] = []
  // A variable may have two rows (STAGING_DATABASE_URL: the drill's and the DR test's), in table order.
  const remaining = ALL_SETTINGS.filter((d) => d.env?.length && !d.common)
  for (const [variables = '', flags = '', fallback = ''] of rows) {
    const env = [...variables.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!)
    const key = env.join(', ')
    const index = remaining.findIndex((d) => d.env!.join(', ') === key)
    if (index < 0) {
      problems.push(`README: ${key} is not in the settings table`)
      continue
    }
    const def = remaining.splice(index, 1)[0]!
    const flag = /`--([\w-]+)`/.exec(flags)?.[1]
    if ((flag ?? undefined) !== flagName(def))
      problems.push(`README: ${key} flag --${flag} vs --${flagName(def)}`)
    const shown = fallback.replace(/^`|`$/g, '') || undefined
    if (shown !== defaultText(def))
      problems.push(`README: ${key} default "${shown}" vs "${defaultText(def)}" in the table`)
  }
  for (const def of remaining) problems.push(`README: ${def.env!.join(', ')} is missing`)
  return problems
}
