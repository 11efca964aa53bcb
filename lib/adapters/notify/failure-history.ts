// Where the consecutive-failure count lives between runs: the store's state/status.json,
// the previous runs of the same GitHub workflow, and a local state file (docs/alerts.md).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type { Readable } from 'node:stream'
import {
  combineHistories,
  dedupKeyFor,
  type FailureHistory,
  PAGE_AFTER_FAILURES,
} from '../../alerts/escalation.ts'
import type { JobName, OutcomeStatus } from '../../alerts/outcome.ts'
import { STATUS_KEY } from '../../archive/layout.ts'
import type { GitHubRunsConfig, HistoryConfig } from '../../core/alert-config.ts'
import { isLifeboatError } from '../../core/errors.ts'
import { redact } from '../../core/secret.ts'
import type { Store } from '../store/store.ts'
import { type Fetch, sendHttp } from './http.ts'

/** One job's entry in `state/status.json`. */
export interface JobStatusRecord {
  environment: string
  consecutiveFailures: number
  pageOpen: boolean
  dedupKey: string
  lastStatus: OutcomeStatus
  lastSuccessAt?: string
  lastFailureAt?: string
  updatedAt: string
}

export interface StatusDocument {
  version: 1
  jobs: Partial<Record<string, JobStatusRecord>>
}

export type HistorySourceName = 'store' | 'github' | 'local'

export interface HistorySourceReport {
  source: HistorySourceName
  /** `absent`: reachable, nothing recorded yet; `unavailable`: could not be read or written. */
  status: 'ok' | 'absent' | 'unavailable' | 'not configured'
  consecutiveFailures?: number
  pageOpen?: boolean
  error?: string
  /** How an answer was read, e.g. a 403 taken as a file not written yet. */
  note?: string
}

export interface HistoryDeps {
  store?: Store
  fetch?: Fetch
  config: HistoryConfig
  /** Bounds every store and API call: an unreachable store must not hold the alerts. */
  timeoutMs: number
  now?: () => Date
}

export interface OpenedHistory {
  history: FailureHistory
  sources: HistorySourceReport[]
  /** Writes the job's new record to the store (when it answered) and the local file. */
  save(next: FailureHistory, status: OutcomeStatus): Promise<HistorySourceReport[]>
}

/** Reads every available source and combines them; never throws. */
export async function openFailureHistory(
  deps: HistoryDeps,
  job: JobName,
  environment: string,
): Promise<OpenedHistory> {
  const localPath = resolve(deps.config.stateFile)
  const [store, github, local] = await Promise.all([
    readStoreDocument(deps),
    readGitHubFailures(deps, deps.config.github),
    readLocalDocument(localPath),
  ])
  const reads = [
    ['store', store],
    ['local', local],
  ] as const
  const saved = reads
    .map(([, read]) => read.document?.jobs[job])
    .filter((r): r is JobStatusRecord => r?.environment === environment)
  const sources = reads.map(([source, read]) => sourceReport(source, read, job, environment))
  sources.push(github.report)
  const history = combineHistories(saved, github.failures)
  const previous = [...saved].sort((a, b) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt))[0]
  const save = async (next: FailureHistory, status: OutcomeStatus): Promise<HistorySourceReport[]> => {
    const record = nextRecord(deps, { job, environment, previous }, next, status)
    const withRecord = (document: StatusDocument | undefined): string =>
      `${JSON.stringify({ version: 1, jobs: { ...document?.jobs, [job]: record } } satisfies StatusDocument, null, 2)}\n`
    return [
      await writeStoreDocument(deps, store, withRecord(store.document)),
      await writeLocalDocument(localPath, withRecord(local.document)),
    ]
  }
  return { history, sources, save }
}

/** What one saved source said about this job in this environment. */
function sourceReport(
  source: 'store' | 'local',
  read: DocumentRead,
  job: JobName,
  environment: string,
): HistorySourceReport {
  const record = read.document?.jobs[job]
  const usable = record && record.environment === environment ? record : undefined
  if (read.error !== undefined) return { source, status: read.status, error: read.error }
  if (usable) {
    return {
      source,
      status: 'ok',
      consecutiveFailures: usable.consecutiveFailures,
      pageOpen: usable.pageOpen,
    }
  }
  return {
    source,
    status: read.status === 'ok' ? 'absent' : read.status,
    ...(read.note ? { note: read.note } : {}),
  }
}

