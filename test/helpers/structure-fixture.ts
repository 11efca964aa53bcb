// A source with structure around its rows (lib/demo/sample-structure.ts), schema.sql
// generated as the backup does, and targets on a fresh cluster that get roles.sql and
// schema.sql through psql, as a person restoring by hand would.
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import {
  generateSchemaSql,
  type SchemaSql,
  type SchemaSqlOptions,
} from '../../lib/adapters/postgres/schema-sql.ts'
import { Secret } from '../../lib/core/secret.ts'
import { SAMPLE_SCHEMA_SQL } from '../../lib/demo/sample-data.ts'
import {
  type SampleRoles,
  sampleDefaultPrivilegesSql,
  sampleRolesSql,
  sampleStructureSql,
} from '../../lib/demo/sample-structure.ts'
import {
  applySourceAccess,
  createOptionalExtensions,
  refreshMaterializedViews,
} from '../../lib/restore/postgres-structure.ts'
import { sql, withClient } from './database.ts'

const run = promisify(execFile)

/** Roles, default privileges, the sample tables and their structure, in one database. */
export async function buildStructureSource(
  url: string,
  roles: SampleRoles,
  createRoles: boolean,
): Promise<void> {
  if (createRoles) await sql(url, sampleRolesSql(roles))
  await sql(url, sampleDefaultPrivilegesSql(roles))
  await sql(url, SAMPLE_SCHEMA_SQL)
  await sql(url, sampleStructureSql(roles))
  // A few rows so the materialized views hold something.
  await sql(
    url,
    `INSERT INTO public.organizations (name, slug) VALUES ('o', 'o');
     INSERT INTO public.buildings (organization_id, name) SELECT id, 'b' FROM public.organizations;
     INSERT INTO public.devices (id, building_id, serial_number, kind)
       SELECT md5('d' || i)::uuid, (SELECT min(id) FROM public.buildings), 'SN-' || i, 'meter' FROM generate_series(1, 3) i;
     INSERT INTO public.metrics (device_id, recorded_at, energy_kwh) SELECT id, now(), 1.5 FROM public.devices;
     REFRESH MATERIALIZED VIEW public.building_energy;
     REFRESH MATERIALIZED VIEW public.energy_ranking;
     SELECT nextval('public.ticket_seq') FROM generate_series(1, 3);`,
  )
}

/** As the backup engine calls it: inside a read-only snapshot transaction. */
export async function generateFrom(
  url: string,
  options: Partial<SchemaSqlOptions> & { schemas: string[] },
): Promise<SchemaSql> {
  return withClient(url, async (client) => {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    const snapshot = (await client.query('SELECT pg_export_snapshot() AS id')).rows[0].id as string
    const versionNum = Number((await client.query('SHOW server_version_num')).rows[0].server_version_num)
    const result = await generateSchemaSql(client, {
      connection: { url: new Secret(url), serverVersionNum: versionNum },
      snapshot,
      ...options,
    })
    await client.query('COMMIT')
    return result
  })
}

/** Runs a file with psql as a person would: stop at the first error, all in one transaction. */
export async function psqlFile(url: string, text: string, name: string): Promise<string> {
  const dir = resolve('.tmp')
  await mkdir(dir, { recursive: true })
  const folder = await mkdtemp(join(dir, 'psql-'))
  try {
    const file = join(folder, name)
    await writeFile(file, text)
    const { stdout, stderr } = await run(
      'psql',
      ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-f', file, url],
      {
        maxBuffer: 64 * 1024 * 1024,
      },
    )
    return `${stdout}${stderr}`
  } finally {
    await rm(folder, { recursive: true, force: true })
  }
}

/**
 * A restore by hand as the manual runbook does it (roles.sql, then schema.sql by psql;
 * a CREATE PUBLICATION the target has already left out), then the structure steps the
 * restore runs from the manifest: other extensions, exact privileges, refreshes.
 */
export async function restoreStructureByHand(url: string, generated: SchemaSql): Promise<void> {
  await psqlFile(url, generated.capture.rolesSql, 'roles.sql')
  const existing = (await sql(url, 'SELECT pubname FROM pg_publication')).rows.map((r) => r.pubname as string)
  const schema = generated.sql
    .split('\n')
    .filter((line) => !existing.some((p) => line.startsWith(`CREATE PUBLICATION ${p} `)))
    .join('\n')
  await psqlFile(url, schema, 'schema.sql')
  await withClient(url, async (client) => {
    await client.query('BEGIN')
    await createOptionalExtensions(client, generated.capture.schema)
    await applySourceAccess(client, generated.capture.access)
    await refreshMaterializedViews(client, generated.capture.schema)
    await client.query('COMMIT')
  })
}

/** What a platform target has before the restore: auth.users, which a `-n public` backup leaves out. */
export const PLATFORM_AUTH = `
CREATE SCHEMA auth;
CREATE TABLE auth.users (
  id uuid PRIMARY KEY,
  email text UNIQUE NOT NULL,
  encrypted_password text,
  raw_user_meta_data jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);`
