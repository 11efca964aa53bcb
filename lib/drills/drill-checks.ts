// What a drill proves beyond the restore's own checks, and how its measurements become
// the report's parts: checks after COMMIT (foreign keys, sequences, smoke checks),
// the restore's own proof as checks, phase times and per-table results.
import { connect } from '../adapters/postgres/connection.ts'
import {
  type CheckResult,
  checkForeignKeys,
  checkSequences,
  runSmokeChecks,
} from '../adapters/postgres/post-checks.ts'
import { type Manifest, qualifiedName } from '../archive/manifest.ts'
import { plural } from '../core/format.ts'
import type { Secret } from '../core/secret.ts'
import type { RestoreResult } from '../restore/database-restore.ts'
import type { DrillPhases, DrillTable } from './report.ts'
import type { SmokeCheck } from './smoke-checks.ts'

export async function runPostChecks(
  url: Secret,
  manifest: Manifest,
  restore: RestoreResult,
  smokeChecks: readonly SmokeCheck[] | undefined,
): Promise<CheckResult[]> {
  // No pinned search_path here: smoke checks are written as a person would in psql.
  const client = await connect(url, { applicationName: 'lifeboat drill checks' })
  try {
    const names = restore.tables.map((t) => t.table)
    const restored = new Set(names)
    const sequences = manifest.sequences.filter(
      (s) => !s.ownedBy || restored.has(`${s.ownedBy.schema}.${s.ownedBy.table}`),
    )
    return [
      await checkForeignKeys(client, names),
      await checkSequences(client, sequences),
      ...(smokeChecks ? await runSmokeChecks(client, smokeChecks) : []),
    ]
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** What the restore itself proved, as checks in the report. */
export function restoreChecks(restore: RestoreResult | undefined): CheckResult[] {
  if (!restore) return []
  const matching = restore.tables.filter((t) => t.sha256Match && t.rowsRestored === t.rowsExpected).length
  return [
    {
      name: 'archive',
      ok: true,
      detail:
        'every file matches its sha256 in the manifest and SHA256SUMS (verified before anything was written)',
    },
    {
      name: 'tables',
      ok: matching === restore.tables.length,
      detail: `${matching} of ${plural(restore.tables.length, 'table')} re-exported with the manifest's row count and sha256`,
    },
  ]
}

export function phasesOf(
  prepare: number | null,
  restore: RestoreResult | undefined,
  postChecks: number | null,
  total: number,
): DrillPhases {
  return {
    prepare,
    download: restore?.seconds.download ?? null,
    verify: restore?.seconds.verifyArchive ?? null,
    load: restore?.seconds.load ?? null,
    verifyTables: restore?.seconds.verifyTables ?? null,
    postChecks,
    total,
  }
}

export function tablesOf(manifest: Manifest | undefined, restore: RestoreResult | undefined): DrillTable[] {
  if (restore) {
    return restore.tables.map((t) => ({
      table: t.table,
      rowsExpected: t.rowsExpected,
      rowsRestored: t.rowsRestored ?? null,
      sha256Match: t.sha256Match ?? null,
    }))
  }
  return (manifest?.tables ?? []).map((t) => ({
    table: qualifiedName(t),
    rowsExpected: t.rows,
    rowsRestored: null,
    sha256Match: null,
  }))
}
