// schema.sql parsed, not trusted: split with PostgreSQL's parser, every statement checked
// against the schema step's allowlist before the first one runs, and described (kind,
// objects, roles, phase) so the restore can run them one by one, pick a -n/-t subset,
// and map owners and grants to roles that exist.
import { collectReferences, type QualifiedName } from './parse-tree.ts'
import { classifyStatement } from './schema-policy.ts'
import type { Classification, PolicyOptions } from './schema-verdict.ts'
import type { RawStatement } from './sql-script.ts'

export { POST_DATA_MARKER } from '../archive/schema-sql.ts'

/**
 * Extensions PostgreSQL marks trusted (a non-superuser may create them: they cannot
 * reach outside the database), plus plpgsql. dblink, postgres_fdw, file_fdw, adminpack
 * and the untrusted languages are deliberately absent.
 */
export const TRUSTED_EXTENSIONS: readonly string[] = [
  'btree_gin',
  'btree_gist',
  'citext',
  'cube',
  'dict_int',
  'fuzzystrmatch',
  'hstore',
  'intarray',
  'isn',
  'lo',
  'ltree',
  'pgcrypto',
  'pg_trgm',
  'plpgsql',
  'seg',
  'tablefunc',
  'tcn',
  'tsm_system_rows',
  'tsm_system_time',
  'unaccent',
  'uuid-ossp',
]

export interface SchemaStatement extends Classification {
  index: number
  /** 1-based lines in schema.sql. */
  line: number
  endLine: number
  /** Exactly the statement (no `;`): run it alone, with the extended protocol. */
  text: string
  /** The parse node, e.g. `CreateStmt`. */
  type: string
  /** After the `-- lifeboat:post-data` marker. */
  postData: boolean
  /** Other user objects it names (types, functions, tables, sequences): its dependencies. */
  references: QualifiedName[]
}

export interface SchemaInspection {
  statements: SchemaStatement[]
  preData: SchemaStatement[]
  postData: SchemaStatement[]
  markerLine: number | undefined
  /** Every role a statement names (owners, grantees, policies), PUBLIC excluded. */
  roles: string[]
  /** psql meta-command lines (`\restrict`) left out. */
  strippedLines: number[]
}

export interface SchemaInspectionOptions {
  /** Roles the backup declares: the only ones schema.sql may create or grant to each other. */
  declaredRoles?: readonly string[]
  /** Extensions CREATE EXTENSION may name; default TRUSTED_EXTENSIONS. */
  extensions?: readonly string[]
  /** Function languages; default sql and plpgsql. */
  languages?: readonly string[]
  /** The backup's schemas: when given, nothing outside them may be created or changed. */
  schemas?: readonly string[]
}

/** `line 12 ("CREATE TABLE public.x …")`: where and what, for messages. */
export function describeStatement(statement: { line: number; text: string }): string {
  const words = statement.text.replace(/\s+/g, ' ').trim()
  return `line ${statement.line} ("${words.length > 60 ? `${words.slice(0, 60)}…` : words}")`
}

/** `policy "Users read own files" on storage.objects`: what a statement makes, for messages. */
export function statementName(statement: Pick<SchemaStatement, 'kind' | 'object' | 'table'>): string {
  const on = statement.table ? ` on ${statement.table.schema ?? ''}.${statement.table.name}` : ''
  return `${statement.kind} "${statement.object?.name ?? '?'}"${on}`
}

const key = (name: QualifiedName | undefined) => (name ? `${name.schema ?? ''}.${name.name}` : '')

/** Kinds that hold data: created after the marker, their rows would have nowhere to go. */
const DATA_HOLDING = new Set(['table', 'sequence', 'materialized-view'])

function phaseConflict(statement: SchemaStatement, hasMarker: boolean): string | undefined {
  if (!hasMarker) return undefined
  if (statement.postData && statement.action === 'create' && DATA_HOLDING.has(statement.kind)) {
    return `it creates a ${statement.kind} after the post-data marker, where no data can reach it`
  }
  if (
    !statement.postData &&
    statement.action === 'create' &&
    (statement.kind === 'trigger' || statement.kind === 'rule')
  ) {
    return `it creates a ${statement.kind} before the data is loaded, where it would fire on the restored rows`
  }
  return undefined
}