function nextRecord(
  deps: HistoryDeps,
  run: { job: JobName; environment: string; previous: JobStatusRecord | undefined },
  next: FailureHistory,
  status: OutcomeStatus,
): JobStatusRecord {
  const now = (deps.now ?? (() => new Date()))().toISOString()
  const { previous } = run
  const record: JobStatusRecord = {
    environment: run.environment,
    consecutiveFailures: next.consecutiveFailures,
    pageOpen: next.pageOpen,
    dedupKey: dedupKeyFor(run.job, run.environment),
    lastStatus: status,
    ...(previous?.lastSuccessAt ? { lastSuccessAt: previous.lastSuccessAt } : {}),
    ...(previous?.lastFailureAt ? { lastFailureAt: previous.lastFailureAt } : {}),
    updatedAt: now,
  }
  if (status === 'failure') record.lastFailureAt = now
  else record.lastSuccessAt = now
  return record
}

async function writeStoreDocument(
  deps: HistoryDeps,
  read: DocumentRead,
  text: string,
): Promise<HistorySourceReport> {
  const target = deps.store
  if (!target) return { source: 'store', status: 'not configured' }
  if (read.status === 'unavailable' && !read.corrupt) {
    // It did not answer a moment ago; a second wait would only delay the alerts.
    return { source: 'store', status: 'unavailable', error: 'skipped: the store did not answer the read' }
  }
  return bounded(deps.timeoutMs, () =>
    target.put(STATUS_KEY, text, { contentType: 'application/json' }),
  ).then(
    () => ({ source: 'store', status: 'ok' }) as const,
    (error: unknown) => ({ source: 'store', status: 'unavailable', error: describe(error) }) as const,
  )
}

async function writeLocalDocument(localPath: string, text: string): Promise<HistorySourceReport> {
  try {
    await mkdir(dirname(localPath), { recursive: true })
    const partial = `${localPath}.partial-${process.pid}`
    await writeFile(partial, text)
    await rename(partial, localPath)
    return { source: 'local', status: 'ok' }
  } catch (error) {
    return { source: 'local', status: 'unavailable', error: describe(error) }
  }
}

interface DocumentRead {
  status: 'ok' | 'unavailable' | 'not configured'
  document?: StatusDocument
  error?: string
  /** Read, but not JSON we understand: overwrite it rather than keep failing. */
  corrupt?: boolean
  /** Why an unreadable file was taken as absent. */
  note?: string
}

async function readStoreDocument(deps: HistoryDeps): Promise<DocumentRead> {
  const store = deps.store
  if (!store) return { status: 'not configured' }
  let text: string
  try {
    text = await bounded(deps.timeoutMs, async () => readText(await store.get(STATUS_KEY)))
  } catch (error) {
    if (isLifeboatError(error) && error.code === 'BACKUP_NOT_FOUND') return { status: 'ok' }
    // S3 answers a missing key with 403, not 404, to a role that may not list the key: the
    // pipeline roles may get and put state/status.json but list only their own prefixes. So a
    // 403 here is "not written yet" (each role's policy grants GetObject on the file, which
    // test/infra/store-calls.test.ts holds it to); the save writes it. Never 'unavailable':
    // that would skip the save, and the file would never be created.
    if (isLifeboatError(error) && error.code === 'STORE_FORBIDDEN') {
      return { status: 'ok', note: `read refused (403), taken as not written yet: ${describe(error)}` }
    }
    return { status: 'unavailable', error: describe(error) }
  }
  return parseDocument(text)
}

async function readLocalDocument(path: string): Promise<DocumentRead> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'ok' }
    return { status: 'unavailable', error: describe(error) }
  }
  return parseDocument(text)
}

function parseDocument(text: string): DocumentRead {
  try {
    const parsed = JSON.parse(text) as Partial<StatusDocument>
    if (
      typeof parsed !== 'object' ||
      parsed === null ||
      typeof parsed.jobs !== 'object' ||
      parsed.jobs === null
    ) {
      throw new Error('no "jobs" object')
    }
    const jobs: StatusDocument['jobs'] = {}
    for (const [name, record] of Object.entries(parsed.jobs)) {
      if (isRecord(record)) jobs[name] = record
    }
    return { status: 'ok', document: { version: 1, jobs } }
  } catch (error) {
    return {
      status: 'unavailable',
      corrupt: true,
      error: `status file is not valid: ${(error as Error).message}`,
    }
  }
}

