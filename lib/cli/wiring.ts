// Builds the adapters a configuration asks for, in one place, for every job.
import type { Transform } from 'node:stream'
import { encryptStream } from '../adapters/crypto/age.ts'
import { generateSchemaSql } from '../adapters/postgres/schema-sql.ts'
import { openStore } from '../adapters/store/open-store.ts'
import type { Store } from '../adapters/store/store.ts'
import type { GenerateSchemaSql } from '../backup/postgres-source.ts'
import { type Env, readStoreConfig, SettingsReader } from '../core/config.ts'

/** Encryption for the archive stream when recipients are configured. */
export function buildEncryption(recipients: readonly string[]): { encrypt?: () => Transform } {
  if (recipients.length === 0) return {}
  return { encrypt: () => encryptStream(recipients) }
}

/** schema.sql from a version-compatible pg_dump when there is one, else from the catalogs. */
export function schemaSqlGenerator(env: Env = process.env): GenerateSchemaSql {
  return (client, options) => generateSchemaSql(client, { ...options, env })
}

/** A store for another `s3://bucket/prefix` than BACKUP_STORE, with the same AWS settings. */
export function storeOpener(env: Env): (url: string) => Store {
  return (url) => {
    const reader = new SettingsReader({ ...env, BACKUP_STORE: url })
    const config = readStoreConfig(reader)
    reader.finish()
    return openStore(config!)
  }
}
