// Escalation rules as a pure function: given how a job ended and what came before,
// which channels to use and what to remember for the next run (docs/alerts.md). Pure.
import type { JobName, JobOutcome } from './outcome.ts'

/** The run that fails this many times in a row (and every one after) pages on-call. */
export const PAGE_AFTER_FAILURES = 2

export interface FailureHistory {
  /** Failures in a row before (or, in `next`, including) this run. */
  consecutiveFailures: number
  /** A page was triggered and has not been resolved yet. */
  pageOpen: boolean
}

export type SlackTone = 'success' | 'warning' | 'failure'
export type PageSeverity = 'critical' | 'error'

export type AlertAction =
  | { type: 'slack'; tone: SlackTone }
  | { type: 'email' }
  | { type: 'heartbeat' }
  | { type: 'page-trigger'; dedupKey: string; severity: PageSeverity }
  | { type: 'page-resolve'; dedupKey: string }

export interface AlertDecision {
  actions: AlertAction[]
  next: FailureHistory
}

export const NO_FAILURES: FailureHistory = { consecutiveFailures: 0, pageOpen: false }

/** One PagerDuty alert per job and environment: repeated failures update it, a success resolves it. */
export function dedupKeyFor(job: JobName, environment: string): string {
  return `lifeboat/${job}/${environment}`
}

// A job that guards the data itself (no fresh backup, no restore) wakes someone up;
// the rest page at `error`, which services usually route to low urgency.
const CRITICAL_JOBS: ReadonlySet<JobName> = new Set(['backup', 'monitor', 'restore'])

export function severityFor(job: JobName): PageSeverity {
  return CRITICAL_JOBS.has(job) ? 'critical' : 'error'
}

export function toneOf(outcome: Pick<JobOutcome, 'status' | 'warnings'>): SlackTone {
  if (outcome.status === 'failure') return 'failure'
  return outcome.status === 'warning' || outcome.warnings.length > 0 ? 'warning' : 'success'
}

/** What one saved status record (store or local file) says about a job. */
export interface SavedHistory extends FailureHistory {
  /** ISO time of the run that wrote it. */
  updatedAt: string
}

/**
 * Combines the sources of the failure count (docs/alerts.md): of the saved records
 * the most recently written wins (an older copy missed the runs after it); the count of
 * failed workflow runs from GitHub is a floor, because it needs neither store nor disk.
 */
export function combineHistories(saved: readonly SavedHistory[], githubFailures?: number): FailureHistory {
  let freshest: SavedHistory | undefined
  for (const record of saved) {
    if (!freshest || Date.parse(record.updatedAt) > Date.parse(freshest.updatedAt)) freshest = record
  }
  const fromGitHub = githubFailures ?? 0
  return {
    consecutiveFailures: Math.max(freshest?.consecutiveFailures ?? 0, fromGitHub),
    pageOpen: (freshest?.pageOpen ?? false) || fromGitHub >= PAGE_AFTER_FAILURES,
  }
}

/**
 * success / warning → Slack (success or warning), heartbeat, resolve an open page;
 * failure → Slack failure and e-mail; the PAGE_AFTER_FAILURES-th failure in a row and
 * every one after → also a PagerDuty trigger (same dedup key, so it updates one alert).
 */
export function decideAlerts(
  outcome: Pick<JobOutcome, 'job' | 'status' | 'environment' | 'warnings'>,
  history: FailureHistory,
): AlertDecision {
  const dedupKey = dedupKeyFor(outcome.job, outcome.environment)
  const tone = toneOf(outcome)
  if (tone !== 'failure') {
    const actions: AlertAction[] = [{ type: 'slack', tone }, { type: 'heartbeat' }]
    // After the paging threshold a page was at least attempted, even if the record of it was lost.
    if (history.pageOpen || history.consecutiveFailures >= PAGE_AFTER_FAILURES) {
      actions.push({ type: 'page-resolve', dedupKey })
    }
    return { actions, next: { ...NO_FAILURES } }
  }
  const consecutiveFailures = Math.max(0, history.consecutiveFailures) + 1
  const actions: AlertAction[] = [{ type: 'slack', tone: 'failure' }, { type: 'email' }]
  const page = consecutiveFailures >= PAGE_AFTER_FAILURES
  if (page) actions.push({ type: 'page-trigger', dedupKey, severity: severityFor(outcome.job) })
  return { actions, next: { consecutiveFailures, pageOpen: history.pageOpen || page } }
}

/**
 * The history to save once the actions were tried: a resolve that did not reach PagerDuty
 * leaves the page open, so the next run that succeeds sends it again (otherwise the
 * incident would stay open, escalating, for ever). `delivered[i]` answers `actions[i]`.
 */
export function historyAfterDelivery(
  next: FailureHistory,
  actions: readonly AlertAction[],
  delivered: readonly { status: 'sent' | 'failed' | 'skipped' }[],
): FailureHistory {
  const resolveLost = actions.some((a, i) => a.type === 'page-resolve' && delivered[i]?.status === 'failed')
  return resolveLost ? { ...next, pageOpen: true } : next
}
