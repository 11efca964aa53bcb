// Reads what a restore into a Supabase project needs to know of the target: whether it
// is one (the auth schema and the platform's roles), which of the backup's relations
// exist, the extensions and publications it has, and its services' migration ledgers.
import type pg from 'pg'
import { queryError, quoteIdent, quoteQualified } from '../../adapters/postgres/connection.ts'
import { ledgerOf, SUPABASE_MARKER_ROLES, supabaseMarkers } from '../../core/supabase-platform.ts'
import type { ProjectObjects } from './schema-filter.ts'

export async function readSupabaseMarkers(
  client: pg.ClientBase,
): Promise<{ detected: boolean; missing: string[] }> {
  try {
    const { rows } = await client.query<{ auth: boolean; roles: string[] }>(
      `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'auth') AS auth,
              ARRAY(SELECT rolname::text FROM pg_catalog.pg_roles WHERE rolname = ANY($1::text[])) AS roles`,
      [SUPABASE_MARKER_ROLES],
    )
    return supabaseMarkers({ authSchema: rows[0]!.auth, roles: rows[0]!.roles })
  } catch (error) {
    throw queryError(error, 'reading whether the target is a Supabase project')
  }
}

/** Which of the `schema.name` relations exist in the target. */
export async function existingRelations(
  client: pg.ClientBase,
  names: readonly string[],
): Promise<Set<string>> {
  try {
    const { rows } = await client.query<{ name: string }>(
      `SELECT n.nspname || '.' || c.relname AS name
         FROM unnest($1::text[], $2::text[]) AS want(schema, name)
         JOIN pg_catalog.pg_namespace n ON n.nspname = want.schema
         JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = want.name`,
      [names.map((n) => n.slice(0, n.indexOf('.'))), names.map((n) => n.slice(n.indexOf('.') + 1))],
    )
    return new Set(rows.map((r) => r.name))
  } catch (error) {
    throw queryError(error, 'reading which tables the target has')
  }
}

export async function readProjectObjects(client: pg.ClientBase): Promise<ProjectObjects> {
  try {
    const { rows } = await client.query<{ extensions: string[]; publications: string[] }>(
      `SELECT ARRAY(SELECT extname::text FROM pg_catalog.pg_extension) AS extensions,
              ARRAY(SELECT pubname::text FROM pg_catalog.pg_publication) AS publications`,
    )
    return { extensions: new Set(rows[0]!.extensions), publications: new Set(rows[0]!.publications) }
  } catch (error) {
    throw queryError(error, 'reading the target’s extensions and publications')
  }
}

/** The applied migrations of each named ledger table; undefined where the target lacks it. */
export async function readTargetLedgers(
  client: pg.ClientBase,
  tables: readonly string[],
): Promise<Map<string, string[] | undefined>> {
  const present = await existingRelations(client, tables)
  const ledgers = new Map<string, string[] | undefined>()
  for (const table of tables) {
    const ledger = ledgerOf(table)
    if (!ledger || !present.has(table)) {
      ledgers.set(table, undefined)
      continue
    }
    try {
      const { rows } = await client.query<{ m: string }>(
        `SELECT ${quoteIdent(ledger.column)}::text AS m FROM ${quoteQualified(ledger.schema, ledger.name)}`,
      )
      ledgers.set(
        table,
        rows.map((r) => r.m),
      )
    } catch (error) {
      throw queryError(error, `reading ${table} (the ${ledger.service} release) in the target`)
    }
  }
  return ledgers
}
