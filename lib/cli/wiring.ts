// Builds the adapters a configuration asks for, in one place, for every job.
import type { Transform } from 'node:stream'
import type { GenerateSchemaSql } from '../engine/backup.ts'

/** Encryption for the archive stream when recipients are configured. */
export function buildEncryption(recipients: readonly string[]): { encrypt?: () => Transform } {
  if (recipients.length === 0) return {}
  throw new Error('encryption is not wired yet')
}

export function schemaSqlGenerator(): GenerateSchemaSql | undefined {
  return undefined
}
