// schema.sql for the archive: pg_dump --schema-only when a pg_dump at least as new as
// the server is installed, otherwise DDL generated from the catalogs (any server
// version); either way followed by the access part, with roles.sql and the manifest's
// access data captured from the same catalogs.
import type pg from 'pg'
import type { ManifestAccess, StructureCapture } from '../../archive/access.ts'
import { parseAclItem } from '../../archive/acl.ts'
import { POST_DATA_MARKER } from '../../archive/schema-sql.ts'
import { SUPABASE_API_ROLES, SUPABASE_ROLES } from '../../core/platform-roles.ts'
import { redact, type Secret } from '../../core/secret.ts'
import { isManagedSchema } from '../../core/supabase-platform.ts'
import { markManagedStatements } from '../../restore/supabase/sql-markers.ts'
import { openSqlParser, type SqlParser } from '../../trust/sql-parser-thread.ts'
import {
  dumpSchemaSections,
  findPgDump,
  type PgDumpTool,
  pgDumpSchemaPattern,
  splitConnectionUrl,
} from './pg-dump.ts'
import { schemaCapture } from './schema/capture.ts'
import { captureAccess } from './schema/capture-access.ts'
import type { SchemaCatalog } from './schema/catalog-types.ts'
import { databaseSettingsLeftOut, platformDataLeftOut } from './schema/platform-data.ts'
import { renderRolesSql } from './schema/render-roles.ts'
import {
  accessSections,
  describeSchemas,
  extensionStatements,
  header,
  publicSchemaPrivileges,
  renderCatalogSql,
  renderSections,
  requirementLines,
  type Section,
} from './schema/render-schema-sql.ts'
import { readRoles, rolesNamedBy } from './schema/roles-catalog.ts'
import { readSchemaCatalog } from './schema-catalog.ts'
import { type CatalogPlan, planFromCatalog } from './schema-from-catalog.ts'

export {
  cleanPgDumpOutput,
  findPgDump,
  listPgDumpCandidates,
  type PgDumpTool,
  parsePgDumpVersion,
  pgDumpSchemaPattern,
  readPgDumpVersion,
  serverMajor,
  splitConnectionUrl,
} from './pg-dump.ts'
export { renderCatalogSql } from './schema/render-schema-sql.ts'

export interface SchemaSqlOptions {
  /** The selected schemas (resolved names, not patterns). */
  schemas: readonly string[]
  /** Qualified `schema.table` names when -t limits the run. */
  tables?: readonly string[]
  /** -T patterns: those tables are left out (the catalog path then builds schema.sql). */
  excludeTables?: readonly string[]
  /** For the pg_dump path; without it the catalogs are used. */
  connection?: { url: Secret; serverVersionNum: number }
  /** Use this pg_dump instead of searching PATH and /usr/lib/postgresql/<major>/bin. */
  pgDumpPath?: string
  /** The snapshot the data is read in (`pg_export_snapshot()`), so pg_dump sees the same moment. */
  snapshot?: string
  /** `catalog` skips pg_dump even when a compatible one is installed. */
  prefer?: 'pg_dump' | 'catalog'
  /** PATH to search and variables pg_dump inherits (PGSSLROOTCERT…); default process.env. */
  env?: NodeJS.ProcessEnv
  /**
   * Called once the catalogs are read, before pg_dump runs (the rest needs the connection
   * only if pg_dump fails): a backup starts its export then, beside pg_dump.
   */
  onCatalogsRead?: () => void
}

export interface SchemaSql {
  sql: string
  /** `pg_dump 15.18` or `catalog`. */
  source: string
  /** Objects knowingly left out, and other notes for the backup's report. */
  warnings: string[]
  capture: StructureCapture
}

/**
 * Roles the target's default privileges may have given something on a new object:
 * the grantees of the source's default privileges, and Supabase's API roles.
 */
function candidateGrantees(access: ManifestAccess, apiRoles: readonly string[]): string[] {
  const names = new Set<string>(apiRoles)
  for (const d of access.defaultAcls) {
    for (const text of d.acl) {
      const { grantee } = parseAclItem(text)
      if (grantee !== '' && grantee !== d.role) names.add(grantee)
    }
  }
  return [...names].sort()
}

/** Default privileges FOR ROLE supabase_admin and the like: the target platform keeps its own. */
function isPlatformDefaultsRole(role: string): boolean {
  return role !== 'postgres' && (SUPABASE_ROLES as readonly string[]).includes(role)
}

async function existingRoles(client: pg.ClientBase, names: readonly string[]): Promise<string[]> {
  const result = await client.query<{ name: string }>(
    'SELECT rolname AS name FROM pg_catalog.pg_roles WHERE rolname = ANY($1::text[]) ORDER BY 1',
    [names],
  )
  return result.rows.map((r) => r.name)
}

