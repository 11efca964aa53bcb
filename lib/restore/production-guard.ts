// Whether a target may be written at all: production (the backup's source, the
// databases the environment names, a marked database) needs --confirm. Pure.
import { LifeboatError } from '../core/errors.ts'
import { normaliseHost } from '../trust/endpoint.ts'

export interface Endpoint {
  host: string
  /** Unknown for a manifest's source (it records host and database only). */
  port?: number
  database: string
  user?: string
}

/** One spelling per host: every loopback spelling is this machine, IP forms normalised. */
function canonicalHost(host: string): string {
  const normal = normaliseHost(host)
  return normal.local && normal.hostKind !== 'socket' ? 'localhost' : normal.host
}

/**
 * Whether two endpoints name the same database. Supabase's poolers serve many
 * projects on one host and tell them apart by the user (`postgres.<project ref>`),
 * so where both users carry a project ref, the refs must agree too.
 */
export function sameDatabase(a: Endpoint, b: Endpoint): boolean {
  if (canonicalHost(a.host) !== canonicalHost(b.host) || a.database !== b.database) return false
  if (a.port !== undefined && b.port !== undefined && a.port !== b.port) return false
  const ref = (user: string | undefined) =>
    user?.includes('.') ? user.slice(user.indexOf('.') + 1) : undefined
  const refA = ref(a.user)
  const refB = ref(b.user)
  return refA === undefined || refB === undefined || refA === refB
}

export const PRODUCTION_MARKER = 'lifeboat.environment'

/**
 * Why the target counts as production (empty when it does not): it is the backup's
 * source, it is the source the environment names, or the database is marked
 * `ALTER DATABASE … SET lifeboat.environment = 'production'`.
 */
export function productionReasons(input: {
  target: Endpoint
  marker: string | null | undefined
  backupSource?: Endpoint | undefined
  environment: readonly { setting: string; endpoint: Endpoint }[]
}): string[] {
  const reasons: string[] = []
  if (input.backupSource && sameDatabase(input.target, input.backupSource)) {
    reasons.push('it is the database this backup was taken from')
  }
  for (const { setting, endpoint } of input.environment) {
    if (sameDatabase(input.target, endpoint)) reasons.push(`it is the database ${setting} names`)
  }
  if (input.marker?.trim().toLowerCase() === 'production') {
    reasons.push(`it is marked ${PRODUCTION_MARKER} = 'production'`)
  }
  return reasons
}

/** A protected target needs `--confirm <its database name>`; a wrong name is refused too. */
export function assertTargetAllowed(
  reasons: readonly string[],
  database: string,
  confirm: string | undefined,
): void {
  if (confirm !== undefined && confirm !== database) {
    throw new LifeboatError(
      'TARGET_PROTECTED',
      `--confirm "${confirm}" does not match the target database "${database}"; nothing was written`,
    )
  }
  if (reasons.length === 0 || confirm === database) return
  throw new LifeboatError(
    'TARGET_PROTECTED',
    `refusing to restore into "${database}": ${reasons.join('; ')}; to overwrite it anyway pass --confirm ${database}`,
    { details: [...reasons] },
  )
}
