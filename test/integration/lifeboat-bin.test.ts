// `lifeboat` as a user gets it: a fresh copy of the repository, `npm ci` (which builds the
// commands through the `prepare` script), then `npx lifeboat …` running the built
// JavaScript; shell completion for bash and zsh generated from the settings table.
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { COMMANDS } from '../../lib/settings/commands.ts'

let clone: string

function sh(command: string, cwd: string, env: Record<string, string> = {}) {
  const result = spawnSync('bash', ['-c', command], {
    cwd,
    env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env },
    encoding: 'utf8',
    timeout: 300_000,
  })
  return { code: result.status ?? 1, stdout: result.stdout, stderr: result.stderr }
}

describe('a fresh clone after npm ci', () => {
  beforeAll(() => {
    clone = mkdtempSync(join(resolve('.tmp'), 'fresh-clone-'))
    // What a clone holds: the tracked files (and new ones not yet committed), nothing built.
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { encoding: 'utf8' })
      .split('\n')
      .filter((f) => f && existsSync(f))
    for (const file of files) {
      mkdirSync(dirname(join(clone, file)), { recursive: true })
      cpSync(file, join(clone, file))
    }
    const install = sh('npm ci --no-audit --no-fund --prefer-offline', clone)
    expect(install.code, install.stderr.slice(-3000)).toBe(0)
  }, 600_000)

  afterAll(() => {
    if (clone) rmSync(clone, { recursive: true, force: true })
  })

  it('has the commands built into dist/ by the prepare script', () => {
    expect(existsSync(join(clone, 'dist', 'lifeboat.js'))).toBe(true)
    expect(existsSync(join(clone, 'dist', 'runbook.js'))).toBe(true)
  })

  it('runs `npx lifeboat --help` and a command from the built JavaScript (no TypeScript loader)', () => {
    // Without tsx the sources could not run: what answers is the build.
    rmSync(join(clone, 'node_modules', 'tsx'), { recursive: true, force: true })
    const help = sh('npx lifeboat --help', clone)
    expect(help.code, help.stderr).toBe(0)
    for (const command of COMMANDS) expect(help.stdout).toContain(`  ${command.name} `)
    const store = mkdtempSync(join(resolve('.tmp'), 'bin-store-'))
    const list = sh(`npx lifeboat list --store "${store}" --json`, clone)
    expect(list.code, list.stderr).toBe(0)
    expect(JSON.parse(list.stdout.trim())).toMatchObject({ ok: true, job: 'list', backups: [] })
    const alias = sh('npm run --silent backup:list -- --help', clone)
    expect(alias.stdout).toContain('Usage: lifeboat list [options]')
    expect(sh('npx lifeboat --version', clone).stdout).toMatch(/^lifeboat \d+\.\d+\.\d+ \(node v\d+/)
    expect(sh('npx lifeboat frobnicate', clone).code).toBe(2)
  })
})

describe('shell completion', () => {
  function complete(words: string[]): string[] {
    const line = words.map((w) => `'${w}'`).join(' ')
    const script = `source <(node bin/lifeboat.js completion bash)
COMP_WORDS=(${line}); COMP_CWORD=${words.length - 1}; _lifeboat; printf '%s\\n' "\${COMPREPLY[@]}"`
    return sh(script, resolve('.')).stdout.split('\n').filter(Boolean)
  }

  it('bash: commands, their flags, the values a flag accepts, and the backup to restore', () => {
    expect(complete(['lifeboat', 'res'])).toEqual(['restore'])
    expect(complete(['lifeboat', 'backup', '--ta'])).toEqual(['--table'])
    expect(complete(['lifeboat', 'backup', '--source', ''])).toEqual(['postgres', 'rest'])
    expect(complete(['lifeboat', 'restore', '--no-'])).toEqual(['--no-verify', '--no-storage'])
    expect(complete(['lifeboat', 'restore', 'la'])).toEqual(['latest'])
    expect(complete(['lifeboat', 'list', '--trunc'])).toEqual([])
  })

  it('completion --help prints its usage and exits 0, as every command --help does', () => {
    const run = spawnSync(process.execPath, ['bin/lifeboat.js', 'completion', '--help'], { encoding: 'utf8' })
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^Usage: lifeboat completion bash\|zsh\n/)
    expect(run.stderr).toBe('')
  })

  it('zsh: the script parses, defines _lifeboat, and has a case for every command', () => {
    const script = execFileSync(process.execPath, ['bin/lifeboat.js', 'completion', 'zsh'], {
      encoding: 'utf8',
    })
    const zsh = spawnSync(
      'zsh',
      ['-c', 'autoload -U compinit; compinit -u; eval "$(cat)"; whence -w _lifeboat'],
      {
        input: script,
        encoding: 'utf8',
      },
    )
    expect(zsh.error, 'zsh is needed for this test (apt-get install -y zsh)').toBeUndefined()
    expect(zsh.stdout.trim()).toBe('_lifeboat: function')
    for (const command of COMMANDS) expect(script).toContain(`    ${command.name}|${command.script})`)
    expect(script).toContain(
      "'*'{-t,--table}'[only these tables, \\[schema.\\]table (repeatable)]:pattern: '",
    )
  })

  /** Types `line` and a tab into an interactive zsh (zpty) and returns what the line became. */
  function zshComplete(line: string, expected: string): string {
    const file = join(mkdtempSync(join(resolve('.tmp'), 'zsh-')), '_lifeboat')
    execFileSync('bash', ['-c', `node bin/lifeboat.js completion zsh > "${file}"`])
    const script = `zmodload zsh/zpty
zpty z 'zsh -f -i'
zpty -w z 'PROMPT="> "; autoload -U compinit; compinit -u -D; source ${file}; compdef _lifeboat lifeboat'
zpty -w z 'print READY'
zpty -r z out '*READY*'
zpty -n -w z ${JSON.stringify(line)}$'\t'
zpty -r z out '*${expected}*'
print -r -- "$out"
zpty -d z`
    const result = spawnSync('zsh', ['-c', script], { encoding: 'utf8', timeout: 20_000 })
    return result.stdout.replaceAll('\r', '\n')
  }

  it('zsh: a tab completes commands, flags and flag values in an interactive shell', () => {
    expect(zshComplete('lifeboat res', 'restore')).toContain('lifeboat restore')
    expect(zshComplete('lifeboat backup --ta', 'table')).toContain('lifeboat backup --table')
    expect(zshComplete('lifeboat backup --source r', 'rest')).toContain('lifeboat backup --source rest')
  })

  it('refuses an unknown shell', () => {
    expect(sh('node bin/lifeboat.js completion fish', resolve('.')).code).toBe(2)
  })

  it("help <command> prints that command's help; help of an unknown command is a usage error", () => {
    const known = sh('node bin/lifeboat.js help backup', resolve('.'))
    expect(known.code, known.stderr).toBe(0)
    expect(known.stdout).toMatch(/lifeboat backup/)
    const unknown = sh('node bin/lifeboat.js help nosuch', resolve('.'))
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toBe(
      'lifeboat: error USAGE: unknown command "nosuch"; `lifeboat --help` lists the commands\n',
    )
  })
})
