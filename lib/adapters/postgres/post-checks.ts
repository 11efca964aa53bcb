// What a drill proves after the restore committed, beyond the restore's own checks:
// foreign keys present and validated, sequences that hand out unused ids, and the
// user's smoke checks (each in a read-only transaction that is rolled back).
import type pg from 'pg'
import { qualifiedName, type SequenceEntry } from '../../archive/manifest.ts'
import { judgeSmokeCheck, type SmokeCheck } from '../../drills/smoke-checks.ts'
import { queryError, quoteIdent, quoteQualified } from './connection.ts'

export interface CheckResult {
  name: string
  ok: boolean
  detail: string
  /** The tables a failing check is about. */
  tables?: string[]
}

/** Every foreign key of the restored tables exists and is VALIDATED (not left NOT VALID). */
export async function checkForeignKeys(
  client: pg.ClientBase,
  tableNames: readonly string[],
): Promise<CheckResult> {
  const schemas = tableNames.map((t) => t.slice(0, t.indexOf('.')))
  const names = tableNames.map((t) => t.slice(t.indexOf('.') + 1))
  try {
    const { rows } = await client.query<{ table: string; name: string; validated: boolean }>(
      `SELECT n.nspname || '.' || c.relname AS table, k.conname AS name, k.convalidated AS validated
         FROM unnest($1::text[], $2::text[]) AS want(schema, name)
         JOIN pg_namespace n ON n.nspname = want.schema
         JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = want.name
         JOIN pg_constraint k ON k.conrelid = c.oid AND k.contype = 'f' AND k.conparentid = 0
        ORDER BY 1, 2`,
      [schemas, names],
    )
    const invalid = rows.filter((r) => !r.validated)
    return invalid.length === 0
      ? {
          name: 'foreign keys',
          ok: true,
          detail: `${rows.length} foreign key${rows.length === 1 ? '' : 's'} present and validated; no violating rows (checked by the restore before COMMIT)`,
        }
      : {
          name: 'foreign keys',
          ok: false,
          detail: `not validated: ${invalid.map((r) => `${r.table} (${r.name})`).join(', ')}`,
          tables: [...new Set(invalid.map((r) => r.table))],
        }
  } catch (error) {
    throw queryError(error, 'reading the foreign keys of the restored tables')
  }
}

/**
 * A sequence is usable when the value a default would take next lies beyond every id
 * in its column and is not taken: then an insert with a default id succeeds. Checked
 * with nextval() in a transaction that is rolled back; nextval() itself is never rolled
 * back, so the scratch database's sequence moves on by one, which costs nothing.
 */
export async function checkSequences(
  client: pg.ClientBase,
  sequences: readonly SequenceEntry[],
): Promise<CheckResult> {
  const owned = sequences.filter((s) => s.ownedBy)
  const problems: string[] = []
  const tables = new Set<string>()
  for (const s of owned) {
    const owner = s.ownedBy!
    const sequence = quoteQualified(s.schema, s.name)
    const table = quoteQualified(owner.schema, owner.table)
    const column = quoteIdent(owner.column)
    await client.query('BEGIN')
    try {
      const next = (
        await client.query<{ next: string; step: string }>(
          `SELECT pg_catalog.nextval($1::regclass)::text AS next,
                  (SELECT increment_by::text FROM pg_catalog.pg_sequences WHERE schemaname = $2 AND sequencename = $3) AS step`,
          [sequence, s.schema, s.name],
        )
      ).rows[0]!
      const found = (
        await client.query<{ max: string | null; taken: boolean }>(
          `SELECT (SELECT max(${column})::text FROM ${table}) AS max,
                  EXISTS (SELECT 1 FROM ${table} WHERE ${column} = $1::bigint) AS taken`,
          [next.next],
        )
      ).rows[0]!
      const ascending = BigInt(next.step ?? '1') > 0n
      const beyond = found.max === null || !ascending || BigInt(next.next) > BigInt(found.max)
      if (found.taken || !beyond) {
        problems.push(
          `${qualifiedName(s)} would give ${next.next} to ${owner.schema}.${owner.table}.${owner.column}, ${found.taken ? 'which is taken' : `not above its max ${found.max}`}`,
        )
        tables.add(`${owner.schema}.${owner.table}`)
      }
    } catch (error) {
      throw queryError(error, `checking sequence ${qualifiedName(s)}`)
    } finally {
      await client.query('ROLLBACK').catch(() => undefined)
    }
  }
  if (problems.length > 0)
    return { name: 'sequences', ok: false, detail: problems.join('; '), tables: [...tables] }
  return {
    name: 'sequences',
    ok: true,
    detail:
      owned.length === 0
        ? 'no sequence owned by a restored column'
        : `${owned.length} sequence${owned.length === 1 ? '' : 's'} hand out ids above every restored id (nextval in a rolled-back transaction)`,
  }
}

/** Runs each check read-only and rolls it back; a check that errors fails with the server's message. */
export async function runSmokeChecks(
  client: pg.ClientBase,
  checks: readonly SmokeCheck[],
): Promise<CheckResult[]> {
  const results: CheckResult[] = []
  for (const check of checks) {
    const name = `smoke: ${check.name}`
    try {
      await client.query('BEGIN READ ONLY')
      const { rows } = await client.query<Record<string, unknown>>(check.sql)
      results.push({ name, ...judgeSmokeCheck(rows) })
    } catch (error) {
      results.push({ name, ok: false, detail: `error (line ${check.line}): ${(error as Error).message}` })
    } finally {
      await client.query('ROLLBACK').catch(() => undefined)
    }
  }
  return results
}
