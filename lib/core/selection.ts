// Which schemas and tables a run covers: pg_dump's -n/-N/-t/-T semantics, with the
// Supabase-managed schemas excluded by default. Pure.

/**
 * Schemas Supabase (or PostgreSQL) manages; their contents are recreated by the
 * platform, not restored from a backup. `auth` is *not* here: its users are data.
 * `storage` holds only metadata of files kept elsewhere; add it with `-n storage`.
 */
export const MANAGED_SCHEMAS = [
  'pg_catalog',
  'information_schema',
  'pg_toast',
  'extensions',
  'graphql',
  'graphql_public',
  'net',
  'pgbouncer',
  'pgsodium',
  'pgsodium_masks',
  'realtime',
  '_realtime',
  'storage',
  'supabase_functions',
  'supabase_migrations',
  'vault',
  '_analytics',
  '_supavisor',
  'cron',
  'pgtle',
  'pg_net',
  'topology',
  'tiger',
  'tiger_data',
] as const

export interface Selection {
  schemas: string[]
  excludeSchemas: string[]
  tables: string[]
  excludeTables: string[]
}

export const selectEverything: Selection = { schemas: [], excludeSchemas: [], tables: [], excludeTables: [] }

/** pg_dump-style pattern: `*` any characters, `?` one character, otherwise literal. */
export function patternToRegExp(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${escaped}$`)
}

function matchesAny(patterns: readonly string[], value: string): boolean {
  return patterns.some((p) => patternToRegExp(p).test(value))
}

/** A table pattern without a dot applies to every schema, as in pg_dump. */
function matchesTable(patterns: readonly string[], schema: string, table: string): boolean {
  return patterns.some((p) => {
    const dot = p.indexOf('.')
    return dot === -1
      ? patternToRegExp(p).test(table)
      : patternToRegExp(p.slice(0, dot)).test(schema) && patternToRegExp(p.slice(dot + 1)).test(table)
  })
}

export function isSchemaSelected(selection: Selection, schema: string): boolean {
  if (schema.startsWith('pg_temp') || schema.startsWith('pg_toast')) return false
  if (matchesAny(selection.excludeSchemas, schema)) return false
  if (selection.schemas.length > 0) return matchesAny(selection.schemas, schema)
  return !(MANAGED_SCHEMAS as readonly string[]).includes(schema)
}

export function isTableSelected(selection: Selection, schema: string, table: string): boolean {
  if (matchesTable(selection.excludeTables, schema, table)) return false
  // As with pg_dump, naming tables selects exactly them (in any non-excluded schema).
  if (selection.tables.length > 0) {
    return matchesTable(selection.tables, schema, table) && !matchesAny(selection.excludeSchemas, schema)
  }
  return isSchemaSelected(selection, schema)
}
