// The drill and DR-test report (docs/drills.md has its JSON schema): built from what
// was measured, compared with the RTO/RPO targets, projected to the production size,
// with an RTO recommendation, and rendered as Markdown for people. Pure.

import type { OutcomeStatus } from '../alerts/outcome.ts'
import { formatBytes } from '../core/format.ts'
import { TOOL_VERSION } from '../core/version.ts'
import { accessReviewWarnings, type ReportedAccessReview } from './access-review-report.ts'
import { type DrillStorageReport, storageWarnings } from './storage-report.ts'

export const DRILL_REPORT_FORMAT = 1

export type DrillKind = 'drill' | 'dr-test'

/**
 * `staging`: a database named by URL, used as it is; `new-database`: created on the
 * staging server for this run and dropped after it; `throwaway`: a PostgreSQL cluster
 * started for this run and removed after it.
 */
export type TargetKind = 'staging' | 'new-database' | 'throwaway'

/** Seconds per phase; null when the run failed before reaching it. */
export interface DrillPhases {
  /** Listing the store, choosing the backup, reading its manifest, readying the target (a throwaway starts here). */
  prepare: number | null
  /** Reading the archive from the store into the temp folder. */
  download: number | null
  /** Pass 1 over the archive: decryption (streamed, so it is measured here), gunzip, every checksum. */
  verify: number | null
  /** Pass 2 in one transaction: schema.sql, data, indexes and constraints, foreign-key check. */
  load: number | null
  /** Re-export of every restored table and comparison with the manifest's row counts and sha256. */
  verifyTables: number | null
  /** After COMMIT: foreign keys validated, sequences usable, smoke checks. */
  postChecks: number | null
  /** Wall clock from the start of the run to the end of the post-checks: what the RTO is compared with. */
  total: number
}

export interface DrillTable {
  table: string
  rowsExpected: number
  rowsRestored: number | null
  sha256Match: boolean | null
}

export interface DrillCheck {
  name: string
  ok: boolean
  detail: string
}

export interface DrillReport {
  format: typeof DRILL_REPORT_FORMAT
  kind: DrillKind
  id: string
  tool: { name: 'lifeboat'; version: string }
  backupId: string | null
  /** When the backup was taken (its id's time), ISO 8601. */
  backupTime: string | null
  pick: {
    /** `random`: seeded choice in the window; `forced`: --backup; `newest`: the DR test. */
    method: 'random' | 'forced' | 'newest'
    seed: string | null
    windowDays: number | null
    /** How many complete backups the choice was made among. */
    candidates: number
  }
  /**
   * Where the backup was read from and where this report went: two stores for a DR test from
   * the replica. Always written now; reports stored by earlier versions lack it.
   */
  stores?: { backups: string; records: string }
  startedAt: string
  finishedAt: string
  target: { kind: TargetKind; host: string; port: number; database: string } | null
  phases: DrillPhases
  /** Each phase of the restore as its runner timed it (the RTO breakdown), in order. */
  restorePhases: { phase: string; seconds: number }[]
  rto: { targetSeconds: number; measuredSeconds: number | null; met: boolean | null }
  /** DR test only: the backup's age when the restore started (the data a disaster would lose). */
  rpo: { targetSeconds: number; achievedSeconds: number; met: boolean } | null
  projection: {
    /** The newest complete backup stands for today's production size. */
    productionBackupId: string
    productionBytes: number
    restoredBytes: number
    throughputBytesPerSecond: number | null
    projectedSeconds: number
    met: boolean
  } | null
  sizes: { tables: number; rows: number; dataBytes: number; archiveBytes: number } | null
  tables: DrillTable[]
  checks: DrillCheck[]
  outcome: OutcomeStatus
  warnings: string[]
  failedTables: string[]
  /** The backup's Storage files: restored and read back, verified only, or skipped; null when it has none. */
  storage: DrillStorageReport | null
  recommendation: string | null
  error: { code: string; message: string } | null
  /** DR test only: who can reach the bucket, and what changed since the last review. */
  accessReview?: ReportedAccessReview
}

export interface DrillMeasurements {
  kind: DrillKind
  id: string
  backup: { id: string; time: Date } | null
  pick: DrillReport['pick']
  stores: NonNullable<DrillReport['stores']>
  startedAt: Date
  finishedAt: Date
  /** The moment the backup's age (RPO achieved) is measured at; startedAt unless the clock was set. */
  rpoAsOf?: Date
  target: DrillReport['target']
  phases: DrillPhases
  /** The restore runner's phase timings (empty when the restore did not run). */
  restorePhases?: readonly { phase: string; seconds: number }[]
  rtoTargetSeconds: number
  /** Set for the DR test. */
  rpoTargetSeconds?: number
  /** Data bytes the restore loaded; undefined when it did not finish. */
  restoredBytes?: number
  production?: { backupId: string; bytes: number }
  sizes: DrillReport['sizes']
  tables: DrillTable[]
  checks: DrillCheck[]
  /** Warnings the restore itself raised (e.g. a backup not taken from one snapshot). */
  restoreWarnings: readonly string[]
  error?: { code: string; message: string }
  failedTables: readonly string[]
  storage?: DrillStorageReport | null
  accessReview?: ReportedAccessReview
}