/** Access data, roles and the manifest's schema notes, from the same catalog read. */
async function captureStructure(
  client: pg.ClientBase,
  catalog: SchemaCatalog,
  plan: CatalogPlan,
  path: 'pg_dump' | 'catalog',
): Promise<StructureCapture & { candidates: string[] }> {
  // pg_dump -n creates every object of the selected schemas; the catalog path what it planned.
  const access = captureAccess(catalog, path === 'pg_dump' ? () => true : (key) => plan.emitted.has(key))
  const candidates = candidateGrantees(access, await existingRoles(client, SUPABASE_API_ROLES))
  // Owners of collations and text search objects too: their CREATE is followed by ALTER … OWNER TO.
  const named = new Set([...rolesNamedBy(access), ...candidates, ...plan.owners.map((o) => o.owner)])
  const found = await readRoles(client, named, catalog.serverVersionNum)
  const roles = {
    version: 1 as const,
    roles: found.roles,
    memberships: found.memberships,
    skipped: found.skipped,
    platform: found.platform,
  }
  const rolesSql = renderRolesSql(roles, `PostgreSQL ${catalog.serverVersion}, database roles`)
  const schema = schemaCapture(catalog, plan, path)
  schema.omitted.push(
    ...(await platformDataLeftOut(
      client,
      catalog.schemas.map((s) => s.name),
    )),
    ...(await databaseSettingsLeftOut(client)),
  )
  return { schema, access, roles, rolesSql, candidates }
}

function accessPart(
  capture: StructureCapture & { candidates: string[] },
  owners: CatalogPlan['owners'] | false,
): Section[] {
  return accessSections(capture.access, {
    candidates: capture.candidates,
    skipDefaultsOf: isPlatformDefaultsRole,
    owners: owners !== false,
    moreOwners: owners || [],
  })
}

function warningsOf(capture: StructureCapture, plan: CatalogPlan, path: 'pg_dump' | 'catalog'): string[] {
  // The catalog path's skipped objects are in its warnings already, with what they depend on.
  const skipped = new Set(path === 'catalog' ? plan.skipped : [])
  const warnings = capture.schema.omitted
    .filter((o) => !skipped.has(o))
    .map((o) => `${o.kind} ${o.name} is not recreated: ${o.reason}`)
  if (path === 'catalog') warnings.push(...plan.warnings)
  const missing = capture.access.objects.filter((o) => o.owner === '' || /^\d+$/.test(o.owner))
  for (const o of missing) warnings.push(`${o.kind} ${o.ident} has an owner that no longer exists`)
  return warnings
}

async function dumpWithPgDump(
  tool: PgDumpTool,
  catalog: SchemaCatalog,
  options: SchemaSqlOptions & { connection: { url: Secret } },
  env: NodeJS.ProcessEnv,
): Promise<{ preData: string; postData: string }> {
  const { dbname, password } = splitConnectionUrl(options.connection.url.reveal())
  // Owners as pg_dump writes them; privileges come from the access part (absolute).
  const args = ['--no-tablespaces', '--no-security-labels']
  if (options.snapshot) args.push(`--snapshot=${options.snapshot}`)
  for (const schema of catalog.schemas) args.push('-n', pgDumpSchemaPattern(schema.name))
  args.push(`--dbname=${dbname}`)
  const childEnv: NodeJS.ProcessEnv = { ...env, PGCLIENTENCODING: 'UTF8' }
  if (password !== undefined) childEnv.PGPASSWORD = password
  // Two sections, as pg_restore applies them: indexes, keys and triggers are built
  // after the data is loaded, which is much faster than maintaining them row by row.
  try {
    return await dumpSchemaSections(tool, args, childEnv)
  } catch (error) {
    throw new Error(redact((error as Error).message))
  }
}

function renderPgDumpSql(
  tool: PgDumpTool,
  catalog: SchemaCatalog,
  plan: CatalogPlan,
  dump: { preData: string; postData: string },
  capture: StructureCapture & { candidates: string[] },
): string {
  const prelude = extensionStatements(plan, capture.schema)
  const publicFirst = publicSchemaPrivileges(capture.access, capture.candidates)
  const triggers = capture.schema.managedTableTriggers.filter((t) => !t.tableBackedUp).map((t) => t.sql)
  const added: Section[] = [
    {
      title:
        'Triggers the backed-up functions put on tables outside these schemas (pg_dump -n leaves them out)',
      statements: triggers,
    },
    ...accessPart(capture, false),
  ]
  return [
    header([
      'Lifeboat schema.sql: the DDL to recreate the backed-up schemas in an empty database.',
      `Source: pg_dump ${tool.version} --schema-only, then what pg_dump leaves out, from the catalogs`,
      `Schemas: ${describeSchemas(catalog)}`,
      ...requirementLines(plan, capture.schema.omitted),
    ]),
    ...(prelude.length > 0 ? [`-- Extensions (pg_dump -n leaves them out)\n\n${prelude.join('\n\n')}`] : []),
    ...(publicFirst.length > 0
      ? [
          `-- Privileges on public first: pg_dump hands objects to owners that may need CREATE on it\n\n${publicFirst.join('\n\n')}`,
        ]
      : []),
    dump.preData,
    POST_DATA_MARKER,
    dump.postData,
    "--\n-- Added by Lifeboat to pg_dump's output\n--",
    ...renderSections(added),
  ].join('\n\n')
}

