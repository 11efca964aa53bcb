// Builds the adapters a configuration asks for, in one place, for every job.
import type { Transform } from 'node:stream'
import { encryptStream } from '../adapters/crypto/age.ts'
import type { GenerateSchemaSql } from '../engine/backup.ts'

/** Encryption for the archive stream when recipients are configured. */
export function buildEncryption(recipients: readonly string[]): { encrypt?: () => Transform } {
  if (recipients.length === 0) return {}
  return { encrypt: () => encryptStream(recipients) }
}

export function schemaSqlGenerator(): GenerateSchemaSql | undefined {
  return undefined
}
