// Shell completion for bash and zsh, generated from the commands and the settings
// table: `source <(lifeboat completion bash)`, or for zsh a file named _lifeboat on
// $fpath (`lifeboat completion zsh > ~/.zsh/completions/_lifeboat`).
import { COMMANDS } from './commands.ts'
import { flagName, helpLine, settingsFor } from './settings.ts'
import type { CommandName, SettingDef } from './types.ts'

/** Values worth completing as file names. */
const FILE_VALUES = new Set(['DIR', 'FILE', 'KEY|FILE', 'URL'])

/** `lifeboat completion --help`: like every command's help, on stdout, exit 0. */
export const COMPLETION_HELP = `Usage: lifeboat completion bash|zsh

Prints a shell completion script for lifeboat, generated from its settings table:
commands, their flags and the values a flag accepts.

  bash: source <(lifeboat completion bash)
  zsh:  lifeboat completion zsh > "\${fpath[1]}/_lifeboat", then restart zsh (or compinit)
`

export function renderCompletion(shell: string): string | undefined {
  if (shell === 'bash') return bashCompletion()
  if (shell === 'zsh') return zshCompletion()
  return undefined
}

function flagsOf(job: CommandName): SettingDef[] {
  return settingsFor(job).filter((def) => def.flag)
}

function positionalWords(job: CommandName): string {
  const name = COMMANDS.find((c) => c.name === job)?.positional?.name ?? ''
  if (job === 'verify') return 'latest all'
  if (name === 'backup') return 'latest'
  return ''
}

function bashCompletion(): string {
  const names = [...COMMANDS.flatMap((c) => [c.name, c.script]), 'completion'].join(' ')
  const optionCases = COMMANDS.map((c) => {
    const words = flagsOf(c.name).flatMap((def) => [
      `--${flagName(def)}`,
      ...(def.short ? [`-${def.short}`] : []),
    ])
    return `    ${c.name}|${c.script}) opts='${words.join(' ')}'; words='${positionalWords(c.name)}' ;;`
  })
  const valueCases = new Map<string, string>()
  for (const c of COMMANDS) {
    for (const def of flagsOf(c.name)) {
      if (def.type === 'boolean') continue
      const flags = [`--${def.flag}`, ...(def.short ? [`-${def.short}`] : [])]
      const action = def.choices
        ? `COMPREPLY=( $(compgen -W '${def.choices.join(' ')}' -- "$cur") )`
        : FILE_VALUES.has(def.value ?? '')
          ? 'COMPREPLY=( $(compgen -f -- "$cur") )'
          : 'COMPREPLY=()'
      for (const flag of flags) if (!valueCases.has(flag)) valueCases.set(flag, action)
    }
  }
  const byAction = new Map<string, string[]>()
  for (const [flag, action] of valueCases) byAction.set(action, [...(byAction.get(action) ?? []), flag])
  return `# bash completion for lifeboat, generated from its settings table.
# Use: source <(lifeboat completion bash)   (or save it in ~/.local/share/bash-completion/completions/lifeboat)
_lifeboat() {
  local cur prev cmd opts words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W '${names} --help --version' -- "$cur") )
    return 0
  fi
  cmd="\${COMP_WORDS[1]}"
  if [ "$cmd" = completion ]; then
    COMPREPLY=( $(compgen -W 'bash zsh' -- "$cur") )
    return 0
  fi
  case "$prev" in
${[...byAction].map(([action, flags]) => `    ${flags.join('|')}) ${action}; return 0 ;;`).join('\n')}
  esac
  case "$cmd" in
${optionCases.join('\n')}
    *) return 0 ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  else
    COMPREPLY=( $(compgen -W "$words" -- "$cur") )
  fi
  return 0
}
complete -o default -F _lifeboat lifeboat
`
}

/** Brackets and colons are syntax in an _arguments spec. */
function zshText(text: string): string {
  return text.replace(/[[\]:\\'`$]/g, (c) => (c === "'" ? "'\\''" : `\\${c}`))
}

function zshSpec(def: SettingDef, job: CommandName): string {
  const name = `--${flagName(def)}`
  const names = def.short ? `{-${def.short},${name}}` : name
  // A repeatable flag may follow itself; another spelling of a flag given once may not.
  const repeat = def.type === 'list' ? "'*'" : ''
  const exclusive = def.short && !repeat ? `'(-${def.short} ${name})'` : ''
  const help = zshText(helpLine(def, job).slice(0, 70))
  if (def.type === 'boolean') return `${exclusive}${repeat}${names}'[${help}]'`
  const action = def.choices
    ? `(${def.choices.join(' ')})`
    : FILE_VALUES.has(def.value ?? '')
      ? '_files'
      : ' '
  return `${exclusive}${repeat}${names}'[${help}]:${zshText((def.value ?? 'value').toLowerCase())}:${action}'`
}

function zshCompletion(): string {
  const commands = COMMANDS.map((c) => `    '${c.name}:${zshText(c.summary)}'`)
  const cases = COMMANDS.map((c) => {
    const specs = flagsOf(c.name).map((def) => `        ${zshSpec(def, c.name)}`)
    const words = positionalWords(c.name)
    const positional = c.positional ? `        '1:${c.positional.name}:(${words})'` : undefined
    return `    ${c.name}|${c.script})\n      _arguments -s \\\n${[...specs, ...(positional ? [positional] : [])].join(' \\\n')}\n      ;;`
  })
  return `#compdef lifeboat
# zsh completion for lifeboat, generated from its settings table.
# Use: lifeboat completion zsh > "\${fpath[1]}/_lifeboat", then restart zsh (or compinit).
_lifeboat() {
  local -a commands
  commands=(
${commands.join('\n')}
    'completion:print a bash or zsh completion script'
  )
  if (( CURRENT == 2 )); then
    _describe -t commands 'lifeboat command' commands
    return
  fi
  local cmd=$words[2]
  shift words
  (( CURRENT-- ))
  case $cmd in
    completion) _values 'shell' bash zsh ;;
${cases.join('\n')}
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _lifeboat "$@"
else
  compdef _lifeboat lifeboat
fi
`
}
