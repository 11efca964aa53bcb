// What makes a backup "good", the only kind the retention floor counts: complete, its
// sidecar vouching for the stored archive, holding at least one table, dated no later than
// the store recorded it, signature-valid where signing is on, and not flagged by the anomaly
// check against the good-shaped backups before it. docs/lifecycle.md. Pure.
import {
  ANOMALY_DEFAULTS,
  type Anomaly,
  type AnomalyOptions,
  detectAnomalies,
  type ManifestSummary,
} from '../monitor/anomalies.ts'

/** The reason a backup of no table is not good: it holds nothing a restore could bring back. */
export const EMPTY = 'empty: it holds no table'

/** What the signature check (signatureFactOf in lib/archive/authenticity.ts) says about one backup. */
export interface SignatureFact {
  /** A signature object exists for the backup's sidecar. */
  signed: boolean
  /** It verifies against a trusted key. */
  valid: boolean
}

/** Everything known about one complete backup, newest or oldest, as gathered by clean. */
export interface BackupFacts {
  id: string
  time: Date
  clockAhead: boolean
  /** The sidecar, when it was read and vouches for the archive. */
  manifest?: ManifestSummary & { totals: { tables: number } }
  /** Why the sidecar does not vouch for the archive (unreadable, wrong size…). */
  sidecarProblem?: string
  /** Absent when signing is off: then signatures do not decide. */
  signature?: SignatureFact
}

/** Reasons a backup is not good, by id; a good backup has none. */
export function assessBackups(
  backups: readonly BackupFacts[],
  options: AnomalyOptions = ANOMALY_DEFAULTS,
): Map<string, string[]> {
  const oldestFirst = [...backups].sort(
    (a, b) => a.time.getTime() - b.time.getTime() || (a.id < b.id ? -1 : 1),
  )
  const reasons = new Map<string, string[]>()
  // The anomaly baseline: earlier backups that hold data and can be believed (newest first).
  const baseline: ManifestSummary[] = []
  for (const backup of oldestFirst) {
    const found: string[] = []
    if (backup.sidecarProblem) found.push(backup.sidecarProblem)
    if (backup.clockAhead) found.push("dated ahead of the store's clock")
    if (backup.signature && !backup.signature.signed) found.push('unsigned, while signing is on')
    if (backup.signature?.signed && !backup.signature.valid) found.push('its signature does not verify')
    const manifest = backup.manifest
    if (manifest && manifest.totals.tables === 0) found.push(EMPTY)
    if (manifest && found.length === 0) {
      const anomalies: Anomaly[] = detectAnomalies(manifest, baseline, options)
      found.push(...anomalies.map((a) => `anomaly: ${a.message}`))
      // An anomalous backup still joins the baseline (as in backup:monitor): a real change
      // becomes the new normal after a few backups instead of being flagged for ever.
      baseline.unshift(manifest)
    }
    reasons.set(backup.id, found)
  }
  return reasons
}
