// Reads what a restore needs to know about its target: who and what it is, which of
// the archive's tables and sequences exist (columns, row presence), the user
// triggers to switch off while loading, and foreign keys to check after it.
import type pg from 'pg'
import { PRODUCTION_MARKER } from '../../restore/production-guard.ts'
import type { TargetState, TargetTable } from '../../restore/target-checks.ts'
import { queryError, quoteIdent, quoteQualified } from './connection.ts'
import { IS_PADDED, TEXT_CAST_DIFFERS } from './export-table.ts'

export interface TargetInfo {
  database: string
  user: string
  serverVersion: string
  /** `current_setting('lifeboat.environment', true)`: set per database with ALTER DATABASE. */
  marker: string | null
}

export async function readTargetInfo(client: pg.ClientBase): Promise<TargetInfo> {
  try {
    const { rows } = await client.query<{ db: string; usr: string; version: string; marker: string | null }>(
      `SELECT current_database() AS db, current_user AS usr, current_setting('server_version') AS version,
              NULLIF(current_setting($1, true), '') AS marker`,
      [PRODUCTION_MARKER],
    )
    const row = rows[0]!
    return { database: row.db, user: row.usr, serverVersion: row.version, marker: row.marker }
  } catch (error) {
    throw queryError(error, 'reading the target database')
  }
}

const split = (names: readonly string[]) => {
  const schemas = names.map((n) => n.slice(0, n.indexOf('.')))
  const relations = names.map((n) => n.slice(n.indexOf('.') + 1))
  return [schemas, relations]
}

/**
 * The named tables (`schema.name`) and sequences as the target has them. Types are
 * `format_type()` text; the connection's empty search_path qualifies user types the
 * way the backup's catalog read did, so they compare as text.
 */
export async function readTargetState(
  client: pg.ClientBase,
  tableNames: readonly string[],
  sequenceNames: readonly string[],
): Promise<TargetState> {
  try {
    const rels = await client.query<{ oid: number; schema: string; name: string; kind: string }>(
      `SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS kind
         FROM unnest($1::text[], $2::text[]) AS want(schema, name)
         JOIN pg_namespace n ON n.nspname = want.schema
         JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = want.name
        WHERE c.relkind NOT IN ('S', 'i', 'I', 'c', 't')`,
      split(tableNames),
    )
    const columns = await client.query<{
      oid: number
      name: string
      type: string
      notnull: boolean
      hasdef: boolean
      identity: string
      generated: string
      collatable: boolean
      text_cast: boolean
      padded: boolean
    }>(
      `SELECT a.attrelid::int AS oid, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
              a.attnotnull AS notnull, a.atthasdef AS hasdef, a.attidentity::text AS identity,
              a.attgenerated::text AS generated, a.attcollation <> 0 AS collatable,
              ${TEXT_CAST_DIFFERS} AS text_cast, ${IS_PADDED} AS padded
         FROM pg_attribute a
        WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attrelid, a.attnum`,
      [rels.rows.map((r) => r.oid)],
    )
    const filled = await tablesWithRows(
      client,
      rels.rows.filter((rel) => rel.kind === 'r' || rel.kind === 'p'),
    )
    const tables = new Map<string, TargetTable>()
    for (const rel of rels.rows) {
      tables.set(`${rel.schema}.${rel.name}`, {
        schema: rel.schema,
        name: rel.name,
        kind: rel.kind,
        hasRows: filled.has(`${rel.schema}.${rel.name}`),
        columns: columns.rows
          .filter((c) => c.oid === rel.oid)
          .map((c) => ({
            name: c.name,
            type: c.type,
            notNull: c.notnull,
            hasDefault: c.hasdef,
            identity: c.identity === 'a' || c.identity === 'd' ? c.identity : null,
            generated: c.generated === 's',
            collatable: c.collatable,
            textCast: c.text_cast,
            padded: c.padded,
          })),
      })
    }
    const seqs = await client.query<{ schema: string; name: string }>(
      `SELECT n.nspname AS schema, c.relname AS name
         FROM unnest($1::text[], $2::text[]) AS want(schema, name)
         JOIN pg_namespace n ON n.nspname = want.schema
         JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = want.name AND c.relkind = 'S'`,
      split(sequenceNames),
    )
    return { tables, sequences: new Set(seqs.rows.map((s) => `${s.schema}.${s.name}`)) }
  } catch (error) {
    throw queryError(error, 'reading the target schema')
  }
}

