// The doctor's judgement, pure: probe results (gathered by lib/doctor/probes.ts) become
// a checklist, each item data `{ id, title, status, detail, fix? }`; a `fail` is
// something that would make the backup (or a restore of it) fail, a `warn` works today
// but is a risk. Pure.

import type { DoctorSettings, DoctorSource } from '../core/doctor-config.ts'
import { ExitCode, LifeboatError } from '../core/errors.ts'
import { sessionPoolerHint, supabaseHostKind } from './check-text.ts'
import type { Check, CheckStatus, DoctorProbes, Finding } from './check-types.ts'
import { databaseChecks } from './database-checks.ts'
import {
  addAlertChecks,
  addApiChecks,
  addEncryptionChecks,
  addStorageChecks,
  addStoreChecks,
} from './service-checks.ts'

export { durationMs, type HostKind, supabaseHostKind } from './check-text.ts'
export type { Check, CheckStatus, DoctorProbes, OpResult, TableProbe } from './check-types.ts'

// ---------------------------------------------------------------------------
// The checklist

/** Which source is configured, and whether it can hold a snapshot. */
function judgeSource(source: DoctorSource): Finding {
  if (source.kind === 'none') {
    return {
      status: 'fail',
      code: 'CONFIG_MISSING',
      detail: 'no source is configured',
      fix: 'set DATABASE_URL (the direct connection or the session pooler: recommended, one consistent snapshot), or the PG* variables psql uses (PGHOST, PGDATABASE, … or PGSERVICE), or SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY for API-only mode',
    }
  }
  if (source.kind === 'rest') {
    return {
      status: 'warn',
      detail: `API-only mode (${source.url}): tables are read page by page through the API, not from one snapshot; no schema.sql, no sequence values`,
      fix: 'where the database is reachable, set DATABASE_URL (session pooler, port 5432) for consistent backups; see docs/api-mode.md',
    }
  }
  const kind = supabaseHostKind(source.host, source.port)
  if (kind === 'transaction-pooler') {
    return {
      status: 'fail',
      code: 'DB_POOLER_TRANSACTION',
      detail: `${source.setting} points at a transaction pooler (${source.host}:${source.port}): it hands each statement to any connection, so no snapshot can be held`,
      fix: `use the session pooler, port 5432: ${sessionPoolerHint(source)}, or the direct connection`,
    }
  }
  const described = {
    direct: "Supabase's direct connection (IPv6 only, unless the IPv4 add-on is enabled)",
    'session-pooler': "Supabase's session pooler (IPv4 and IPv6; a session per client: snapshots work)",
    other: 'a direct PostgreSQL connection',
  }[kind]
  return {
    status: 'ok',
    detail: `${source.setting}: ${source.user}@${source.host}:${source.port}/${source.database}, ${described}`,
  }
}

function judgeStoreSetting(settings: DoctorSettings): Finding {
  if (settings.store) return { status: 'ok', detail: settings.store.url }
  return {
    status: 'fail',
    code: 'CONFIG_MISSING',
    detail: 'BACKUP_STORE is not set',
    fix: 'set BACKUP_STORE to s3://bucket/prefix (with AWS_REGION and credentials) or file:///path/to/folder',
  }
}

export function buildChecklist(probes: DoctorProbes): Check[] {
  const checks: Check[] = []
  const add = (check: Check) => checks.push(check)
  const s = probes.settings
  const source = s.source
  add({ id: 'settings.source', title: 'Source', ...judgeSource(source) })
  add({ id: 'settings.store', title: 'Store', ...judgeStoreSetting(s) })
  if (s.problems.length > 0) {
    add({
      id: 'settings.valid',
      title: 'Settings',
      status: 'fail',
      code: 'CONFIG_INVALID',
      detail: s.problems.join('; '),
      fix: 'correct the settings named; every job reports the same',
    })
  }
  if (source.kind === 'postgres') checks.push(...databaseChecks(probes, source))
  if (source.kind === 'rest') addApiChecks(probes, add)
  addStoreChecks(probes, add)
  addStorageChecks(probes, add)
  addEncryptionChecks(probes, add)
  addAlertChecks(probes, add)
  return checks
}

// ---------------------------------------------------------------------------
// Verdict and rendering

export function doctorExitCode(checks: readonly Check[]): ExitCode {
  return checks.some((c) => c.status === 'fail') ? ExitCode.failed : ExitCode.ok
}

const MARK: Record<CheckStatus, string> = { ok: '[ok]  ', warn: '[warn]', fail: '[FAIL]', skip: '[skip]' }

export function renderChecklist(checks: readonly Check[]): string {
  const width = Math.max(...checks.map((c) => c.title.length))
  const lines: string[] = []
  for (const c of checks) {
    lines.push(`${MARK[c.status]} ${c.title.padEnd(width)}  ${c.detail}`)
    if (c.fix && (c.status === 'fail' || c.status === 'warn'))
      lines.push(`       ${' '.repeat(width)}  fix: ${c.fix}`)
  }
  const count = (status: CheckStatus) => checks.filter((c) => c.status === status).length
  const failures = count('fail')
  lines.push(
    `${count('ok')} ok, ${count('warn')} warnings, ${failures} failures: ${failures > 0 ? 'the backup would fail; fix the items marked FAIL' : 'nothing would stop the backup'}`,
  )
  return lines.join('\n')
}

/** The preflight's verdict: one error naming every failure with its fix, or undefined. */
export function preflightError(checks: readonly Check[]): LifeboatError | undefined {
  const failed = checks.filter((c) => c.status === 'fail')
  if (failed.length === 0) return undefined
  const lines = failed.map((c) => `${c.title}: ${c.detail}${c.fix ? ` (fix: ${c.fix})` : ''}`)
  return new LifeboatError(failed[0]!.code ?? 'PREFLIGHT_FAILED', `preflight: ${lines.join('; ')}`, {
    details: lines,
  })
}
