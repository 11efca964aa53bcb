// What a Supabase project holds before any restore: the schemas its services own, the
// roles that mark a project, and the migration ledgers its services keep. Pure.

/**
 * Schemas a Supabase project creates and its services manage. A restore into a project
 * never re-creates them: rows of their tables go into the tables the project has.
 */
export const SUPABASE_MANAGED_SCHEMAS: readonly string[] = [
  'auth',
  'storage',
  'extensions',
  'graphql',
  'graphql_public',
  'realtime',
  '_realtime',
  'vault',
  'pgbouncer',
  'pgsodium',
  'pgsodium_masks',
  'net',
  'supabase_functions',
  'supabase_migrations',
  '_analytics',
  '_supavisor',
  'cron',
  'pgtle',
]

/** Roles every Supabase project has; with the `auth` schema they identify one. */
export const SUPABASE_MARKER_ROLES: readonly string[] = [
  'anon',
  'authenticated',
  'service_role',
  'supabase_auth_admin',
]

/** A service's migration bookkeeping table: one row per applied migration, `column` names it. */
export interface LedgerTable {
  schema: string
  name: string
  column: string
  /** Who writes it, for messages. */
  service: string
}

/**
 * Extensions a project lets `postgres` create although they are not trusted: supautils'
 * `privileged_extensions` (supabase/postgres, ansible/files/postgresql_config/supautils.conf.j2),
 * which it creates as the platform's superuser on postgres's behalf.
 */
export const SUPABASE_PRIVILEGED_EXTENSIONS: readonly string[] = [
  'address_standardizer',
  'address_standardizer_data_us',
  'autoinc',
  'bloom',
  'btree_gin',
  'btree_gist',
  'citext',
  'cube',
  'dblink',
  'dict_int',
  'dict_xsyn',
  'earthdistance',
  'fuzzystrmatch',
  'hstore',
  'http',
  'hypopg',
  'index_advisor',
  'insert_username',
  'intarray',
  'isn',
  'ltree',
  'moddatetime',
  'orioledb',
  'pg_cron',
  'pg_graphql',
  'pg_hashids',
  'pg_jsonschema',
  'pg_net',
  'pg_partman',
  'pg_repack',
  'pg_stat_monitor',
  'pg_stat_statements',
  'pg_tle',
  'pg_trgm',
  'pg_walinspect',
  'pgaudit',
  'pgcrypto',
  'pgjwt',
  'pg_prewarm',
  'pgmq',
  'pgroonga',
  'pgroonga_database',
  'pgrouting',
  'pgrowlocks',
  'pgstattuple',
  'pgsodium',
  'pgtap',
  'plcoffee',
  'pljava',
  'plls',
  'plpgsql',
  'plpgsql_check',
  'plv8',
  'postgis',
  'postgis_raster',
  'postgis_sfcgal',
  'postgis_tiger_geocoder',
  'postgis_topology',
  'postgres_fdw',
  'refint',
  'rum',
  'seg',
  'sslinfo',
  'supabase_vault',
  'supautils',
  'tablefunc',
  'tcn',
  'timescaledb',
  'tsm_system_rows',
  'tsm_system_time',
  'unaccent',
  'uuid-ossp',
  'vector',
  'wrappers',
]

/** Compared on restore, never loaded or emptied: the project's service owns its history. */
export const MIGRATION_LEDGERS: readonly LedgerTable[] = [
  { schema: 'auth', name: 'schema_migrations', column: 'version', service: 'Supabase Auth' },
  { schema: 'storage', name: 'migrations', column: 'name', service: 'Supabase Storage' },
  { schema: 'realtime', name: 'schema_migrations', column: 'version', service: 'Supabase Realtime' },
]

/** The applied migrations a ledger table held in the backup's snapshot. */
export interface LedgerRecord {
  /** `schema.name` of the ledger table. */
  table: string
  applied: string[]
}

export function isManagedSchema(schema: string): boolean {
  return SUPABASE_MANAGED_SCHEMAS.includes(schema)
}

export function ledgerOf(qualified: string): LedgerTable | undefined {
  return MIGRATION_LEDGERS.find((l) => `${l.schema}.${l.name}` === qualified)
}

/** Whether the target is a Supabase project, and what is missing when it is not. */
export function supabaseMarkers(found: { authSchema: boolean; roles: readonly string[] }): {
  detected: boolean
  missing: string[]
} {
  const missing = [
    ...(found.authSchema ? [] : ['schema auth']),
    ...SUPABASE_MARKER_ROLES.filter((r) => !found.roles.includes(r)).map((r) => `role ${r}`),
  ]
  return { detected: missing.length === 0, missing }
}

/**
 * Migrations the backup's service had applied and the target's has not: the backup is
 * from a newer release, its rows may use what the target lacks. One line per ledger;
 * a target ahead of the backup is fine (services keep their data readable).
 */
export function compareLedgers(
  backup: readonly LedgerRecord[],
  target: ReadonlyMap<string, readonly string[] | undefined>,
): string[] {
  const problems: string[] = []
  for (const record of backup) {
    const ledger = ledgerOf(record.table)
    const service = ledger?.service ?? record.table
    const applied = target.get(record.table)
    if (applied === undefined) {
      problems.push(`${record.table}: missing from the target, so its ${service} release cannot be compared`)
      continue
    }
    const have = new Set(applied)
    const ahead = record.applied.filter((m) => !have.has(m))
    if (ahead.length === 0) continue
    const newest = [...ahead].sort().at(-1)
    problems.push(
      `${record.table}: the backup comes from a newer ${service} than the target (${ahead.length} migration${ahead.length === 1 ? '' : 's'} the target has not applied, newest ${newest}); upgrade the project first`,
    )
  }
  return problems
}
