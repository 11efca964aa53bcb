// Whether a Storage endpoint may receive restored files: the project the backup's files
// came from (its storage manifest) or the one SUPABASE_STORAGE_S3_URL names is production,
// written only when confirmed by name (never by a drill); and the log of what a restore
// wrote, for a drill to remove afterwards. Pure.
import { LifeboatError } from '../core/errors.ts'

export interface StorageWriteLog {
  bucketCreated(bucket: string): void
  objectWritten(bucket: string, name: string): void
}

/** The production guard: the backup's source Storage and the environment's are refused unless confirmed. */
export interface StorageTargetGuard {
  /** SUPABASE_STORAGE_S3_URL (the project backed up), when set. */
  environment: readonly { setting: string; url: string }[]
  /** `--confirm-storage`: the target's project ref (or host). */
  confirm?: string | undefined
  /** A drill: production is refused with no way to confirm it. */
  drill?: boolean
}

const DEFAULT_PORTS: Record<string, string> = { 'https:': '443', 'http:': '80' }
/** `<ref>.supabase.co` and `<ref>.storage.supabase.co` serve the same project's Storage. */
const SUPABASE_HOST = /^([a-z0-9-]+)\.(?:storage\.)?supabase\.(?:co|in|com|net|red)$/

export interface StorageEndpointIdentity {
  /** One spelling per endpoint: compared to tell whether two settings name the same Storage. */
  key: string
  /** What `--confirm-storage` must name: the project ref on Supabase, else host[:port]. */
  name: string
}

/**
 * Normalises an endpoint URL: scheme and host lower-cased, the default port and trailing
 * slashes dropped; a Supabase host stands for its project, whichever spelling.
 */
export function storageEndpointIdentity(endpoint: string): StorageEndpointIdentity {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    const text = endpoint.trim().toLowerCase().replace(/\/+$/, '')
    return { key: text, name: text }
  }
  const host = url.hostname.toLowerCase().replace(/\.$/, '')
  const ref = SUPABASE_HOST.exec(host)?.[1]
  if (ref) return { key: `supabase:${ref}`, name: ref }
  const port = url.port && url.port !== DEFAULT_PORTS[url.protocol] ? `:${url.port}` : ''
  const path = url.pathname.replace(/\/+$/, '')
  return { key: `${url.protocol}//${host}${port}${path}`, name: `${host}${port}` }
}

/** Why the target Storage counts as production (empty when it does not). */
export function storageProductionReasons(input: {
  target: string
  /** The endpoint the backup's files were read from (its storage manifest). */
  backupSource?: string | undefined
  /** Storage endpoints the environment names as production (SUPABASE_STORAGE_S3_URL). */
  environment: readonly { setting: string; url: string }[]
}): string[] {
  const target = storageEndpointIdentity(input.target).key
  const reasons: string[] = []
  if (input.backupSource !== undefined && storageEndpointIdentity(input.backupSource).key === target) {
    reasons.push("it is the Storage this backup's files were taken from")
  }
  for (const { setting, url } of input.environment) {
    if (storageEndpointIdentity(url).key === target) reasons.push(`it is the Storage ${setting} names`)
  }
  return reasons
}

/**
 * A production Storage target needs `--confirm-storage <its name>` (a restore; a drill
 * passes none and is refused); a confirmation naming another Storage is refused too.
 */
export function assertStorageTargetAllowed(input: {
  reasons: readonly string[]
  target: string
  /** `bucket names` the restore would write, for the message. */
  buckets: readonly string[]
  confirm: string | undefined
  /** The drill's wording: no confirmation exists. */
  drill?: boolean
}): void {
  const { name } = storageEndpointIdentity(input.target)
  if (input.confirm !== undefined && input.confirm.trim().toLowerCase() !== name) {
    throw new LifeboatError(
      'TARGET_PROTECTED',
      `--confirm-storage "${input.confirm}" does not match the target Storage "${name}"; nothing was written`,
    )
  }
  if (input.reasons.length === 0 || input.confirm !== undefined) return
  const buckets = input.buckets.length > 0 ? ` (buckets ${input.buckets.join(', ')})` : ''
  const how = input.drill
    ? 'a drill never writes files into production: point STAGING_SUPABASE_STORAGE_S3_URL at a scratch project, or leave it unset to verify the files without restoring them'
    : `to write there anyway pass --confirm-storage ${name}`
  throw new LifeboatError(
    'TARGET_PROTECTED',
    `refusing to restore files into ${input.target}${buckets}: ${input.reasons.join('; ')}; ${how}`,
    { details: [...input.reasons] },
  )
}
