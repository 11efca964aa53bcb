// How S3 objects are named and printed, apart from the SDK so that naming a store
// does not load it.
import type { S3Settings } from '../../core/config.ts'

/** The object key prefix: the store's prefix as a folder, or nothing. */
export function keyPrefix(settings: S3Settings): string {
  return settings.prefix ? `${settings.prefix}/` : ''
}

/** The store, printable: `s3://bucket/prefix`. */
export function s3Location(settings: S3Settings): string {
  return `s3://${settings.bucket}/${settings.prefix}`
}

/** One object, printable: `s3://bucket/prefix/key`. */
export function s3Url(settings: S3Settings, key: string): string {
  return `s3://${settings.bucket}/${keyPrefix(settings)}${key}`
}
