// What a job reports when it ends: the one shape every job hands to the alert path
// (Slack, e-mail, PagerDuty, heartbeat) and prints as its JSON summary. Pure.
import { toLifeboatError } from '../core/errors.ts'
import { redact } from '../core/secret.ts'

export const JOB_NAMES = [
  'backup',
  'restore',
  'verify',
  'clean',
  'monitor',
  'drill',
  'dr-test',
  'alert-test',
] as const
export type JobName = (typeof JOB_NAMES)[number]

/** `warning`: the job did its work but something needs a look (anomalies, RTO exceeded). */
export type OutcomeStatus = 'success' | 'warning' | 'failure'

export interface OutcomeError {
  code: string
  message: string
  hint: string
  /** Repository-relative runbook path with anchor, e.g. `runbooks/troubleshooting.md#store-unreachable`. */
  runbook: string
}

/** The CI run that produced the outcome, so a person can open its log. */
export interface RunInfo {
  url: string
  actor?: string
  repository?: string
  runId?: string
  workflow?: string
}

export interface JobOutcome {
  job: JobName
  status: OutcomeStatus
  environment: string
  startedAt: Date
  finishedAt: Date
  backupId?: string
  /** Printable location of the backup (`s3://bucket/prefix/…`), never with credentials. */
  location?: string
  bytes?: number
  rows?: number
  tables?: number
  warnings: string[]
  error?: OutcomeError
  run?: RunInfo
  /** Further facts worth showing (e.g. `{ 'RTO': '42 s', 'newest backup age': '26 h' }`). */
  details?: Readonly<Record<string, string | number>>
}

/** An outcome before the alert path names its environment (`ALERT_ENVIRONMENT`). */
export type OutcomeInput = Omit<JobOutcome, 'environment'> & { environment?: string }

export type OutcomeFacts = Partial<
  Pick<JobOutcome, 'backupId' | 'location' | 'bytes' | 'rows' | 'tables' | 'details' | 'run'>
>

/** The outcome of a job that threw `error` (failure) or finished with `warnings` (or none). */
export function buildOutcome(
  input: {
    job: JobName
    startedAt: Date
    finishedAt: Date
    error?: unknown
    warnings?: readonly string[]
  } & OutcomeFacts,
): OutcomeInput {
  const { error, warnings = [], ...rest } = input
  const outcome: OutcomeInput = {
    ...rest,
    status: error === undefined ? statusOf(warnings) : 'failure',
    warnings: [...warnings],
  }
  if (error !== undefined) outcome.error = describeError(error)
  return outcome
}

/** Turns anything thrown into the outcome's error fields, with secrets scrubbed. */
export function describeError(error: unknown): OutcomeError {
  const failure = toLifeboatError(error)
  return {
    code: failure.code,
    message: redact(failure.message),
    hint: failure.hint,
    runbook: failure.runbook,
  }
}

/** Success, or warning when there is something to look at. */
export function statusOf(warnings: readonly string[]): 'success' | 'warning' {
  return warnings.length > 0 ? 'warning' : 'success'
}