export interface UserTrigger {
  schema: string
  table: string
  name: string
  /** pg_trigger.tgenabled: `O` origin (default), `R` replica, `A` always. */
  enabled: 'O' | 'R' | 'A'
}

/** Enabled user (non-internal) triggers on the named tables. */
export async function readUserTriggers(
  client: pg.ClientBase,
  tableNames: readonly string[],
): Promise<UserTrigger[]> {
  try {
    const { rows } = await client.query<UserTrigger>(
      `SELECT n.nspname AS schema, c.relname AS table, t.tgname AS name, t.tgenabled::text AS enabled
         FROM unnest($1::text[], $2::text[]) AS want(schema, name)
         JOIN pg_namespace n ON n.nspname = want.schema
         JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = want.name
         JOIN pg_trigger t ON t.tgrelid = c.oid
        WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND t.tgparentid = 0
        ORDER BY 1, 2, 3`,
      split(tableNames),
    )
    return rows
  } catch (error) {
    throw queryError(error, 'reading the target triggers')
  }
}

/** `ALTER TABLE … DISABLE TRIGGER` for each; the returned statements switch them back as they were. */
export function triggerStatements(triggers: readonly UserTrigger[]): {
  disable: string[]
  restore: string[]
} {
  const mode = { O: 'ENABLE', R: 'ENABLE REPLICA', A: 'ENABLE ALWAYS' } as const
  return {
    disable: triggers.map(
      (t) => `ALTER TABLE ${quoteQualified(t.schema, t.table)} DISABLE TRIGGER ${quoteIdent(t.name)}`,
    ),
    restore: triggers.map(
      (t) =>
        `ALTER TABLE ${quoteQualified(t.schema, t.table)} ${mode[t.enabled]} TRIGGER ${quoteIdent(t.name)}`,
    ),
  }
}

export interface ForeignKeyViolation {
  table: string
  constraint: string
  references: string
  rows: number
}

/**
 * Checks every validated foreign key of the named tables with an anti-join: loading
 * with triggers off (session_replication_role = replica) skipped the per-row checks.
 * MATCH SIMPLE semantics: a key with a NULL column references nothing.
 */
/** The foreign keys of the given tables, by constraint oid. */
export async function foreignKeyOids(
  client: pg.ClientBase,
  tableNames: readonly string[],
): Promise<Set<number>> {
  try {
    const result = await client.query<{ oid: number }>(
      `SELECT k.oid::int AS oid
         FROM unnest($1::text[], $2::text[]) AS want(schema, name)
         JOIN pg_namespace cn ON cn.nspname = want.schema
         JOIN pg_class cc ON cc.relnamespace = cn.oid AND cc.relname = want.name
         JOIN pg_constraint k ON k.conrelid = cc.oid AND k.contype = 'f'`,
      split(tableNames),
    )
    return new Set(result.rows.map((r) => r.oid))
  } catch (error) {
    throw queryError(error, 'reading the target foreign keys')
  }
}

/**
 * Finds rows whose foreign-key parent is missing, for keys that were in place while
 * triggers were off. `validated` names keys known to hold already (added after the load
 * by ADD CONSTRAINT, which checks every row itself), so they are not scanned twice.
 */
