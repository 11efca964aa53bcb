// Configuration is parsed once, from an env object and flags passed in, and every
// problem is reported at once. Flags override environment variables.
import { SETTINGS } from '../settings/settings.ts'
import type { SettingDef } from '../settings/types.ts'
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
  /** LIFEBOAT_STORE_TIMEOUT: seconds a request may wait without a byte moving. */
  timeoutSeconds?: number
}

interface Problem {
  code: 'CONFIG_MISSING' | 'CONFIG_INVALID'
  message: string
}

/** What libpq consults on the host: files (service file, password file), home, OS user. */
export interface HostFacts {
  readFile(path: string): string | undefined
  home: string | undefined
  osUser: string | undefined
}

export const NO_HOST_FACTS: HostFacts = { readFile: () => undefined, home: undefined, osUser: undefined }

const TRUE = /^(1|true|yes|on)$/i
const FALSE = /^(0|false|no|off)$/i

/**
 * Reads settings and collects problems; `finish()` throws them all as one error. Each
 * method takes a setting's definition (lib/settings/): its flag, variables, default and
 * bounds come from there. The older form (flag, variable names, fallback) still works.
 */
export class SettingsReader {
  readonly #env: Env
  readonly #flags: Flags
  readonly #problems: Problem[] = []
  readonly host: HostFacts

  constructor(env: Env, flags: Flags = {}, host: HostFacts = NO_HOST_FACTS) {
    this.#env = env
    this.#flags = flags
    this.host = host
  }

  /** The given value and where it came from (`--jobs`, `[days]`, `BACKUP_JOBS`). */
  given(def: SettingDef): { value: string; from: string } | undefined {
    if (def.flag) {
      const fromFlag = this.#flags[def.flag]
      if (typeof fromFlag === 'string' && fromFlag !== '') return { value: fromFlag, from: `--${def.flag}` }
      if (typeof fromFlag === 'number') return { value: String(fromFlag), from: `--${def.flag}` }
    }
    if (def.positional) {
      const fromArgument = this.#flags[def.positional]
      if (typeof fromArgument === 'string' && fromArgument !== '')
        return { value: fromArgument, from: `[${def.positional}]` }
    }
    for (const name of def.env ?? []) {
      const value = this.#env[name]
      if (value !== undefined && value !== '') return { value, from: name }
    }
    return undefined
  }

  /** The value, or the definition's default; a value outside `choices` is a problem. */
  optional(def: SettingDef): string | undefined
  optional(flag: string | undefined, ...envNames: string[]): string | undefined
  optional(first: SettingDef | string | undefined, ...envNames: string[]): string | undefined {
    const def = asDef(first, envNames, 'string')
    const given = this.given(def)
    const fallback =
      typeof def.default === 'string' || typeof def.default === 'number' ? String(def.default) : undefined
    if (!given) return fallback
    if (!def.choices) return given.value
    const choice = def.choices.find((c) => c.toLowerCase() === given.value.toLowerCase())
    if (choice) return choice
    this.invalid(`${given.from} must be ${def.choices.join(' or ')}, got "${given.value}"`)
    return fallback
  }

  required(def: SettingDef): string | undefined
  required(flag: string | undefined, ...envNames: string[]): string | undefined
  required(first: SettingDef | string | undefined, ...envNames: string[]): string | undefined {
    const def = asDef(first, envNames, 'string')
    const value = this.optional(def)
    if (value === undefined) this.missing(describeSetting(def))
    return value
  }

  secret(def: SettingDef): Secret | undefined
  secret(flag: string | undefined, ...envNames: string[]): Secret | undefined
  secret(first: SettingDef | string | undefined, ...envNames: string[]): Secret | undefined {
    const value = this.optional(asDef(first, envNames, 'string'))
    return value === undefined ? undefined : new Secret(value)
  }

  requiredSecret(def: SettingDef): Secret | undefined
  requiredSecret(flag: string | undefined, ...envNames: string[]): Secret | undefined
  requiredSecret(first: SettingDef | string | undefined, ...envNames: string[]): Secret | undefined {
    const value = this.required(asDef(first, envNames, 'string'))
    return value === undefined ? undefined : new Secret(value)
  }

