// Configuration is parsed once, from an env object and flags passed in, and every
// problem is reported at once. Flags override environment variables.
import { LifeboatError } from './errors.ts'
import { Secret } from './secret.ts'

export type Env = Readonly<Record<string, string | undefined>>
export type Flags = Readonly<Record<string, unknown>>

export interface StoreConfig {
  /** `s3://bucket/prefix` or `file:///abs/path`; never holds credentials. */
  url: string
  s3?: S3Settings
}

export interface S3Settings {
  bucket: string
  prefix: string
  region: string
  endpoint?: string
  forcePathStyle: boolean
  /** Some S3-compatible servers mishandle the SDK's default flexible checksums. */
  requestChecksumCalculation: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED'
  responseChecksumValidation: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED'
  /** Explicit keys for S3-compatible stores; AWS itself uses the SDK credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: Secret; sessionToken?: Secret }
  /** LIFEBOAT_STORE_TIMEOUT: seconds without an answer before a request fails (the adapter's default otherwise). */
  timeoutSeconds?: number
}

interface Problem {
  code: 'CONFIG_MISSING' | 'CONFIG_INVALID'
  message: string
}

/** Reads settings and collects problems; `finish()` throws them all as one error. */
export class SettingsReader {
  readonly #env: Env
  readonly #flags: Flags
  readonly #problems: Problem[] = []

  constructor(env: Env, flags: Flags = {}) {
    this.#env = env
    this.#flags = flags
  }

  /** The first non-empty value among a flag and environment variables. */
  optional(flag: string | undefined, ...envNames: string[]): string | undefined {
    const fromFlag = flag === undefined ? undefined : this.#flags[flag]
    if (typeof fromFlag === 'string' && fromFlag !== '') return fromFlag
    if (typeof fromFlag === 'number') return String(fromFlag)
    for (const name of envNames) {
      const value = this.#env[name]
      if (value !== undefined && value !== '') return value
    }
    return undefined
  }

  required(flag: string | undefined, ...envNames: string[]): string | undefined {
    const value = this.optional(flag, ...envNames)
    if (value === undefined) this.missing(describeSetting(flag, envNames))
    return value
  }

  secret(flag: string | undefined, ...envNames: string[]): Secret | undefined {
    const value = this.optional(flag, ...envNames)
    return value === undefined ? undefined : new Secret(value)
  }

  requiredSecret(flag: string | undefined, ...envNames: string[]): Secret | undefined {
    const value = this.required(flag, ...envNames)
    return value === undefined ? undefined : new Secret(value)
  }

  integer(flag: string | undefined, envName: string | undefined, fallback: number, min = 0): number {
    const raw = this.optional(flag, ...(envName ? [envName] : []))
    if (raw === undefined) return fallback
    const value = Number(raw)
    if (!Number.isInteger(value) || value < min) {
      this.invalid(
        `${describeSetting(flag, envName ? [envName] : [])} must be a whole number ≥ ${min}, got "${raw}"`,
      )
      return fallback
    }
    return value
  }

  number(flag: string | undefined, envName: string | undefined, fallback: number): number {
    const raw = this.optional(flag, ...(envName ? [envName] : []))
    if (raw === undefined) return fallback
    const value = Number(raw)
    if (!Number.isFinite(value) || value < 0) {
      this.invalid(`${describeSetting(flag, envName ? [envName] : [])} must be a number ≥ 0, got "${raw}"`)
      return fallback
    }
    return value
  }

  boolean(flag: string | undefined, envName?: string): boolean {
    const fromFlag = flag === undefined ? undefined : this.#flags[flag]
    if (typeof fromFlag === 'boolean') return fromFlag
    const raw = envName ? this.#env[envName] : undefined
    return raw !== undefined && /^(1|true|yes|on)$/i.test(raw)
  }

