// One definition per setting: --help of every command, the README's configuration table
// and the readers agree with lib/settings, and a drift in any of them fails here.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { LIBPQ_ENV } from '../../lib/adapters/postgres/libpq.ts'
import { COMMANDS } from '../../lib/settings/commands.ts'
import { renderSettingsTable, TABLE_END, TABLE_START } from '../../lib/settings/docs-table.ts'
import { renderCommandHelp } from '../../lib/settings/help.ts'
import { ALL_SETTINGS, tableProblems } from '../../lib/settings/settings.ts'
import { helpDrift, parseHelp, readmeDrift } from '../helpers/settings-drift.ts'

const readme = readFileSync('README.md', 'utf8')

describe('the settings table', () => {
  it('gives each command each flag, short flag and variable once', () => {
    expect(tableProblems()).toEqual([])
  })

  it('finds a flag given twice to one command', () => {
    const twice = ALL_SETTINGS.filter((d) => d.key === 'table' || d.key === 'tempDir').map((d) =>
      d.key === 'tempDir' ? { ...d, short: 't' } : d,
    )
    expect(tableProblems(twice)).toEqual([
      'backup: -t belongs to both table and tempDir',
      'restore: -t belongs to both table and tempDir',
    ])
  })
})

describe.each(COMMANDS.map((c) => c.name))('lifeboat %s --help', (job) => {
  it('shows every flag, variable and default of the table, and nothing else', () => {
    const help = renderCommandHelp(job)
    expect(parseHelp(help).options.length).toBeGreaterThan(0)
    expect(helpDrift(job, help)).toEqual([])
  })
})

describe('the drift checks themselves', () => {
  it('notice a default, a variable or a flag that differs in --help', () => {
    const help = renderCommandHelp('clean')
    expect(
      helpDrift('clean', help.replace('[RETENTION_MIN_KEEP; default 7]', '[RETENTION_MIN_KEEP; default 5]')),
    ).toEqual(['clean --min-keep: default "7" in the table vs "5" shown'])
    expect(helpDrift('clean', help.replace('RETENTION_MIN_KEEP;', 'MIN_KEEP;'))).toEqual([
      'clean --min-keep: variables "RETENTION_MIN_KEEP" vs "MIN_KEEP"',
    ])
    expect(helpDrift('clean', help.replace('--min-keep', '--keep-min'))).toEqual([
      'clean: --min-keep is in the table but not in --help',
      'clean: --help shows --keep-min, which the table does not give it',
    ])
  })

  it('notice a README row whose default or flag differs, or that is missing', () => {
    expect(readmeDrift(readme.replace('| `30`', '| `31`'))).toEqual([
      'README: RETENTION_DAYS default "31" vs "30" in the table',
    ])
    expect(readmeDrift(readme.replace('`--min-keep`', '`--keep`'))).toEqual([
      'README: RETENTION_MIN_KEEP flag --keep vs --min-keep',
    ])
    const withoutRow = readme
      .split('\n')
      .filter((l) => !l.startsWith('| `RPO_HOURS`'))
      .join('\n')
    expect(readmeDrift(withoutRow)).toEqual(['README: RPO_HOURS is missing'])
  })
})

describe('README.md configuration table', () => {
  it('is the table generated from lib/settings (npm run docs:settings writes it)', () => {
    const block = readme.slice(readme.indexOf(TABLE_START) + TABLE_START.length, readme.indexOf(TABLE_END))
    expect(block.trim()).toBe(renderSettingsTable())
  })

  it('agrees with the table on every variable, flag and default', () => {
    expect(readmeDrift(readme)).toEqual([])
  })
})

describe('the built command', () => {
  it('prints the generated help, as the harness does for `npm run … -- --help`', () => {
    const printed = execFileSync(process.execPath, ['bin/lifeboat.js', 'clean', '--help']).toString()
    expect(printed).toBe(renderCommandHelp('clean'))
  })
})

/** Variables a job may read that are the platform's, not this tool's settings. */
const PLATFORM = [/^GITHUB_/, /^RUNNER_/, /^CI$/, /^HOME$/, /^USER$/, /^INIT_CWD$/, /^PATH$/, /^AWS_SDK_JS_/]

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return name.endsWith('.ts') ? [path] : []
  })
}

describe('the readers', () => {
  const files = [...sources('lib'), ...sources('jobs')]
  const known = new Set(ALL_SETTINGS.flatMap((d) => d.env ?? []))
  const libpq = new Set([...Object.values(LIBPQ_ENV), 'PGSERVICEFILE', 'PGSYSCONFDIR'])

  it('read only variables the table defines (or the platform and libpq set)', () => {
    const unknown: string[] = []
    const seen = new Set<string>()
    for (const file of files) {
      const text = readFileSync(file, 'utf8')
      const named = [
        ...[...text.matchAll(/\benv\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!),
        ...[...text.matchAll(/\benv\(\s*'([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]!),
        ...[...text.matchAll(/reader\.\w+\(\s*(?:undefined|'[a-z-]+')\s*,\s*'([A-Z][A-Z0-9_]+)'/g)].map(
          (m) => m[1]!,
        ),
        ...[...text.matchAll(/\benv\[\s*'([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]!),
      ]
      for (const name of new Set(named)) {
        seen.add(name)
        if (known.has(name) || libpq.has(name) || PLATFORM.some((p) => p.test(name))) continue
        unknown.push(`${file}: ${name}`)
      }
    }
    expect(unknown).toEqual([])
    // The scan sees the reads it guards (a scan that matches nothing would always pass).
    expect(seen).toContain('GITHUB_STEP_SUMMARY')
    expect(seen).toContain('GITHUB_REPOSITORY')
  })
})
