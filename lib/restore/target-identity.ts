// Whether a restore target IS the backup's source or a database the environment names,
// decided by what the servers say about themselves (start time, system identifier,
// database OID), not by how the URLs are spelled. Where a server cannot be asked, the
// spelled endpoints decide, and a "maybe" counts as protected.
import type pg from 'pg'
import { connect } from '../adapters/postgres/connection.ts'
import type { Manifest } from '../archive/manifest.ts'
import type { Secret } from '../core/secret.ts'
import {
  endpointsMayMatch,
  isRecordedDatabase,
  readServerIdentity,
  resolveEndpoint,
  type ServerIdentity,
  sameDatabase,
} from '../trust/server-identity.ts'

/** How long to wait for a production database that may be down (it usually is, in a disaster). */
const PRODUCTION_CONNECT_MS = 5_000

export interface IdentityGuard {
  /** Reasons the target is production, by identity; spelled-URL reasons are added by the caller. */
  reasons(backupSource?: Manifest['source']): Promise<string[]>
}

export async function identityGuard(
  target: pg.ClientBase,
  targetUrl: Secret,
  environment: readonly { setting: string; url: Secret }[],
): Promise<IdentityGuard> {
  const live = await readServerIdentity(target)
  const environmentReasons = await Promise.all(
    environment.map(({ setting, url }) => environmentReason(live, targetUrl, setting, url)),
  )
  return {
    async reasons(backupSource) {
      const reasons = environmentReasons.filter((r): r is string => r !== undefined)
      if (backupSource?.identity && isRecordedDatabase(live, backupSource.identity) === true) {
        reasons.unshift('it is the database this backup was taken from')
      }
      return reasons
    },
  }
}

async function environmentReason(
  live: ServerIdentity,
  targetUrl: Secret,
  setting: string,
  url: Secret,
): Promise<string | undefined> {
  let other: ServerIdentity
  try {
    const client = await connect(url, {
      applicationName: 'lifeboat restore (identity check)',
      connectTimeoutMs: PRODUCTION_CONNECT_MS,
    })
    try {
      other = await readServerIdentity(client)
    } finally {
      await client.end().catch(() => undefined)
    }
  } catch {
    // Production may be down or out of reach: then the addresses decide, and "maybe" protects.
    try {
      return endpointsMayMatch(resolveEndpoint(url), resolveEndpoint(targetUrl))
        ? `it may be the database ${setting} names (that server could not be asked, and the addresses agree)`
        : undefined
    } catch {
      return undefined
    }
  }
  return sameDatabase(live, other) ? `it is the database ${setting} names` : undefined
}