  /** A flag that may be given several times (`-t a -t b`) or comma-separated in env. */
  list(flag: string | undefined, envName?: string): string[] {
    const fromFlag = flag === undefined ? undefined : this.#flags[flag]
    const values: unknown[] = Array.isArray(fromFlag) ? fromFlag : fromFlag === undefined ? [] : [fromFlag]
    const strings = values.filter((v): v is string => typeof v === 'string' && v !== '')
    if (strings.length > 0) return strings
    const raw = envName ? this.#env[envName] : undefined
    return raw
      ? raw
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : []
  }

  env(name: string): string | undefined {
    const value = this.#env[name]
    return value === '' ? undefined : value
  }

  missing(setting: string): void {
    this.#problems.push({ code: 'CONFIG_MISSING', message: `${setting} is not set` })
  }

  invalid(message: string): void {
    this.#problems.push({ code: 'CONFIG_INVALID', message })
  }

  /** Throws every collected problem as one configuration error. */
  finish(): void {
    const [first, ...rest] = this.#problems
    if (!first) return
    const code = this.#problems.some((p) => p.code === 'CONFIG_MISSING') ? 'CONFIG_MISSING' : 'CONFIG_INVALID'
    const message = rest.length === 0 ? first.message : `${this.#problems.map((p) => p.message).join('; ')}`
    throw new LifeboatError(code, message, { details: this.#problems.map((p) => p.message) })
  }
}

function describeSetting(flag: string | undefined, envNames: readonly string[]): string {
  const names = [...envNames]
  if (flag) names.push(`--${flag}`)
  return names.length === 1 ? names[0]! : names.join(' or ')
}

/** `BACKUP_STORE` (or `--store`): where archives live. */
export function readStoreConfig(reader: SettingsReader): StoreConfig | undefined {
  const raw = reader.required('store', 'BACKUP_STORE')
  if (raw === undefined) return undefined
  if (raw.startsWith('file://') || raw.startsWith('/') || raw.startsWith('.')) {
    return { url: raw.startsWith('file://') ? raw : `file://${raw}` }
  }
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(raw)
  if (!match) {
    reader.invalid(`BACKUP_STORE must be s3://bucket/prefix or file://path, got "${raw}"`)
    return undefined
  }
  const endpoint = reader.optional(undefined, 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL')
  const checksum = (name: string): 'WHEN_SUPPORTED' | 'WHEN_REQUIRED' => {
    const value = (reader.optional(undefined, name) ?? 'WHEN_SUPPORTED').toUpperCase()
    if (value === 'WHEN_SUPPORTED' || value === 'WHEN_REQUIRED') return value
    reader.invalid(`${name} must be WHEN_SUPPORTED or WHEN_REQUIRED, got "${value}"`)
    return 'WHEN_SUPPORTED'
  }
  const accessKeyId = reader.optional(undefined, 'AWS_ACCESS_KEY_ID')
  const secretAccessKey = reader.secret(undefined, 'AWS_SECRET_ACCESS_KEY')
  const sessionToken = reader.secret(undefined, 'AWS_SESSION_TOKEN')
  const forcePathStyle = reader.optional(undefined, 'AWS_S3_FORCE_PATH_STYLE')
  // 0: unset, the store adapter's default applies.
  const timeoutSeconds = reader.integer(undefined, 'LIFEBOAT_STORE_TIMEOUT', 0, 1)
  return {
    url: raw,
    s3: {
      bucket: match[1]!,
      prefix: match[2]!.replace(/\/+$/, ''),
      region: reader.optional(undefined, 'AWS_REGION', 'AWS_DEFAULT_REGION') ?? 'us-east-1',
      ...(endpoint ? { endpoint } : {}),
      forcePathStyle:
        forcePathStyle === undefined ? endpoint !== undefined : /^(1|true|yes)$/i.test(forcePathStyle),
      requestChecksumCalculation: checksum('AWS_REQUEST_CHECKSUM_CALCULATION'),
      responseChecksumValidation: checksum('AWS_RESPONSE_CHECKSUM_VALIDATION'),
      ...(accessKeyId && secretAccessKey
        ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } }
        : {}),
      ...(timeoutSeconds > 0 ? { timeoutSeconds } : {}),
    },
  }
}
