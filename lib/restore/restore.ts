// The restore, whatever the target: one pipeline of named phases. The archive is found
// and authenticated (its signed sidecar or manifest), the target is checked, then the
// load runs in whatever makes that target all-or-nothing, each file checked against the
// manifest as it is read (one pass; the whole archive first where that is not enough),
// and the target is proven against the manifest before it is made visible. Any failure undoes.
import type { Transform } from 'node:stream'
import type { ArchiveSourceDeps, LocalArchive } from '../archive/fetch.ts'
import type { Manifest } from '../archive/manifest.ts'
import type { VerifiedArchiveCursor } from '../archive/verified-cursor.ts'
import { PhaseError, type PhaseTiming, runPhases, secondsOf } from '../core/pipeline.ts'
import type { Selection } from '../core/selection.ts'
import type { SignatureCheck } from '../trust/backup-signature.ts'
import { RESTORE_PHASES } from './phases.ts'
import type { RestorePlan, RestoreTarget, TableOutcome } from './target.ts'

export interface RestoreDeps extends ArchiveSourceDeps {
  /** age decryption of the archive stream; throws DECRYPT_FAILED when no identity is configured. */
  decrypt: (name: string) => Transform
  /** Aborts the restore (SIGINT, SIGTERM, a deadline): everything written is undone. */
  signal?: AbortSignal
}

export interface RestoreOptions {
  /** A local path, `s3://` URL or key, `latest`, `YYYY-MM-DD` or a backup id. */
  what: string
  createSchema: boolean
  truncate: boolean
  /** -n/-t subset; undefined restores every table of the archive. */
  selection?: Selection | undefined
  /** Prove every restored table against the manifest before it is made visible (default on). */
  verify: boolean
}

/** What every restore reports; the target adds what is particular to it. */
export interface RestoreSummary {
  id: string
  source: string
  tables: TableOutcome[]
  rows: number
  verified: boolean
  truncated: boolean
  archiveBytes: number
  /** Temporary disk the restore used: the downloaded archive (0 for a local file). */
  tempBytes: number
  /**
   * Grouped for reports and the drill's RTO breakdown; `phases` has each phase.
   * `verifyArchive`: the checks before the first write (the full pass when one runs,
   * and schema.sql / roles.sql); the data files are checked inside `load`.
   */
  seconds: { download: number; verifyArchive: number; load: number; verifyTables: number; total: number }
  phases: PhaseTiming[]
  /** `verified` (by which key) or `unsigned` (let through by --allow-unsigned). */
  signature: { status: 'verified'; keyId: string } | { status: 'unsigned'; reason: string }
  warnings: string[]
}

/** What the phases share: each reads what earlier ones set. */
export interface RestoreContext {
  deps: RestoreDeps
  options: RestoreOptions
  target: RestoreTarget
  warnings: string[]
  /** Set by `download`. */
  archive?: LocalArchive
  /** Set by `verify-archive`, or by `open-archive` from the signed sidecar. */
  manifest?: Manifest
  schemaSql?: string | undefined
  rolesSql?: string | undefined
  /** How the backup was authenticated (signature verified, or unsigned and allowed). */
  authenticity?: SignatureCheck
  /** Set by `verify-archive`: the archive was read and checked whole before anything was written. */
  verifiedWhole?: boolean
  /** Set by `open-archive`: the one read the load pulls the data files from. */
  cursor?: VerifiedArchiveCursor
  /** Set by `check-target`. */
  plan?: RestorePlan
  /** Filled by `load`, completed by `prove`. */
  outcomes: Map<string, TableOutcome>
}

/** Where the grouped seconds come from. */
const LOAD_PHASES = ['begin', 'load', 'post-data', 'constraints', 'sequences', 'commit']

export async function restoreInto<R extends object>(
  deps: RestoreDeps,
  target: RestoreTarget & { report(): R },
  options: RestoreOptions,
): Promise<RestoreSummary & R> {
  const warnings: string[] = []
  const emit: RestoreDeps['emit'] = (event) => {
    if (event.type === 'warning') warnings.push(event.message)
    deps.emit(event)
  }
  const context: RestoreContext = {
    deps: { ...deps, emit },
    options,
    target,
    warnings,
    outcomes: new Map(),
  }
  const signal = deps.signal ?? new AbortController().signal
  try {
    const run = await runPhases(RESTORE_PHASES, context, { signal, emit })
    const plan = context.plan!
    const tables = plan.tables.map((t) => context.outcomes.get(`${t.schema}.${t.name}`)!)
    return {
      id: plan.manifest.id,
      source: context.archive!.where,
      tables,
      rows: tables.reduce((n, t) => n + t.rowsLoaded, 0),
      verified: options.verify,
      truncated: plan.truncate,
      archiveBytes: context.archive!.bytes,
      tempBytes: context.archive!.tempBytes,
      seconds: {
        download: secondsOf(run.timings, ['download']),
        verifyArchive: secondsOf(run.timings, ['verify-archive', 'open-archive']),
        load: secondsOf(run.timings, LOAD_PHASES),
        verifyTables: secondsOf(run.timings, ['prove']),
        total: run.seconds,
      },
      phases: run.timings,
      signature: signatureOf(context.authenticity!),
      warnings,
      ...target.report(),
    }
  } catch (error) {
    if (!(error instanceof PhaseError)) throw error
    // The target knows what it wrote and how to take it back, and says so.
    throw await target.rollback(error.cause, error.phase)
  } finally {
    await target.close()
  }
}

function signatureOf(check: SignatureCheck): RestoreSummary['signature'] {
  return check.status === 'verified'
    ? { status: 'verified', keyId: check.keyId }
    : { status: 'unsigned', reason: check.reason }
}
