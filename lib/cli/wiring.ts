// Builds the adapters a configuration asks for, in one place, for every job.
import type { Transform } from 'node:stream'
import { encryptStream } from '../adapters/crypto/age.ts'
import { generateSchemaSql } from '../adapters/postgres/schema-sql.ts'
import type { Env } from '../core/config.ts'
import type { GenerateSchemaSql } from '../engine/backup.ts'

/** Encryption for the archive stream when recipients are configured. */
export function buildEncryption(recipients: readonly string[]): { encrypt?: () => Transform } {
  if (recipients.length === 0) return {}
  return { encrypt: () => encryptStream(recipients) }
}

/** schema.sql from a version-compatible pg_dump when there is one, else from the catalogs. */
export function schemaSqlGenerator(env: Env = process.env): GenerateSchemaSql {
  return (client, options) => generateSchemaSql(client, { ...options, env })
}
