// schema.sql for the archive: pg_dump --schema-only when a pg_dump at least as new as
// the server is installed, otherwise DDL generated from the catalogs (any server version).
import { spawn } from 'node:child_process'
import { access, constants, readdir, realpath } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import type pg from 'pg'
import { POST_DATA_MARKER } from '../../archive/schema-sql.ts'
import { redact, type Secret } from '../../core/secret.ts'
import { readSchemaCatalog, type SchemaCatalog } from './schema-catalog.ts'
import { type CatalogPlan, commentLine, planFromCatalog } from './schema-from-catalog.ts'

export interface SchemaSqlOptions {
  /** The selected schemas (resolved names, not patterns). */
  schemas: readonly string[]
  /** Qualified `schema.table` names when -t limits the run. */
  tables?: readonly string[]
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
}

export interface SchemaSql {
  sql: string
  /** `pg_dump 15.18` or `catalog`. */
  source: string
  /** Objects knowingly left out (event triggers, publications, privileges, …). */
  warnings: string[]
}

export interface PgDumpTool {
  path: string
  version: string
  major: number
}

/** Dumps of a newer server may use syntax an older pg_dump cannot read, so it refuses. */
export function serverMajor(serverVersionNum: number): number {
  return Math.floor(serverVersionNum / 10000)
}

/** `pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` → 15.18, major 15. */
export function parsePgDumpVersion(output: string): { version: string; major: number } | undefined {
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(output)
  if (!match) return undefined
  const major = Number(match[1])
  const version = [match[1], match[2], match[3]].filter((p) => p !== undefined).join('.')
  return { version, major }
}

/** pg_dump's -n takes a pattern; double quotes make every character (dots, `*`, case) literal. */
export function pgDumpSchemaPattern(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/**
 * A libpq URL without the password (argv is visible to every user of the host)
 * and the password separately, for PGPASSWORD.
 */
export function splitConnectionUrl(url: string): { dbname: string; password: string | undefined } {
  const parsed = new URL(url)
  let password = parsed.password ? decodeURIComponent(parsed.password) : undefined
  parsed.password = ''
  const fromQuery = parsed.searchParams.get('password')
  if (fromQuery !== null) {
    password = fromQuery
    parsed.searchParams.delete('password')
  }
  return { dbname: parsed.toString(), password }
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** pg_dump on PATH first, then the versioned install folders, newest first. */
export async function listPgDumpCandidates(env: NodeJS.ProcessEnv): Promise<string[]> {
  const found: string[] = []
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir) found.push(join(dir, 'pg_dump'))
  }
  const versioned = async (root: string, prefix: string, suffix: string) => {
    const names = await readdir(root).catch(() => [] as string[])
    return names
      .filter((n) => n.startsWith(prefix) && /^\d+/.test(n.slice(prefix.length)))
      .sort((a, b) => Number.parseFloat(b.slice(prefix.length)) - Number.parseFloat(a.slice(prefix.length)))
      .map((n) => join(root, n, suffix))
  }
  found.push(...(await versioned('/usr/lib/postgresql', '', 'bin/pg_dump')))
  found.push(...(await versioned('/usr', 'pgsql-', 'bin/pg_dump')))
  const unique: string[] = []
  const seen = new Set<string>()
  for (const path of found) {
    if (!(await isExecutable(path))) continue
    const real = await realpath(path).catch(() => path)
    if (seen.has(real)) continue
    seen.add(real)
    unique.push(path)
  }
  return unique
}

function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
    child.once('error', fail)
    child.once('close', (code) =>
      done({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    )
  })
}

export async function readPgDumpVersion(
  path: string,
  env: NodeJS.ProcessEnv,
): Promise<PgDumpTool | undefined> {
  try {
    const result = await run(path, ['--version'], env)
    const parsed = result.code === 0 ? parsePgDumpVersion(result.stdout) : undefined
    return parsed ? { path, ...parsed } : undefined
  } catch {
    return undefined
  }
}

/** The first pg_dump whose major version is at least the server's, or why there is none. */
export async function findPgDump(options: {
  serverVersionNum: number
  pgDumpPath?: string
  env: NodeJS.ProcessEnv
}): Promise<{ tool: PgDumpTool } | { reason: string }> {
  const major = serverMajor(options.serverVersionNum)
  const candidates = options.pgDumpPath ? [options.pgDumpPath] : await listPgDumpCandidates(options.env)
  const seen: string[] = []
  for (const path of candidates) {
    const tool = await readPgDumpVersion(path, options.env)
    if (!tool) continue
    if (tool.major >= major) return { tool }
    seen.push(`${tool.path} is ${tool.version}`)
  }
  const found = seen.length > 0 ? seen.join(', ') : 'none found'
  return { reason: `no pg_dump ${major} or newer for this PostgreSQL ${major} server (${found})` }
}