  integer(def: SettingDef): number
  integer(flag: string | undefined, envName: string | undefined, fallback: number, min?: number): number
  integer(first: SettingDef | string | undefined, envName?: string, fallback = 0, min = 0): number {
    const def = legacyNumber(first, envName, fallback, min, 'integer')
    return this.#numeric(def, /^[+-]?\d+$/, 'a whole number')
  }

  number(def: SettingDef): number
  number(flag: string | undefined, envName: string | undefined, fallback: number): number
  number(first: SettingDef | string | undefined, envName?: string, fallback = 0): number {
    const def = legacyNumber(first, envName, fallback, 0, 'number')
    return this.#numeric(def, /^[+-]?(\d+\.?\d*|\.\d+)$/, 'a number')
  }

  #numeric(def: SettingDef, shape: RegExp, kind: string): number {
    const fallback = typeof def.default === 'number' ? def.default : 0
    const given = this.given(def)
    if (!given) return fallback
    const value = Number(given.value)
    const inRange =
      shape.test(given.value.trim()) &&
      (def.min === undefined || value >= def.min) &&
      (def.max === undefined || value <= def.max)
    if (inRange) return value
    const range =
      def.max !== undefined
        ? ` from ${def.min ?? 0} to ${def.max}`
        : def.min !== undefined
          ? ` ≥ ${def.min}`
          : ''
    this.invalid(`${given.from} must be ${kind}${range}, got "${given.value}"`)
    return fallback
  }

  boolean(def: SettingDef): boolean
  boolean(flag: string | undefined, envName?: string): boolean
  boolean(first: SettingDef | string | undefined, envName?: string): boolean {
    const def = asDef(first, envName ? [envName] : [], 'boolean')
    const fromFlag = def.flag === undefined ? undefined : this.#flags[def.flag]
    if (typeof fromFlag === 'boolean') return fromFlag
    for (const name of def.env ?? []) {
      const raw = this.#env[name]
      if (raw === undefined || raw === '') continue
      if (TRUE.test(raw)) return true
      if (FALSE.test(raw)) return false
      this.invalid(`${name} must be true or false, got "${raw}"`)
    }
    return def.default === true
  }

  /** A flag that may be given several times (`-t a -t b`), or comma-separated in env. */
  list(def: SettingDef): string[]
  list(flag: string | undefined, envName?: string): string[]
  list(first: SettingDef | string | undefined, envName?: string): string[] {
    const def = asDef(first, envName ? [envName] : [], 'list')
    const fromFlag = def.flag === undefined ? undefined : this.#flags[def.flag]
    const values: unknown[] = Array.isArray(fromFlag) ? fromFlag : fromFlag === undefined ? [] : [fromFlag]
    const strings = values.filter((v): v is string => typeof v === 'string' && v !== '')
    if (strings.length > 0) return strings
    for (const name of def.env ?? []) {
      const raw = this.#env[name]
      if (raw)
        return raw
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
    }
    return []
  }

  /** A variable set by the platform (GITHUB_*, CI), not a setting of this tool. */
  env(name: string): string | undefined {
    const value = this.#env[name]
    return value === '' ? undefined : value
  }

  missing(setting: string): void {
    this.#add({ code: 'CONFIG_MISSING', message: `${setting} is not set` })
  }

  invalid(message: string): void {
    this.#add({ code: 'CONFIG_INVALID', message })
  }

  /** A setting two stores share (AWS_ENDPOINT_URL_S3) is named once, however often it is read. */
  #add(problem: Problem): void {
    if (!this.#problems.some((p) => p.message === problem.message)) this.#problems.push(problem)
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

/** `TARGET_DATABASE_URL or --target`, `RETENTION_DAYS or [days]`. */
export function describeSetting(def: SettingDef): string {
  const names = [...(def.env ?? [])]
  if (def.flag) names.push(`--${def.flag}`)
  if (def.positional) names.push(`[${def.positional}]`)
  return names.length === 1 ? names[0]! : names.join(' or ')
}

function asDef(
  first: SettingDef | string | undefined,
  envNames: readonly string[],
  type: SettingDef['type'],
) {
  if (typeof first === 'object') return first
  return {
    key: first ?? envNames[0] ?? 'setting',
    ...(first === undefined ? {} : { flag: first }),
    env: envNames,
    type,
    jobs: [],
    help: '',
  } satisfies SettingDef
}

function legacyNumber(
  first: SettingDef | string | undefined,
  envName: string | undefined,
  fallback: number,
  min: number,
  type: 'integer' | 'number',
): SettingDef {
  if (typeof first === 'object') return first
  return { ...asDef(first, envName ? [envName] : [], type), default: fallback, min }
}

/** An http(s) URL (an endpoint, a webhook): what every such setting must be. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
  } catch {
    return false
  }
}

/** `BACKUP_STORE` (or `--store`): where archives live. */
export function readStoreConfig(reader: SettingsReader): StoreConfig | undefined {
  const raw = reader.required(SETTINGS.store)
  if (raw === undefined) return undefined
  return parseStoreUrl(reader, SETTINGS.store, raw, reader.optional(SETTINGS.awsRegion)!)
}

/**
 * LIFEBOAT_RECORD_STORE (or `--record-store`): where a drill or DR test writes its records
 * when they must not go to the store it restores from; undefined means that store itself.
 * Its own region (LIFEBOAT_RECORD_STORE_REGION), because a replica lives in another one.
 */
export function readRecordStoreConfig(reader: SettingsReader): StoreConfig | undefined {
  const raw = reader.optional(SETTINGS.recordStore)
  if (raw === undefined) return undefined
  const region = reader.optional(SETTINGS.recordStoreRegion) ?? reader.optional(SETTINGS.awsRegion)!
  return parseStoreUrl(reader, SETTINGS.recordStore, raw, region)
}

/** A store URL in any of BACKUP_STORE's forms; the AWS settings besides the region are shared. */
function parseStoreUrl(
  reader: SettingsReader,
  def: SettingDef,
  raw: string,
  region: string,
): StoreConfig | undefined {
  const S = SETTINGS
  if (raw.startsWith('file://') || raw.startsWith('/') || raw.startsWith('.')) {
    return { url: raw.startsWith('file://') ? raw : `file://${raw}` }
  }
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(raw)
  if (!match) {
    reader.invalid(
      `${reader.given(def)?.from ?? describeSetting(def)} must be s3://bucket/prefix, file://path or a path starting with / or ., got "${raw}"`,
    )
    return undefined
  }
  const endpoint = reader.optional(S.awsEndpoint)
  if (endpoint !== undefined && !isHttpUrl(endpoint)) {
    // The SDK would fail every request with "TypeError: Invalid URL"; named here instead.
    reader.invalid(
      `${reader.given(S.awsEndpoint)?.from ?? 'AWS_ENDPOINT_URL_S3'} must be an http(s) URL such as http://127.0.0.1:9000`,
    )
  }
  const accessKeyId = reader.optional(S.awsAccessKeyId)
  const secretAccessKey = reader.secret(S.awsSecretAccessKey)
  const sessionToken = reader.secret(S.awsSessionToken)
  const forcePathStyle = reader.given(S.awsForcePathStyle) ? reader.boolean(S.awsForcePathStyle) : undefined
  return {
    url: raw,
    s3: {
      bucket: match[1]!,
      prefix: match[2]!.replace(/\/+$/, ''),
      region,
      ...(endpoint ? { endpoint } : {}),
      forcePathStyle: forcePathStyle ?? endpoint !== undefined,
      requestChecksumCalculation: reader.optional(
        S.awsRequestChecksum,
      ) as S3Settings['requestChecksumCalculation'],
      responseChecksumValidation: reader.optional(
        S.awsResponseChecksum,
      ) as S3Settings['responseChecksumValidation'],
      ...(accessKeyId && secretAccessKey
        ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } }
        : {}),
      timeoutSeconds: reader.integer(S.storeTimeout),
    },
  }
}