/**
 * A Supabase project's schema.sql (it holds a managed schema, or supabase_realtime): the
 * statements a new project has already are marked, so a person restoring by hand drops
 * them with sed (runbooks/manual-restore.md). Unmarkable: a warning, the file unchanged.
 */
async function withSupabaseMarkers(
  sql: string,
  catalog: SchemaCatalog,
  capture: StructureCapture,
  warnings: string[],
  parser: SqlParser | undefined,
): Promise<string> {
  const supabase =
    catalog.schemas.some((s) => isManagedSchema(s.name)) ||
    capture.access.publications.some((p) => p.name === 'supabase_realtime')
  if (!supabase) return sql
  try {
    const marked = await markManagedStatements(sql, undefined, parser)
    for (const why of marked.unmarked)
      warnings.push(`schema.sql is not fully marked for a by-hand restore into Supabase: ${why}`)
    return marked.text
  } catch (error) {
    warnings.push(`schema.sql is not marked for a by-hand restore into Supabase: ${(error as Error).message}`)
    return sql
  }
}

/** pg_dump when it can (no -t, a pg_dump as new as the server), or why not. */
async function pickPgDump(
  options: SchemaSqlOptions,
  catalog: SchemaCatalog,
  env: NodeJS.ProcessEnv,
): Promise<{ tool?: PgDumpTool; note?: string }> {
  if (options.prefer === 'catalog' || !options.connection || catalog.schemas.length === 0) return {}
  if (options.tables && options.tables.length > 0) {
    return {
      note: 'Why not pg_dump: with -t, pg_dump leaves out the schemas, types and functions the tables need.',
    }
  }
  if (options.excludeTables && options.excludeTables.length > 0) {
    return {
      note: 'Why not pg_dump: with -T, the catalogs leave out exactly the tables the data leaves out.',
    }
  }
  const found = await findPgDump({
    serverVersionNum: options.connection.serverVersionNum,
    pgDumpPath: options.pgDumpPath,
    env,
  })
  return 'tool' in found ? { tool: found.tool } : { note: `Why not pg_dump: ${found.reason}.` }
}

/**
 * Produces schema.sql for the selected schemas, roles.sql and the manifest's access
 * data. Call it inside the backup's snapshot transaction (it only reads), passing that
 * snapshot's id for pg_dump.
 */
export async function generateSchemaSql(
  client: pg.ClientBase,
  options: SchemaSqlOptions,
): Promise<SchemaSql> {
  const catalog = await readSchemaCatalog(client, options.schemas)
  // A Supabase project's schema.sql is parsed to be marked: the parser's thread starts
  // now, so its WASM loads while pg_dump runs.
  const parser = catalog.schemas.some((s) => isManagedSchema(s.name)) ? openSqlParser() : undefined
  return await buildSchemaSql(client, options, catalog, parser).finally(() => parser?.close())
}

async function buildSchemaSql(
  client: pg.ClientBase,
  options: SchemaSqlOptions,
  catalog: SchemaCatalog,
  parser: SqlParser | undefined,
): Promise<SchemaSql> {
  const env = options.env ?? process.env
  const plan = planFromCatalog(catalog, { tables: options.tables, excludeTables: options.excludeTables })
  const warnings: string[] = []
  const notes: string[] = []
  const { tool, note } = await pickPgDump(options, catalog, env)
  if (note) notes.push(note)
  if (tool && options.connection) {
    try {
      const capture = await captureStructure(client, catalog, plan, 'pg_dump')
      options.onCatalogsRead?.()
      const dump = await dumpWithPgDump(tool, catalog, { ...options, connection: options.connection }, env)
      const { candidates: _, ...rest } = capture
      const notes = warningsOf(rest, plan, 'pg_dump')
      const rendered = renderPgDumpSql(tool, catalog, plan, dump, capture)
      const sql = await withSupabaseMarkers(rendered, catalog, rest, notes, parser)
      return { sql, source: `pg_dump ${tool.version}`, warnings: notes, capture: rest }
    } catch (error) {
      warnings.push(
        `pg_dump failed, schema.sql comes from the catalogs instead: ${redact((error as Error).message)}`,
      )
    }
  }
  const capture = await captureStructure(client, catalog, plan, 'catalog')
  options.onCatalogsRead?.()
  const rendered = renderCatalogSql(catalog, plan, {
    notes,
    capture: capture.schema,
    access: accessPart(capture, plan.owners),
  })
  const { candidates: _, ...rest } = capture
  warnings.push(...warningsOf(rest, plan, 'catalog'))
  const sql = await withSupabaseMarkers(rendered, catalog, rest, warnings, parser)
  return { sql, source: 'catalog', warnings, capture: rest }
}