/**
 * Makes pg_dump's plain output load with any client into an empty database:
 * no psql meta-commands (`\restrict` keys), CREATE SCHEMA that tolerates an existing
 * schema, and the built-in `public` schema left alone (it exists, maybe not ours to alter).
 */
export function cleanPgDumpOutput(text: string): string {
  const toc = (name: string, type: string) =>
    `(--\\n-- Name: ${name}; Type: ${type}; Schema: -; Owner: -\\n--\\n\\n)`
  return text
    .replace(/^\\(?:un)?restrict [A-Za-z0-9]+\n/gm, '')
    .replace(
      new RegExp(`${toc('[^\\n]*', 'SCHEMA')}CREATE SCHEMA ([^\\n]*);\\n`, 'g'),
      (_m, head: string, name: string) =>
        name === 'public'
          ? `${head}-- public exists in every database.\n`
          : `${head}CREATE SCHEMA IF NOT EXISTS ${name};\n`,
    )
    .replace(
      new RegExp(
        `${toc('SCHEMA public', 'COMMENT')}COMMENT ON SCHEMA public IS 'standard public schema';\\n`,
        'g',
      ),
      '$1-- (the default comment of public)\n',
    )
}

const SESSION_SETTINGS = [
  'SET statement_timeout = 0;',
  'SET lock_timeout = 0;',
  'SET idle_in_transaction_session_timeout = 0;',
  "SET client_encoding = 'UTF8';",
  'SET standard_conforming_strings = on;',
  "SELECT pg_catalog.set_config('search_path', '', false);",
  // Function bodies may name tables created later; pg_dump loads with the same setting.
  'SET check_function_bodies = false;',
  'SET xmloption = content;',
  'SET client_min_messages = warning;',
  'SET row_security = off;',
]

function header(lines: readonly string[]): string {
  return ['--', ...lines.map(commentLine), '--'].join('\n')
}

function describeSchemas(catalog: SchemaCatalog): string {
  return catalog.schemas.map((s) => s.ident).join(', ') || '(none of the selected schemas exist)'
}

function extensionStatements(plan: CatalogPlan): string[] {
  return [
    ...plan.extensionSchemas.map((schema) => `CREATE SCHEMA IF NOT EXISTS ${schema};`),
    ...plan.extensions.map(
      (e) => `CREATE EXTENSION IF NOT EXISTS ${e.ident} WITH SCHEMA ${e.schemaIdent} CASCADE;`,
    ),
  ]
}

/** What neither path carries, as warnings for the backup's report. */
function commonWarnings(catalog: SchemaCatalog): string[] {
  const warnings: string[] = []
  if (catalog.hasPrivileges) {
    warnings.push('privileges (GRANT/REVOKE, default privileges) are not included; the target keeps its own')
  }
  if (catalog.eventTriggers.length > 0) {
    warnings.push(`event triggers are database-wide and not included: ${catalog.eventTriggers.join(', ')}`)
  }
  if (catalog.publications.length > 0) {
    warnings.push(`publications covering these tables are not included: ${catalog.publications.join(', ')}`)
  }
  return warnings
}

/** What the target must already have: the header says so before anything fails. */
function requirementLines(plan: CatalogPlan): string[] {
  const lines: string[] = []
  if (plan.roles.length > 0)
    lines.push(`Roles the policies name (they must exist on the target): ${plan.roles.join(', ')}`)
  if (plan.external.length > 0) {
    lines.push(`Objects outside these schemas that the DDL refers to (they must exist on the target):`)
    for (const name of plan.external) lines.push(`  ${name}`)
  }
  return lines
}

const POST_DATA_TITLES = /^(Primary keys|Indexes|Partition indexes|Foreign keys|Triggers|Row level security)/
const DATA_HOLDING_TITLES = /^(Tables|Sequences)$/

/**
 * Where the post-data part begins: the first keys/indexes/triggers section, as long
 * as nothing that holds data is created after it; otherwise no split (-1).
 */
function postDataStart(sections: readonly { title: string }[]): number {
  const first = sections.findIndex((s) => POST_DATA_TITLES.test(s.title))
  if (first === -1) return -1
  return sections.slice(first).some((s) => DATA_HOLDING_TITLES.test(s.title)) ? -1 : first
}