function policyOptions(options: SchemaInspectionOptions): PolicyOptions {
  return {
    declaredRoles: new Set(options.declaredRoles ?? []),
    extensions: new Set(options.extensions ?? TRUSTED_EXTENSIONS),
    languages: new Set((options.languages ?? ['sql', 'plpgsql']).map((l) => l.toLowerCase())),
    schemas: options.schemas ? new Set(options.schemas) : undefined,
  }
}

/** Classifies every statement; refusals are collected, not thrown, so all are named at once. */
export function classifyStatements(
  raw: readonly RawStatement[],
  hasMarker: boolean,
  options: SchemaInspectionOptions = {},
): { statements: SchemaStatement[]; refusals: string[] } {
  const policy = policyOptions(options)
  const statements: SchemaStatement[] = []
  const refusals: string[] = []
  for (const r of raw) {
    const verdict = classifyStatement(r.type, r.node, policy)
    if (!verdict.allowed) {
      refusals.push(`${describeStatement(r)}: ${verdict.reason}`)
      continue
    }
    const statement: SchemaStatement = {
      ...verdict.facts,
      index: r.index,
      line: r.line,
      endLine: r.endLine,
      text: r.text,
      type: r.type,
      postData: r.postData,
      references: collectReferences(r.node).filter((ref) => key(ref) !== key(verdict.facts.object)),
    }
    const conflict = phaseConflict(statement, hasMarker)
    if (conflict) refusals.push(`${describeStatement(r)}: ${conflict}`)
    else statements.push(statement)
  }
  return { statements, refusals }
}

/**
 * The statements a -n/-t subset needs: those about the selected tables (the table, its
 * keys, indexes, triggers, policies, grants, comments, owned sequences), then, again and
 * again, the statements creating what those name (types, functions, sequences, schemas),
 * with what is said about those. Settings always stay. Tables named but not selected are
 * returned as `missing`: the restore decides (restore them too, or they must exist).
 */
export function statementsForTables(
  statements: readonly SchemaStatement[],
  tables: readonly QualifiedName[],
): { statements: SchemaStatement[]; missing: QualifiedName[] } {
  const selected = new Set(tables.map(key))
  const creators = new Map<string, SchemaStatement>()
  for (const s of statements) if (s.action === 'create' && s.object) creators.set(key(s.object), s)
  const kept = new Set<SchemaStatement>()
  const wanted = new Set<string>()
  const missing = new Map<string, QualifiedName>()
  const about = (s: SchemaStatement) => [key(s.object), key(s.table)]
  for (const s of statements) {
    if (s.kind === 'setting' || about(s).some((k) => selected.has(k))) kept.add(s)
  }
  let grew = true
  while (grew) {
    grew = false
    for (const s of kept) {
      const needs = [...s.references, ...(s.object?.schema ? [{ name: s.object.schema }] : [])]
      for (const ref of needs) {
        const k = key(ref)
        const creator = creators.get(k)
        if (!creator) continue
        if (DATA_HOLDING.has(creator.kind) && creator.kind !== 'sequence' && !selected.has(k)) {
          missing.set(k, ref)
          continue
        }
        if (!wanted.has(k)) {
          wanted.add(k)
          grew = true
        }
      }
    }
    for (const s of statements) {
      if (!kept.has(s) && about(s).some((k) => wanted.has(k))) {
        kept.add(s)
        grew = true
      }
    }
  }
  return { statements: statements.filter((s) => kept.has(s)), missing: [...missing.values()] }
}

/** The statements of an inspected schema.sql a restore runs: all, or those `keep` keeps. */
export function keepStatements(
  inspection: SchemaInspection,
  keep: ((statement: SchemaStatement) => boolean) | undefined,
): SchemaInspection {
  if (!keep) return inspection
  return {
    ...inspection,
    statements: inspection.statements.filter(keep),
    preData: inspection.preData.filter(keep),
    postData: inspection.postData.filter(keep),
  }
}
