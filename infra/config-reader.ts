// Reads raw stack config values (`namespace:name` strings, as the Pulumi engine hands them
// over) into typed values, collecting every problem in one list instead of stopping at the
// first: the stack reports them all at once.

/** Reads one raw config value (`namespace:name`), as the Pulumi engine hands it over: a string. */
export type RawConfig = (key: string) => string | undefined

export interface ConfigReader {
  raw: RawConfig
  problems: string[]
  /** True once a required key was found unset (CONFIG_MISSING rather than CONFIG_INVALID). */
  readonly missing: boolean
  need(key: string): string | undefined
  optional(key: string): string | undefined
  integer(key: string, fallback: number, min: number, max: number): number
  object(key: string, isRequired: boolean): Record<string, unknown> | undefined
}

export function configReader(raw: RawConfig): ConfigReader {
  const problems: string[] = []
  let missing = false
  const optional = (key: string): string | undefined => {
    const value = raw(key)
    return value === '' ? undefined : value
  }
  const need = (key: string): string | undefined => {
    const value = raw(key)
    if (value === undefined || value === '') {
      missing = true
      problems.push(`${key} is not set`)
      return undefined
    }
    return value
  }
  return {
    raw,
    problems,
    get missing() {
      return missing
    },
    need,
    optional,
    integer(key, fallback, min, max) {
      const value = optional(key)
      if (value === undefined) return fallback
      const n = Number(value)
      if (!Number.isInteger(n) || n < min || n > max) {
        problems.push(`${key} must be a whole number from ${min} to ${max}, got "${value}"`)
        return fallback
      }
      return n
    },
    object(key, isRequired) {
      const value = isRequired ? need(key) : optional(key)
      if (value === undefined) return undefined
      try {
        const parsed: unknown = JSON.parse(value)
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
          return parsed as Record<string, unknown>
        }
      } catch {
        // reported below
      }
      problems.push(`${key} must be an object (set it with \`pulumi config set --path '${key}.<field>' …\`)`)
      return undefined
    },
  }
}
