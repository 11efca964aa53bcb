// The quarterly disaster-recovery test: from nothing but the store and credentials,
// the newest complete backup into a new empty database (schema.sql, data, verification),
// then the user's smoke checks; reports RPO and RTO achieved like a drill, and the access
// review: who can reach the bucket, and what changed since the last DR test.

import type { Secret } from '../core/secret.ts'
import { type DrillDeps, type DrillRun, type DrillStorageOptions, runDrill } from './drill.ts'
import type { SmokeCheck } from './smoke-checks.ts'

export interface DrTestOptions {
  /** An empty database, a server to create one on, or (undefined) a throwaway PostgreSQL. */
  target:
    | { kind: 'database'; url: Secret; setting: string }
    | { kind: 'server'; url: Secret; setting: string; keep: boolean }
    | undefined
  rtoTargetSeconds: number
  rpoTargetSeconds: number
  smokeChecks: readonly SmokeCheck[] | undefined
  now?: Date | undefined
  production: readonly { setting: string; url: Secret }[]
  /** The access review the stack publishes (LIFEBOAT_ACCESS_REVIEW); the report says when there is none. */
  accessReview?: string | undefined
  /** The backup's Storage files (see DrillOptions.storage). */
  storage?: DrillStorageOptions | undefined
}

export function runDrTest(deps: DrillDeps, options: DrTestOptions): Promise<DrillRun> {
  const target = options.target
  return runDrill(deps, {
    kind: 'dr-test',
    days: 0,
    now: options.now,
    // A new empty database: the schema comes from the archive's schema.sql, never --truncate.
    target:
      target === undefined
        ? { kind: 'throwaway' }
        : target.kind === 'database'
          ? { kind: 'database', url: target.url, setting: target.setting, truncate: false }
          : target,
    rtoTargetSeconds: options.rtoTargetSeconds,
    rpoTargetSeconds: options.rpoTargetSeconds,
    smokeChecks: options.smokeChecks,
    production: options.production,
    accessReview: options.accessReview,
    storage: options.storage,
  })
}
