// --help of every command and of `lifeboat` itself, generated from the command list
// and the settings table, so a flag, variable or default cannot differ from what the
// parser and the readers use.
import { COMMANDS, commandDef } from './commands.ts'
import { defaultText, flagName, helpLine, settingsFor } from './settings.ts'
import type { CommandName, SettingDef } from './types.ts'

const WIDTH = 80
const OPTION_COLUMN = 32

export function usageLine(job: CommandName): string {
  const def = commandDef(job)
  const positional = def.positional
    ? def.positional.required
      ? ` <${def.positional.name}>`
      : ` [${def.positional.name}]`
    : ''
  return `lifeboat ${job}${positional} [options]`
}

export function renderCommandHelp(job: CommandName): string {
  const def = commandDef(job)
  const settings = settingsFor(job)
  const withFlag = settings.filter((s) => s.flag && !s.common)
  const common = settings.filter((s) => s.flag && s.common)
  const envOnly = settings.filter((s) => !s.flag && s.env?.length)
  const positional = usageLine(job)
    .replace(/^lifeboat \S+ ?/, '')
    .replace(/ ?\[options\]$/, '')
  const lines = [
    `Usage: ${usageLine(job)}`,
    `       npm run ${def.script} -- ${positional ? `${positional} ` : ''}[options]`,
    '',
    def.description,
    '',
    'Options:',
    ...[...withFlag, ...common].flatMap((s) => optionLines(s, job)),
  ]
  if (envOnly.length > 0) {
    lines.push('', 'Environment (flags above name theirs in brackets):')
    for (const s of envOnly) lines.push(...environmentLines(s, job))
  }
  lines.push('', ...wrap(`Exit codes: ${def.exitCodes}`, WIDTH, ''))
  return `${lines.join('\n')}\n`
}

/** `  -t, --table PATTERN   only these tables (repeatable) [TABLES; default x]` */
export function optionLines(def: SettingDef, job: CommandName): string[] {
  const name = flagName(def)!
  const head = `  ${def.short ? `-${def.short}, ` : '    '}--${name}${def.value ? ` ${def.value}` : ''}`
  const facts = [
    ...(def.env ?? []),
    ...(defaultText(def) === undefined ? [] : [`default ${defaultText(def)}`]),
  ]
  const text = `${helpLine(def, job)}${facts.length > 0 ? ` ${unbroken(`[${facts.join('; ')}]`)}` : ''}`
  return columns(head, text)
}

function environmentLines(def: SettingDef, job: CommandName): string[] {
  const head = `  ${def.env!.join(', ')}${def.positional ? ` or [${def.positional}]` : ''}`
  const fallback = defaultText(def)
  return columns(
    head,
    `${helpLine(def, job)}${fallback === undefined ? '' : ` ${unbroken(`[default ${fallback}]`)}`}`,
  )
}

function columns(head: string, text: string): string[] {
  const indent = ' '.repeat(OPTION_COLUMN)
  if (head.length + 2 > OPTION_COLUMN) return [head, ...wrap(text, WIDTH, indent)]
  const [first = '', ...rest] = wrap(text, WIDTH - OPTION_COLUMN, '')
  return [`${head.padEnd(OPTION_COLUMN)}${first}`, ...rest.map((line) => `${indent}${line}`)]
}

const NBSP = '\u00a0'

/** Keeps `[VARIABLE; default x]` on one line. */
function unbroken(text: string): string {
  return text.replaceAll(' ', NBSP)
}

/** Greedy word wrap; words longer than the width stay whole. */
export function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/[ \t\n]+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(`${indent}${line}`)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  if (line) lines.push(`${indent}${line}`)
  return lines.map((l) => l.replaceAll(NBSP, ' '))
}

export function renderMainHelp(version: string): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length))
  return [
    `Lifeboat ${version}: backup and disaster recovery for Supabase / PostgreSQL.`,
    '',
    'Usage: lifeboat <command> [options]     (npm run <script> -- [options] in a checkout)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${'completion'.padEnd(width)}  print a bash or zsh completion script: lifeboat completion bash|zsh`,
    '',
    'Every command takes --help, --json and --version, and exits 0 (ok), 1 (the job',
    'failed) or 2 (bad usage or configuration). `lifeboat <command> --help` lists its',
    'options and the environment variables it reads.',
    '',
  ].join('\n')
}