/** Decides RTO, RPO, projection, warnings, outcome and recommendation from the measurements. */
export function buildDrillReport(m: DrillMeasurements): DrillReport {
  const failed = m.error !== undefined
  const target = m.rtoTargetSeconds
  const measured = failed ? null : m.phases.total
  const rto = {
    targetSeconds: target,
    measuredSeconds: measured,
    met: measured === null ? null : measured <= target,
  }
  const projection = failed ? null : projectRestore(m)
  const rpo =
    m.rpoTargetSeconds !== undefined && m.backup
      ? (() => {
          const asOf = m.rpoAsOf ?? m.startedAt
          const achieved = Math.max(0, (asOf.getTime() - m.backup.time.getTime()) / 1000)
          return {
            targetSeconds: m.rpoTargetSeconds,
            achievedSeconds: round(achieved),
            met: achieved <= m.rpoTargetSeconds,
          }
        })()
      : null

  const warnings = [
    ...m.restoreWarnings,
    ...storageWarnings(m.storage ?? null),
    ...(m.accessReview ? accessReviewWarnings(m.accessReview) : []),
  ]
  if (rto.met === false) {
    warnings.push(
      `RTO exceeded: the restore took ${formatSeconds(measured!)}, more than the RTO target of ${formatSeconds(target)} (RTO_TARGET)`,
    )
  }
  // Only news when the drilled backup itself was fast enough.
  if (projection && !projection.met && rto.met) {
    warnings.push(
      `projected RTO exceeded: restoring today's production size (${formatBytes(projection.productionBytes)}, ${projection.productionBackupId}) would take about ${formatSeconds(projection.projectedSeconds)}, more than the RTO target of ${formatSeconds(target)}`,
    )
  }
  if (rpo && !rpo.met) {
    warnings.push(
      `RPO not met: the newest backup was ${formatSeconds(rpo.achievedSeconds)} old at restore time, more than the RPO of ${formatSeconds(rpo.targetSeconds)} (RPO_HOURS)`,
    )
  }
  const outcome: OutcomeStatus = failed ? 'failure' : warnings.length > 0 ? 'warning' : 'success'
  return {
    format: DRILL_REPORT_FORMAT,
    kind: m.kind,
    id: m.id,
    tool: { name: 'lifeboat', version: TOOL_VERSION },
    backupId: m.backup?.id ?? null,
    backupTime: m.backup?.time.toISOString() ?? null,
    pick: m.pick,
    stores: m.stores,
    startedAt: m.startedAt.toISOString(),
    finishedAt: m.finishedAt.toISOString(),
    target: m.target,
    phases: roundPhases(m.phases),
    restorePhases: (m.restorePhases ?? []).map(({ phase, seconds }) => ({ phase, seconds: round(seconds) })),
    rto: { ...rto, measuredSeconds: measured === null ? null : round(measured) },
    rpo,
    projection,
    sizes: m.sizes,
    tables: m.tables,
    checks: m.checks,
    outcome,
    warnings,
    failedTables: [...m.failedTables],
    storage: m.storage ?? null,
    recommendation: measured === null ? null : recommendRto(measured, projection?.projectedSeconds, target),
    error: m.error ?? null,
    ...(m.accessReview ? { accessReview: m.accessReview } : {}),
  }
}

/**
 * Everything but the fixed start-up work grows with the data: the measured seconds of
 * download, verify, load, table verification and post-checks give a throughput, and the
 * difference in size between production and the restored backup is added at that rate.
 */
export function projectRestore(m: DrillMeasurements): DrillReport['projection'] {
  if (!m.production || m.restoredBytes === undefined) return null
  const { download, verify, load, verifyTables, postChecks } = m.phases
  const scaling = [download, verify, load, verifyTables, postChecks].reduce<number>(
    (sum, s) => sum + (s ?? 0),
    0,
  )
  const throughput = m.restoredBytes > 0 && scaling > 0 ? m.restoredBytes / scaling : null
  const extra = throughput === null ? 0 : (m.production.bytes - m.restoredBytes) / throughput
  const projected = Math.max(m.phases.total + extra, 0)
  return {
    productionBackupId: m.production.backupId,
    productionBytes: m.production.bytes,
    restoredBytes: m.restoredBytes,
    throughputBytesPerSecond: throughput === null ? null : Math.round(throughput),
    projectedSeconds: round(projected),
    met: projected <= m.rtoTargetSeconds,
  }
}

