// Parsers for the settings added to harden the stack: which part a stack is (infrastructure or
// secrets), the replica, the CloudTrail and alarm settings, the GitHub repository settings and
// the environments. Each pushes its problems to the shared list, as settings.ts does.
import { GitHubEnvironment, type GitHubEnvironmentName } from '../lib/core/stack-outputs.ts'
import type { EnvironmentSettings, ObjectLockMode } from './settings.ts'

/**
 * `infrastructure` holds no secret, so pull requests can preview it with a token that decrypts
 * nothing worth having; `secrets` holds only the GitHub Actions secrets and is never previewed
 * by a pull request (docs/infrastructure.md "Two stacks").
 */
export type StackPart = 'infrastructure' | 'secrets'

export interface GitHubSettings {
  owner: string
  repository: string
  workflowBranch: string
  /**
   * Commit .github/workflows to `workflowBranch` from the stack (RepositoryFile). Off by default:
   * the branch ruleset lets changes reach the branch only through reviewed pull requests.
   */
  syncWorkflowFiles: boolean
  /** Status checks the default branch ruleset requires before a merge. */
  requiredChecks: string[]
}

export interface ReplicaSettings {
  region: string
  bucketName: string
  /** A role in the replica's account that `pulumi up` assumes to create the replica bucket. */
  deployRoleArn?: string
  /** The replica's account, when it is another one (objects are then owned by it). */
  accountId?: string
  objectLock: { mode: ObjectLockMode; days: number }
  kmsKeyArn?: string
  /** Deletes are not replicated: the replica's lifecycle expires current backups after this many days. */
  expirationDays: number
  /** Backups older than this and missing from the replica make the monitor warn. */
  lagHours: number
}

export interface MonitoringSettings {
  /** CloudTrail data events on the bucket: object writes and deletes, or reads too. */
  dataEvents: 'write' | 'all'
  /** Who receives the alarm on bucket policy, lifecycle, Object Lock, versioning changes. */
  alarmEmails: string[]
  /** Days the trail's logs are kept. */
  logRetentionDays: number
}

export const DEFAULT_CHECKS = ['Typecheck, lint, test']

export function parsePart(value: string | undefined, problems: string[]): StackPart {
  if (value === undefined || value === 'infrastructure') return 'infrastructure'
  if (value === 'secrets') return 'secrets'
  problems.push(`lifeboat:part must be infrastructure or secrets, got "${value}"`)
  return 'infrastructure'
}

export function parseGitHub(raw: Record<string, unknown> | undefined, problems: string[]): GitHubSettings {
  const github = raw ?? {}
  const owner = typeof github.owner === 'string' ? github.owner : ''
  const repository = typeof github.repository === 'string' ? github.repository : ''
  const workflowBranch = typeof github.workflowBranch === 'string' ? github.workflowBranch : 'main'
  const checks = github.requiredChecks ?? DEFAULT_CHECKS
  if (raw !== undefined) {
    if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(owner))
      problems.push('lifeboat:github.owner must be a GitHub user or organization')
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(repository))
      problems.push('lifeboat:github.repository must be a repository name (without the owner)')
    if (!workflowBranch) problems.push('lifeboat:github.workflowBranch must not be empty')
    if (github.syncWorkflowFiles !== undefined && typeof github.syncWorkflowFiles !== 'boolean')
      problems.push('lifeboat:github.syncWorkflowFiles must be true or false')
    if (!Array.isArray(checks) || !checks.every((c) => typeof c === 'string' && c.length > 0))
      problems.push('lifeboat:github.requiredChecks must be a list of status check names')
  }
  return {
    owner,
    repository,
    workflowBranch,
    syncWorkflowFiles: github.syncWorkflowFiles === true,
    requiredChecks: Array.isArray(checks) ? checks.filter((c): c is string => typeof c === 'string') : [],
  }
}

export function parseReplica(
  raw: Record<string, unknown> | undefined,
  primary: { region: string; bucketName: string; prefix: string; kmsKeyArn?: string | undefined },
  problems: string[],
): ReplicaSettings | undefined {
  if (raw === undefined || raw.enabled === false) return undefined
  const where = 'lifeboat:replica'
  const text = (field: string): string | undefined =>
    typeof raw[field] === 'string' && raw[field] !== '' ? (raw[field] as string) : undefined
  const region = text('region') ?? ''
  const bucketName = text('bucketName') ?? ''
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) problems.push(`${where}.region must be an AWS region`)
  else if (region === primary.region)
    problems.push(
      `${where}.region must differ from aws:region: a second copy in the same region shares its fate`,
    )
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucketName) || bucketName === primary.bucketName)
    problems.push(`${where}.bucketName must be a valid bucket name other than the primary's`)
  const deployRoleArn = text('deployRoleArn')
  if (deployRoleArn && !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(deployRoleArn))
    problems.push(`${where}.deployRoleArn must be an IAM role ARN`)
  const accountId = text('accountId')
  if (accountId && !/^\d{12}$/.test(accountId))
    problems.push(`${where}.accountId must be a 12-digit account id`)
  // S3 replication keeps each object's key, so the replica holds the primary's prefix; another
  // one would aim the reader's grants, the replica's lifecycle and BACKUP_REPLICA_STORE at nothing.
  if (raw.prefix !== undefined && raw.prefix !== primary.prefix)
    problems.push(
      `${where}.prefix must be left out (or equal lifeboat:prefix): replication keeps the primary's keys, so the replica has the same prefix`,
    )
  const kmsKeyArn = text('kmsKeyArn')
  if (kmsKeyArn && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(kmsKeyArn))
    problems.push(`${where}.kmsKeyArn must be a KMS key ARN`)
  // S3 replicates SSE-KMS objects only when the rule names the key to re-encrypt them with, and
  // a key lives in one region: without it the replication rule is refused at deploy time.
  if (primary.kmsKeyArn && !kmsKeyArn)
    problems.push(
      `${where}.kmsKeyArn must name a key in ${region || 'the replica region'} when lifeboat:kmsKeyArn is set: S3 replicates SSE-KMS backups only into a replica key`,
    )
  const lock = (raw.objectLock ?? { mode: 'compliance', days: 35 }) as Record<string, unknown>
  const mode = String(lock.mode ?? 'off').toLowerCase()
  const days = Number(lock.days ?? 0)
  if (mode !== 'off' && mode !== 'governance' && mode !== 'compliance')
    problems.push(`${where}.objectLock.mode must be off, governance or compliance`)
  else if (mode !== 'off' && (!Number.isInteger(days) || days < 1 || days > 36500))
    problems.push(`${where}.objectLock.days must be a whole number from 1 to 36500`)
  const whole = (field: string, fallback: number, min: number, max: number): number => {
    const value = raw[field] ?? fallback
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      problems.push(`${where}.${field} must be a whole number from ${min} to ${max}`)
      return fallback
    }
    return value
  }
  const expirationDays = whole('expirationDays', 400, 30, 36500)
  if (mode !== 'off' && days > expirationDays)
    problems.push(`${where}.expirationDays must be at least objectLock.days`)
  return {
    region,
    bucketName,
    ...(deployRoleArn ? { deployRoleArn } : {}),
    ...(accountId ? { accountId } : {}),
    objectLock: { mode: mode as ObjectLockMode, days: mode === 'off' ? 0 : days },
    ...(kmsKeyArn ? { kmsKeyArn } : {}),
    expirationDays,
    lagHours: whole('lagHours', 6, 1, 168),
  }
}

