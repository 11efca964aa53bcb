// The Supabase Storage endpoints a stack wires into the workflows: the project backed up and the
// scratch project drills and DR tests restore files into. Both optional: a project without
// Storage files leaves them out and deploys as before. The keys are secrets (setting-specs.ts).
import type { ConfigReader } from './config-reader.ts'

export interface StorageEndpointSettings {
  /** `https://<ref>.supabase.co/storage/v1/s3`. */
  url: string
  region: string
}

export interface StorageStackSettings {
  /** The Storage the backup job reads; undefined: backups hold no files. */
  source?: StorageEndpointSettings
  /** The scratch Storage drills and DR tests write into; undefined: they verify the files in the store. */
  staging?: StorageEndpointSettings
}

/** The plain config keys of each endpoint; its access keys are secrets (setting-specs.ts). */
export const STORAGE_KEYS = {
  source: { url: 'lifeboat:storageS3Url', region: 'lifeboat:storageS3Region' },
  staging: { url: 'lifeboat:stagingStorageS3Url', region: 'lifeboat:stagingStorageS3Region' },
} as const

const URL_EXAMPLE = 'https://<ref>.supabase.co/storage/v1/s3'

function parseEndpoint(
  config: ConfigReader,
  keys: { url: string; region: string },
): StorageEndpointSettings | undefined {
  const url = config.optional(keys.url)
  const region = config.optional(keys.region)
  if (url === undefined) {
    if (region !== undefined)
      config.problems.push(`${keys.region} is set but ${keys.url} is not: set both or neither`)
    return undefined
  }
  // The value is not echoed: a URL pasted with credentials in it must not reach a log.
  if (!/^https:\/\/[^/\s@]+(\/\S*)?$/.test(url)) {
    config.problems.push(`${keys.url} must be an https URL without credentials, such as ${URL_EXAMPLE}`)
  }
  if (region === undefined) {
    config.problems.push(`${keys.region} is not set (${keys.url} is): the region shown beside the endpoint`)
  } else if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    config.problems.push(`${keys.region} must be a region such as eu-central-1, got "${region}"`)
  }
  return { url: url.replace(/\/+$/, ''), region: region ?? '' }
}

/** Both endpoints, each all or nothing; the drill's must not be the one backed up. */
export function parseStorage(config: ConfigReader): StorageStackSettings {
  const source = parseEndpoint(config, STORAGE_KEYS.source)
  const staging = parseEndpoint(config, STORAGE_KEYS.staging)
  if (source && staging && sameEndpoint(source.url, staging.url)) {
    config.problems.push(
      `${STORAGE_KEYS.staging.url} must name a scratch project, not the Storage backed up (${STORAGE_KEYS.source.url}): drills write files there`,
    )
  }
  return { ...(source ? { source } : {}), ...(staging ? { staging } : {}) }
}

function sameEndpoint(a: string, b: string): boolean {
  // Supabase serves one project's Storage at <ref>.supabase.co and <ref>.storage.supabase.co.
  const host = (url: string) =>
    /^https:\/\/([^/]+)/i
      .exec(url)?.[1]
      ?.toLowerCase()
      .replace(/:443$/, '')
      .replace(/\.storage\.supabase\.co$/, '.supabase.co')
  return host(a) !== undefined && host(a) === host(b)
}
