// The shape of the one definition every setting has: its flag, environment
// variables, type, default, the commands that take it and its help line. The
// argument parser, --help, completion, the README table and the readers use it.

/** The commands of `lifeboat <command>`; `npm run` scripts are aliases of them. */
export const COMMAND_NAMES = [
  'backup',
  'restore',
  'list',
  'show',
  'verify',
  'clean',
  'monitor',
  'audit',
  'drill',
  'dr-test',
  'report',
  'doctor',
  'demo',
  'alert-test',
] as const
export type CommandName = (typeof COMMAND_NAMES)[number]

export type SettingType = 'string' | 'integer' | 'number' | 'boolean' | 'list'

export interface SettingDef {
  /** Unique name of the setting (camelCase), used by readers and tests. */
  key: string
  /** Long flag without `--`; a boolean with `negatable` is written `--no-<flag>`. */
  flag?: string
  short?: string
  /** Environment variables, the first set one wins. */
  env?: readonly string[]
  type: SettingType
  /** The value a reader falls back to; shown by --help and the README. */
  default?: string | number | boolean
  /** A default that is not a literal value, e.g. "the OS temp folder". */
  defaultText?: string
  /** Inclusive bounds of an integer or number. */
  min?: number
  max?: number
  /** The accepted values of a string. */
  choices?: readonly string[]
  /** The placeholder shown after the flag in --help, e.g. `PATTERN`. */
  value?: string
  /** The commands that take it. */
  jobs: readonly CommandName[]
  /** One line for --help and the README. */
  help: string
  /** A different line for some commands' --help. */
  helpFor?: Partial<Record<CommandName, string>>
  /** Never printed: the reader hands it out as a `Secret`. */
  secret?: boolean
  /** `--no-<flag>` turns it off; it is on by default. */
  negatable?: boolean
  /** The value may also be the command's positional argument, shown as `[name]`. */
  positional?: string
  /** Left out of the README's configuration table (flags every command shares). */
  common?: boolean
}

/** Checks the literal at compile time and keeps its exact keys. */
export function defineSettings<const T extends Record<string, Omit<SettingDef, 'key'>>>(
  table: T,
): { [K in keyof T]: SettingDef & { key: K & string } } {
  return Object.fromEntries(Object.entries(table).map(([key, def]) => [key, { ...def, key }])) as {
    [K in keyof T]: SettingDef & { key: K & string }
  }
}