export async function findForeignKeyViolations(
  client: pg.ClientBase,
  tableNames: readonly string[],
  validated: ReadonlySet<number> = new Set(),
): Promise<ForeignKeyViolation[]> {
  let fks: pg.QueryResult<{
    oid: number
    child_schema: string
    child: string
    child_kind: string
    name: string
    columns: string[]
    parent_schema: string
    parent: string
    parent_kind: string
    parent_columns: string[]
  }>
  try {
    fks = await client.query(
      `SELECT k.oid::int AS oid, cn.nspname AS child_schema, cc.relname AS child, cc.relkind::text AS child_kind, k.conname AS name,
              (SELECT array_agg(a.attname::text ORDER BY u.ord) FROM unnest(k.conkey) WITH ORDINALITY u(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum) AS columns,
              pn.nspname AS parent_schema, pc.relname AS parent, pc.relkind::text AS parent_kind,
              (SELECT array_agg(a.attname::text ORDER BY u.ord) FROM unnest(k.confkey) WITH ORDINALITY u(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.attnum) AS parent_columns
         FROM unnest($1::text[], $2::text[]) AS want(schema, name)
         JOIN pg_namespace cn ON cn.nspname = want.schema
         JOIN pg_class cc ON cc.relnamespace = cn.oid AND cc.relname = want.name
         JOIN pg_constraint k ON k.conrelid = cc.oid AND k.contype = 'f' AND k.convalidated AND k.conparentid = 0
         JOIN pg_class pc ON pc.oid = k.confrelid
         JOIN pg_namespace pn ON pn.oid = pc.relnamespace
        ORDER BY 1, 2, 4`,
      split(tableNames),
    )
  } catch (error) {
    throw queryError(error, 'reading the target foreign keys')
  }
  const violations: ForeignKeyViolation[] = []
  for (const fk of fks.rows.filter((k) => !validated.has(k.oid))) {
    // An ordinary table's constraint covers only itself; a partitioned one's covers its partitions.
    const only = (kind: string) => (kind === 'p' ? '' : 'ONLY ')
    const notNull = fk.columns.map((c) => `c.${quoteIdent(c)} IS NOT NULL`).join(' AND ')
    const match = fk.columns
      .map((c, i) => `p.${quoteIdent(fk.parent_columns[i]!)} = c.${quoteIdent(c)}`)
      .join(' AND ')
    const sql = `SELECT count(*)::bigint AS n FROM ${only(fk.child_kind)}${quoteQualified(fk.child_schema, fk.child)} c
      WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${only(fk.parent_kind)}${quoteQualified(fk.parent_schema, fk.parent)} p WHERE ${match})`
    let rows: number
    try {
      rows = Number((await client.query<{ n: string }>(sql)).rows[0]!.n)
    } catch (error) {
      throw queryError(error, `checking foreign key ${fk.name} of ${fk.child_schema}.${fk.child}`)
    }
    if (rows > 0) {
      violations.push({
        table: `${fk.child_schema}.${fk.child}`,
        constraint: fk.name,
        references: `${fk.parent_schema}.${fk.parent}`,
        rows,
      })
    }
  }
  return violations
}

/** Tables probed for rows per statement: one round trip for a hundred, not one each. */
const PROBES_PER_STATEMENT = 100

/** Which of the tables hold a row (`schema.name`); no ONLY: a partitioned table's rows live in its partitions. */
async function tablesWithRows(
  client: pg.ClientBase,
  tables: readonly { schema: string; name: string }[],
): Promise<Set<string>> {
  const filled = new Set<string>()
  for (let at = 0; at < tables.length; at += PROBES_PER_STATEMENT) {
    const batch = tables.slice(at, at + PROBES_PER_STATEMENT)
    const probes = batch.map((t) => `EXISTS (SELECT 1 FROM ${quoteQualified(t.schema, t.name)})`)
    const { rows } = await client.query<{ found: boolean[] }>(`SELECT ARRAY[${probes.join(', ')}] AS found`)
    batch.forEach((t, i) => {
      if (rows[0]!.found[i]) filled.add(`${t.schema}.${t.name}`)
    })
  }
  return filled
}
