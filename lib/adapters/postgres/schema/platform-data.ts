// What the app keeps where a backup does not reach: rows in schemas left to the
// platform by default (pg_cron's jobs, Vault's secrets, the Supabase CLI's migration
// history; their schemas are the platform's, Vault's rows are sealed with the source
// project's own key) and the database's own settings (ALTER DATABASE … SET, whose
// values may be secrets and would sit in the unencrypted sidecar). Not backed up, but
// the app's: the backup names them, without values, and a restore says they are not
// there and what to do, rather than leave them to be missed.
import type pg from 'pg'
import type { OmittedObject } from '../../../archive/access.ts'

interface PlatformData {
  table: string
  kind: string
  /** What to do on the target, after a restore. */
  advice: string
}

export const PLATFORM_DATA: readonly PlatformData[] = [
  {
    table: 'cron.job',
    kind: 'scheduled jobs',
    advice:
      'schedule them again on the target (cron.schedule), from your migrations or from cron.job on the source',
  },
  {
    table: 'vault.secrets',
    kind: 'Vault secrets',
    advice:
      "they are encrypted with the source project's own key: store them again on the target (vault.create_secret)",
  },
  {
    table: 'supabase_migrations.schema_migrations',
    kind: 'migration history',
    advice:
      "the Supabase CLI's record of applied migrations: mark them applied on the target (supabase migration repair --status applied <version>)",
  },
]

const schemaOf = (data: PlatformData) => data.table.slice(0, data.table.indexOf('.'))

/** The omitted-object line for a platform table holding `rows` rows (visible to the backup's role). */
export function platformDataOmitted(data: PlatformData, rows: number): OmittedObject {
  const schema = schemaOf(data)
  return {
    kind: data.kind,
    name: data.table,
    reason: `${rows} row${rows === 1 ? '' : 's'} in the ${schema} schema, which a backup leaves to the platform unless selected (-n ${schema}): ${data.advice}`,
  }
}

/**
 * The platform tables outside `selected` schemas that exist, that the backup's role may
 * read, and that hold rows. Only SELECTs, checked first: safe in the snapshot transaction.
 */
export async function platformDataLeftOut(
  client: pg.ClientBase,
  selected: readonly string[],
): Promise<OmittedObject[]> {
  const candidates = PLATFORM_DATA.filter((d) => !selected.includes(schemaOf(d)))
  const { rows } = await client.query<{ name: string }>(
    `SELECT name FROM unnest($1::text[]) AS name
      WHERE pg_catalog.to_regclass(name) IS NOT NULL AND pg_catalog.has_table_privilege(name, 'SELECT')`,
    [candidates.map((d) => d.table)],
  )
  const readable = new Set(rows.map((r) => r.name))
  const omitted: OmittedObject[] = []
  for (const data of candidates.filter((d) => readable.has(d.table))) {
    const count = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${data.table}`)
    if (count.rows[0]!.n > 0) omitted.push(platformDataOmitted(data, count.rows[0]!.n))
  }
  return omitted
}

/** Set by the platform itself on older projects (Supabase's JWT settings): not the app's. */
const PLATFORM_DATABASE_SETTINGS = new Set(['app.settings.jwt_secret', 'app.settings.jwt_exp'])

/** The database's own settings (ALTER DATABASE … SET), by name only: their values never leave the server. */
export async function databaseSettingsLeftOut(client: pg.ClientBase): Promise<OmittedObject[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT split_part(c, '=', 1) AS name
       FROM pg_catalog.pg_db_role_setting s CROSS JOIN LATERAL unnest(s.setconfig) AS c
      WHERE s.setrole = 0
        AND s.setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
      ORDER BY 1`,
  )
  return rows
    .filter((r) => !PLATFORM_DATABASE_SETTINGS.has(r.name) && !r.name.startsWith('lifeboat.'))
    .map((r) => ({
      kind: 'database setting',
      name: r.name,
      reason:
        'ALTER DATABASE … SET is not in the backup (its value may be a secret): set it again on the target where a superuser may (a Supabase project lets postgres set no custom parameter: keep the value in Vault and read it from there)',
    }))
}
