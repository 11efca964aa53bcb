// Which error a failed backup reports: the first cause, not its echo. When the store
// stops answering, the export sees only a closed stream; when the temp disk fills, the
// COPY sees a destroyed file. Both are named for what they are. Pure.
import { isLifeboatError, LifeboatError, toLifeboatError } from '../core/errors.ts'

export interface FailureFacts {
  /** The store write's own error, when the store failed before anything else did. */
  storeFailure?: unknown
  /** The temp folder the backup spooled into, for the message. */
  tempDir: string
}

const DISK_FULL = new Set(['ENOSPC', 'EDQUOT'])

export function explainFailure(error: unknown, facts: FailureFacts): LifeboatError {
  const failure = toLifeboatError(error)
  if (failure.code === 'INTERRUPTED' || failure.code === 'DEADLINE_EXCEEDED') return failure
  if (facts.storeFailure !== undefined && !failure.code.startsWith('STORE_')) {
    return toLifeboatError(facts.storeFailure)
  }
  const full = errnoIn(error, DISK_FULL)
  if (full && !failure.code.startsWith('STORE_')) {
    return new LifeboatError(
      'TEMP_DISK_FULL',
      `the temp folder ${facts.tempDir} ran out of space (${full}): ${failure.message}`,
      { cause: error },
    )
  }
  return failure
}

/** The first errno code of `codes` found along the error's cause chain. */
export function errnoIn(error: unknown, codes: ReadonlySet<string>): string | undefined {
  let current: unknown = error
  for (let depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && codes.has(code)) return code
    if (!isLifeboatError(current) && /\bENOSPC\b/.test(String((current as Error).message ?? ''))) {
      if (codes.has('ENOSPC')) return 'ENOSPC'
    }
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}