function isRecord(value: unknown): value is JobStatusRecord {
  const record = value as Partial<JobStatusRecord> | null
  return (
    typeof record === 'object' &&
    record !== null &&
    typeof record.environment === 'string' &&
    typeof record.consecutiveFailures === 'number' &&
    Number.isInteger(record.consecutiveFailures) &&
    record.consecutiveFailures >= 0 &&
    typeof record.pageOpen === 'boolean' &&
    typeof record.updatedAt === 'string' &&
    !Number.isNaN(Date.parse(record.updatedAt))
  )
}

/** The fields of a workflow run the count needs (GitHub REST "list workflow runs"). */
export interface WorkflowRun {
  id: number
  status: string
  conclusion: string | null
  created_at: string
}

// Conclusions that are the job not doing its work. `cancelled` counts: a scheduled run
// that was cancelled (most often by its job timeout) is a missed backup, and the
// workflows' own fallback alert counts it too; were the two counts to differ, a page
// the fallback opened would never be resolved. `skipped` and the like neither count
// nor break the streak.
const FAILED_CONCLUSIONS: ReadonlySet<string> = new Set([
  'failure',
  'timed_out',
  'startup_failure',
  'cancelled',
])

/** Failed completed runs before this one, newest first, up to the newest success. */
export function countFailedRuns(runs: readonly WorkflowRun[], currentRunId?: string): number {
  const sorted = [...runs]
    .filter((run) => run.status === 'completed' && String(run.id) !== currentRunId)
    .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at))
  let failures = 0
  for (const run of sorted) {
    if (run.conclusion === 'success') break
    if (run.conclusion && FAILED_CONCLUSIONS.has(run.conclusion)) failures++
  }
  return failures
}

// 30 runs reach well past the paging threshold; more would only cost rate limit.
const RUNS_PER_PAGE = 30

async function readGitHubFailures(
  deps: HistoryDeps,
  github: GitHubRunsConfig | undefined,
): Promise<{ failures?: number; report: HistorySourceReport }> {
  if (!github) return { report: { source: 'github', status: 'not configured' } }
  const query = new URLSearchParams({ status: 'completed', per_page: String(RUNS_PER_PAGE) })
  if (github.branch) query.set('branch', github.branch)
  const url = `${github.apiUrl}/repos/${encodeURIComponent(github.owner)}/${encodeURIComponent(github.repo)}/actions/workflows/${encodeURIComponent(github.workflow)}/runs?${query}`
  try {
    const answer = await sendHttp(
      'The GitHub API',
      url,
      {
        method: 'GET',
        headers: {
          accept: 'application/vnd.github+json',
          authorization: `Bearer ${github.token.reveal()}`,
          'x-github-api-version': '2022-11-28',
        },
      },
      { ...(deps.fetch ? { fetch: deps.fetch } : {}), signal: AbortSignal.timeout(deps.timeoutMs) },
    )
    const body = JSON.parse(answer.body) as { workflow_runs?: WorkflowRun[] }
    if (!Array.isArray(body.workflow_runs)) throw new Error('the answer has no workflow_runs')
    const failures = countFailedRuns(body.workflow_runs, github.runId)
    return {
      failures,
      report: {
        source: 'github',
        status: 'ok',
        consecutiveFailures: failures,
        pageOpen: failures >= PAGE_AFTER_FAILURES,
      },
    }
  } catch (error) {
    return { report: { source: 'github', status: 'unavailable', error: describe(error) } }
  }
}

async function readText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string))
  return Buffer.concat(chunks).toString('utf8')
}

// The Store interface takes no AbortSignal; racing a timer keeps a hung endpoint from
// holding the job (the abandoned call finishes or fails on its own later).
async function bounded<T>(ms: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
    timer.unref()
  })
  try {
    return await Promise.race([work(), timeout])
  } finally {
    clearTimeout(timer)
  }
}

function describe(error: unknown): string {
  const text = isLifeboatError(error)
    ? `${error.code}: ${error.message}`
    : error instanceof Error
      ? error.message
      : String(error)
  return redact(text)
}
