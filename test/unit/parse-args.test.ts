// The parser generated from the settings table: what it accepts, and the usage errors
// (exit 2) for what it must not silently ignore.
import { describe, expect, it } from 'vitest'
import { LifeboatError } from '../../lib/core/errors.ts'
import { closestFlag, parseCommandLine } from '../../lib/settings/parse-args.ts'
import { settingsFor } from '../../lib/settings/settings.ts'

function usage(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(LifeboatError)
    expect((error as LifeboatError).code).toBe('USAGE')
    expect((error as LifeboatError).exitCode).toBe(2)
    return (error as LifeboatError).message
  }
  throw new Error('expected a usage error')
}

describe('parseCommandLine', () => {
  it('reads repeatable flags, short flags and values by flag name', () => {
    const { flags } = parseCommandLine('backup', ['-t', 'a', '--table', 'b', '-j', '2', '--temp-dir=/x'])
    expect(flags).toEqual({ table: ['a', 'b'], jobs: '2', 'temp-dir': '/x' })
  })

  it('turns --no-verify into verify: false', () => {
    expect(parseCommandLine('restore', ['latest', '--no-verify']).flags.verify).toBe(false)
  })

  it('hands the positional argument to the setting that takes it ([days] of clean)', () => {
    expect(parseCommandLine('clean', ['--', '7'])).toEqual({ flags: { days: '7' }, positional: ['7'] })
  })

  it('refuses an unknown option and suggests the flag meant', () => {
    expect(usage(() => parseCommandLine('backup', ['--tabel', 'x']))).toBe(
      'unknown option --tabel; did you mean --table? (see --help)',
    )
  })

  it('refuses a flag without its value, at the end or before another flag', () => {
    expect(usage(() => parseCommandLine('backup', ['-t']))).toMatch(/^--table needs a value/)
    expect(usage(() => parseCommandLine('backup', ['-t', '--json']))).toMatch(/^-t needs a value/)
    expect(usage(() => parseCommandLine('backup', ['--table=']))).toMatch(/^--table needs a value/)
  })

  it('refuses a value given to a switch', () => {
    expect(usage(() => parseCommandLine('backup', ['--json=yes']))).toBe('--json takes no value (see --help)')
  })

  it('refuses stray arguments (npm run backup:database -t x without --)', () => {
    expect(usage(() => parseCommandLine('backup', ['x']))).toBe(
      'backup takes no arguments, got: x (with npm run, options go after --: npm run backup:database -- --json)',
    )
    // The example is an option every command takes (list has no -t).
    expect(usage(() => parseCommandLine('list', ['extra']))).toBe(
      'list takes no arguments, got: extra (with npm run, options go after --: npm run backup:list -- --json)',
    )
    expect(usage(() => parseCommandLine('verify', ['a', 'b']))).toMatch(
      /^verify takes one <id\|latest\|all>, got 2/,
    )
  })

  it('asks for the argument a command needs', () => {
    expect(usage(() => parseCommandLine('restore', []))).toBe('restore needs <backup> (see --help)')
  })

  it('gives a command only its own flags', () => {
    expect(usage(() => parseCommandLine('list', ['--truncate']))).toMatch(/^unknown option --truncate/)
  })
})

describe('closestFlag', () => {
  it('finds a flag one or two edits away, and nothing further', () => {
    const settings = settingsFor('clean')
    expect(closestFlag('--min-kep', settings)).toBe('--min-keep')
    expect(closestFlag('--dryrun', settings)).toBe('--dry-run')
    expect(closestFlag('--completely-else', settings)).toBeUndefined()
  })
})