/** "Tighten" below 10 % of the target, "raise" above it; both leave a margin. */
export const TIGHTEN_BELOW = 0.1

export function recommendRto(measured: number, projected: number | undefined, target: number): string | null {
  const worst = Math.max(measured, projected ?? 0)
  const basis =
    projected !== undefined && projected > measured
      ? `${formatSeconds(projected)} projected for the production size (${formatSeconds(measured)} measured)`
      : `${formatSeconds(measured)} measured`
  if (worst > target) {
    return `Raise RTO_TARGET to at least ${formatSeconds(niceCeil(worst * 1.5))} (${basis}, target ${formatSeconds(target)}), or make the restore faster: a runner closer to the store, more CPU for the load, a smaller database.`
  }
  if (worst < target * TIGHTEN_BELOW) {
    return `RTO_TARGET could be tightened to ${formatSeconds(niceCeil(worst * 2))}: a restore takes ${basis}, under ${TIGHTEN_BELOW * 100} % of the ${formatSeconds(target)} target.`
  }
  return null
}

const NICE_STEPS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 14_400, 21_600, 28_800, 43_200,
  86_400,
]

/** The next round duration at or above `seconds` (1 s, 2 s, 5 s … 1 h, 2 h, 4 h … 1 d, then whole days). */
export function niceCeil(seconds: number): number {
  for (const step of NICE_STEPS) if (seconds <= step) return step
  return Math.ceil(seconds / 86_400) * 86_400
}

/**
 * The tables a failure names: a data file (`data/public.orders.ndjson`, from archive
 * verification) or a table at the start of a line (`public.orders: …`, from the load
 * and the after-load comparison).
 */
export function failedTablesOf(
  error: { message: string; details?: readonly string[] },
  tables: readonly { schema: string; name: string; file: string }[],
): string[] {
  const lines = [error.message, ...(error.details ?? [])]
  return tables
    .filter((t) => {
      const name = `${t.schema}.${t.name}`
      return lines.some(
        (line) =>
          line.includes(t.file) ||
          line.startsWith(`${name}:`) ||
          line.includes(` ${name}: `) ||
          line.includes(`(${name}:`),
      )
    })
    .map((t) => `${t.schema}.${t.name}`)
}

/** `0.42 s`, `12.3 s`, `3 min 20 s`, `2 h 05 min`, `3 d 4 h`. */
export function formatSeconds(seconds: number): string {
  if (seconds < 10) return `${Number(seconds.toFixed(seconds < 1 ? 3 : 2))} s`
  if (seconds < 60) return `${seconds.toFixed(1)} s`
  const whole = Math.round(seconds)
  if (whole < 3600)
    return whole % 60 === 0 ? `${whole / 60} min` : `${Math.floor(whole / 60)} min ${whole % 60} s`
  const minutes = Math.round(seconds / 60)
  if (minutes < 48 * 60) {
    const m = minutes % 60
    return m === 0 ? `${minutes / 60} h` : `${Math.floor(minutes / 60)} h ${String(m).padStart(2, '0')} min`
  }
  const hours = Math.round(seconds / 3600)
  return hours % 24 === 0 ? `${hours / 24} d` : `${Math.floor(hours / 24)} d ${hours % 24} h`
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000
}

function roundPhases(phases: DrillPhases): DrillPhases {
  const r = (s: number | null) => (s === null ? null : round(s))
  return {
    prepare: r(phases.prepare),
    download: r(phases.download),
    verify: r(phases.verify),
    load: r(phases.load),
    verifyTables: r(phases.verifyTables),
    postChecks: r(phases.postChecks),
    total: round(phases.total),
  }
}

// ---------------------------------------------------------------------------
// Reading reports back

/** A stored report, or why it cannot be used (history lists it as a problem). */
export function parseDrillReport(text: string, where: string): { report: DrillReport } | { problem: string } {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { problem: `${where}: not valid JSON` }
  }
  const r = value as Partial<DrillReport> | null
  if (typeof r !== 'object' || r === null || r.format !== DRILL_REPORT_FORMAT) {
    return { problem: `${where}: not a drill report of format ${DRILL_REPORT_FORMAT}` }
  }
  if (
    (r.kind !== 'drill' && r.kind !== 'dr-test') ||
    typeof r.id !== 'string' ||
    typeof r.startedAt !== 'string'
  ) {
    return { problem: `${where}: lacks kind, id or startedAt` }
  }
  if (typeof r.rto !== 'object' || r.rto === null || typeof r.phases !== 'object' || r.phases === null) {
    return { problem: `${where}: lacks rto or phases` }
  }
  return { report: r as DrillReport }
}