export function renderCatalogSql(
  catalog: SchemaCatalog,
  plan: CatalogPlan,
  notes: readonly string[] = [],
): string {
  const parts: string[] = [
    header([
      'Lifeboat schema.sql: the DDL to recreate the backed-up schemas in an empty database.',
      `Source: catalog (PostgreSQL ${catalog.serverVersion} catalogs and pg_get_*def() functions)`,
      ...notes,
      `Schemas: ${describeSchemas(catalog)}`,
      'Not included: ownership, privileges, tablespaces, statistics settings.',
      ...requirementLines(plan),
    ]),
    SESSION_SETTINGS.join('\n'),
  ]
  const schemas = catalog.schemas
    .filter((s) => s.name !== 'public')
    .map((s) => `CREATE SCHEMA IF NOT EXISTS ${s.ident};`)
  const sections = [
    { title: 'Schemas', statements: schemas },
    { title: 'Extensions the schemas use', statements: extensionStatements(plan) },
    ...plan.sections,
  ]
  const marker = postDataStart(sections)
  sections.forEach((section, index) => {
    if (index === marker) parts.push(POST_DATA_MARKER)
    if (section.statements.length === 0) return
    parts.push(`${commentLine(section.title)}\n\n${section.statements.join('\n\n')}`)
  })
  return `${parts.join('\n\n')}\n`
}

async function dumpWithPgDump(
  tool: PgDumpTool,
  catalog: SchemaCatalog,
  plan: CatalogPlan,
  options: SchemaSqlOptions & { connection: { url: Secret } },
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const { dbname, password } = splitConnectionUrl(options.connection.url.reveal())
  const args = ['--schema-only', '--no-owner', '--no-privileges', '--no-tablespaces', '--no-security-labels']
  if (options.snapshot) args.push(`--snapshot=${options.snapshot}`)
  for (const schema of catalog.schemas) args.push('-n', pgDumpSchemaPattern(schema.name))
  args.push(`--dbname=${dbname}`)
  const childEnv: NodeJS.ProcessEnv = { ...env, PGCLIENTENCODING: 'UTF8' }
  if (password !== undefined) childEnv.PGPASSWORD = password
  // Two sections, as pg_restore applies them: indexes, keys and triggers are built
  // after the data is loaded, which is much faster than maintaining them row by row.
  const dumpSection = async (section: 'pre-data' | 'post-data') => {
    const result = await run(tool.path, [...args, `--section=${section}`], childEnv)
    if (result.code !== 0) {
      throw new Error(`pg_dump exited with ${result.code}: ${redact(result.stderr.trim()).slice(0, 2000)}`)
    }
    return cleanPgDumpOutput(result.stdout)
  }
  const preData = await dumpSection('pre-data')
  const postData = await dumpSection('post-data')
  const prelude = extensionStatements(plan)
  return [
    header([
      'Lifeboat schema.sql: the DDL to recreate the backed-up schemas in an empty database.',
      `Source: pg_dump ${tool.version} --schema-only --no-owner --no-privileges`,
      `Schemas: ${describeSchemas(catalog)}`,
      ...requirementLines(plan),
    ]),
    ...(prelude.length > 0
      ? [`-- Extensions the schemas use (pg_dump -n leaves them out)\n\n${prelude.join('\n')}`]
      : []),
    preData,
    POST_DATA_MARKER,
    postData,
  ].join('\n\n')
}

/**
 * Produces schema.sql for the selected schemas. Call it inside the backup's
 * snapshot transaction (it only reads), passing that snapshot's id for pg_dump.
 */
export async function generateSchemaSql(
  client: pg.ClientBase,
  options: SchemaSqlOptions,
): Promise<SchemaSql> {
  const env = options.env ?? process.env
  const catalog = await readSchemaCatalog(client, options.schemas)
  const plan = planFromCatalog(catalog, { tables: options.tables })
  const warnings = commonWarnings(catalog)
  const notes: string[] = []

  const usePgDump =
    options.prefer !== 'catalog' && options.connection !== undefined && catalog.schemas.length > 0
  if (usePgDump && options.tables && options.tables.length > 0) {
    notes.push(
      'Why not pg_dump: with -t, pg_dump leaves out the schemas, types and functions the tables need.',
    )
  } else if (usePgDump && options.connection) {
    const found = await findPgDump({
      serverVersionNum: options.connection.serverVersionNum,
      pgDumpPath: options.pgDumpPath,
      env,
    })
    if ('tool' in found) {
      try {
        const sql = await dumpWithPgDump(
          found.tool,
          catalog,
          plan,
          { ...options, connection: options.connection },
          env,
        )
        return { sql, source: `pg_dump ${found.tool.version}`, warnings }
      } catch (error) {
        warnings.push(
          `pg_dump failed, schema.sql comes from the catalogs instead: ${redact((error as Error).message)}`,
        )
      }
    } else {
      notes.push(`Why not pg_dump: ${found.reason}.`)
    }
  }

  for (const { kind, names } of catalog.unsupported) {
    warnings.push(`${kind} objects are not recreated: ${names.join(', ')}`)
  }
  warnings.push(...plan.warnings)
  return { sql: renderCatalogSql(catalog, plan, notes), source: 'catalog', warnings }
}