export function parseMonitoring(
  raw: Record<string, unknown> | undefined,
  oncallEmail: string | undefined,
  problems: string[],
): MonitoringSettings {
  const monitoring = raw ?? {}
  const dataEvents = monitoring.dataEvents ?? 'write'
  if (dataEvents !== 'write' && dataEvents !== 'all')
    problems.push('lifeboat:monitoring.dataEvents must be write or all')
  const emails = monitoring.alarmEmails ?? (oncallEmail ? oncallEmail.split(',').map((e) => e.trim()) : [])
  if (!Array.isArray(emails) || !emails.every((e) => typeof e === 'string' && /^[^@\s]+@[^@\s]+$/.test(e)))
    problems.push('lifeboat:monitoring.alarmEmails must be a list of e-mail addresses')
  else if (emails.length === 0)
    problems.push(
      'lifeboat:monitoring.alarmEmails (or lifeboat:alerts.oncallEmail) must name who hears of bucket policy changes',
    )
  const retention = monitoring.logRetentionDays ?? 400
  if (typeof retention !== 'number' || !Number.isInteger(retention) || retention < 90 || retention > 3650)
    problems.push('lifeboat:monitoring.logRetentionDays must be a whole number from 90 to 3650')
  return {
    dataEvents: dataEvents === 'all' ? 'all' : 'write',
    alarmEmails: Array.isArray(emails) ? emails.filter((e): e is string => typeof e === 'string') : [],
    logRetentionDays: typeof retention === 'number' ? retention : 400,
  }
}

const DEFAULT_ENVIRONMENT: EnvironmentSettings = {
  branches: ['main'],
  reviewers: { users: [], teams: [] },
  waitTimerMinutes: 0,
}

export function parseEnvironments(
  raw: Record<string, unknown>,
  problems: string[],
): Record<GitHubEnvironmentName, EnvironmentSettings> {
  const known = Object.values(GitHubEnvironment) as string[]
  for (const name of Object.keys(raw)) {
    if (!known.includes(name)) {
      problems.push(`lifeboat:environments.${name} is not an environment Lifeboat uses (${known.join(', ')})`)
    }
  }
  const result = {} as Record<GitHubEnvironmentName, EnvironmentSettings>
  for (const name of Object.values(GitHubEnvironment)) {
    const entry = raw[name]
    if (entry === undefined) {
      result[name] = structuredClone(DEFAULT_ENVIRONMENT)
      continue
    }
    const where = `lifeboat:environments.${name}`
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      problems.push(`${where} must be an object`)
      result[name] = structuredClone(DEFAULT_ENVIRONMENT)
      continue
    }
    const e = entry as Record<string, unknown>
    const branches = Array.isArray(e.branches) ? e.branches : ['main']
    if (branches.length === 0 || !branches.every((b) => typeof b === 'string' && b.length > 0)) {
      problems.push(`${where}.branches must be a non-empty list of branch name patterns`)
    }
    const reviewers = (e.reviewers ?? {}) as Record<string, unknown>
    const ids = (field: string): number[] => {
      const list = reviewers[field] ?? []
      if (!Array.isArray(list) || !list.every((id) => Number.isInteger(id))) {
        problems.push(`${where}.reviewers.${field} must be a list of numeric GitHub ids`)
        return []
      }
      return list as number[]
    }
    const waitTimerMinutes = e.waitTimerMinutes === undefined ? 0 : Number(e.waitTimerMinutes)
    if (!Number.isInteger(waitTimerMinutes) || waitTimerMinutes < 0 || waitTimerMinutes > 43200) {
      problems.push(`${where}.waitTimerMinutes must be a whole number of minutes up to 43200`)
    }
    result[name] = {
      branches: branches.filter((b): b is string => typeof b === 'string'),
      reviewers: { users: ids('users'), teams: ids('teams') },
      waitTimerMinutes: Number.isInteger(waitTimerMinutes) ? waitTimerMinutes : 0,
    }
  }
  return result
}
