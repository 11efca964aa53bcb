// Whether the target can take the archive's rows, decided before anything is written:
// schema compatibility, tables that already hold rows, parents of a subset. Pure.

import { type Manifest, qualifiedName, type SequenceEntry, type TableEntry } from '../archive/manifest.ts'
import { LifeboatError } from '../core/errors.ts'
import type { RestorePlan } from './target.ts'

export interface TargetColumn {
  name: string
  /** `format_type()` text, read with an empty search_path (as the backup reads it). */
  type: string
  notNull: boolean
  hasDefault: boolean
  identity: 'a' | 'd' | null
  generated: boolean
  collatable: boolean
  /** Its `::text` cast is not its output function: export casts it. */
  textCast: boolean
  /** `character(n)`: export trims its trailing spaces. */
  padded: boolean
}

export interface TargetTable {
  schema: string
  name: string
  /** pg_class.relkind: `r` table, `p` partitioned table, anything else is not a table. */
  kind: string
  columns: TargetColumn[]
  hasRows: boolean
}

/** What the target holds of the archive's tables and sequences, by `schema.name`. */
export interface TargetState {
  tables: ReadonlyMap<string, TargetTable>
  sequences: ReadonlySet<string>
}

const INTEGER_RANK: Record<string, number> = { smallint: 1, integer: 2, bigint: 3 }

/**
 * Whether values of an archive column's type load into a target column's type and
 * print back the same text (so the after-load hashes still match). Beyond an exact
 * match, only widenings that keep every value's text: varchar(n) to a longer
 * varchar, varchar or text; smallint to integer or bigint, integer to bigint;
 * numeric(p,s) to numeric; timestamp(p)/time(p) to the same type without a precision;
 * the same rules for arrays of those types.
 */
export function typeCompatible(archiveType: string, targetType: string): boolean {
  if (archiveType === targetType) return true
  const dims = (type: string) => /(\[\])*$/.exec(type)![0]
  if (dims(archiveType) !== dims(targetType)) return false
  const from = archiveType.slice(0, archiveType.length - dims(archiveType).length)
  const to = targetType.slice(0, targetType.length - dims(targetType).length)
  if (from === to) return true
  const varchar = /^character varying(?:\((\d+)\))?$/
  const fromVarchar = varchar.exec(from)
  if (fromVarchar) {
    if (to === 'text') return true
    const toVarchar = varchar.exec(to)
    if (!toVarchar) return false
    if (toVarchar[1] === undefined) return true
    return fromVarchar[1] !== undefined && Number(toVarchar[1]) >= Number(fromVarchar[1])
  }
  if (from in INTEGER_RANK && to in INTEGER_RANK) return INTEGER_RANK[to]! >= INTEGER_RANK[from]!
  if (/^numeric\(\d+,\d+\)$/.test(from) && to === 'numeric') return true
  const timed = /^(timestamp|time)\((\d)\)( with(?:out)? time zone)$/.exec(from)
  if (timed) {
    const unbounded = `${timed[1]}${timed[3]}`
    const bounded = /^(timestamp|time)\((\d)\)( with(?:out)? time zone)$/.exec(to)
    if (to === unbounded) return true
    return (
      bounded !== null && `${bounded[1]}${bounded[3]}` === unbounded && Number(bounded[2]) >= Number(timed[2])
    )
  }
  return false
}

/** A type name without modifiers and schema: `public.mood` and `mood`, `numeric(12,2)` and `numeric` agree. */
export function bareTypeName(type: string): string {
  const dims = /(\[\])*$/.exec(type)![0]
  const base = type
    .slice(0, type.length - dims.length)
    .replace(/\(.*\)/, '')
    .replace(/^"?[^".]*"?\./, '')
    .replace(/"/g, '')
  return `${base.trim()}${dims}`
}

/**
 * Every reason the archive's rows cannot go into the target as it is, one line each
 * (so a person fixes them all in one go). Empty when the target is compatible.
 */
export function checkSchema(
  tables: readonly TableEntry[],
  sequences: readonly SequenceEntry[],
  target: TargetState,
  options: { typeModifiersUnknown?: boolean } = {},
): string[] {
  const problems: string[] = []
  for (const table of tables) {
    const name = qualifiedName(table)
    const found = target.tables.get(name)
    if (!found) {
      problems.push(`${name}: table missing from the target`)
      continue
    }
    if (found.kind !== 'r' && found.kind !== 'p') {
      problems.push(`${name}: is not a table in the target (relkind ${found.kind})`)
      continue
    }
    const targetColumns = new Map(found.columns.map((c) => [c.name, c]))
    for (const column of table.columns) {
      const other = targetColumns.get(column.name)
      if (!other) {
        problems.push(`${name}.${column.name}: column missing from the target (archive type ${column.type})`)
        continue
      }
      // An API-only backup knows types without modifiers or schema (`numeric`, `mood`):
      // the after-load re-export, not this check, proves those values load unchanged.
      const loose =
        options.typeModifiersUnknown === true && bareTypeName(column.type) === bareTypeName(other.type)
      if (!typeCompatible(column.type, other.type) && !loose) {
        problems.push(
          `${name}.${column.name}: type ${column.type} in the archive, ${other.type} in the target`,
        )
      }
      if (column.generated && !other.generated) {
        problems.push(
          `${name}.${column.name}: generated in the archive (its values are not stored), plain in the target`,
        )
      } else if (!column.generated && other.generated) {
        problems.push(
          `${name}.${column.name}: generated in the target, plain in the archive (its values cannot be loaded)`,
        )
      }
    }
    const archiveColumns = new Set(table.columns.map((c) => c.name))
    for (const column of found.columns) {
      if (archiveColumns.has(column.name)) continue
      if (column.notNull && !column.hasDefault && column.identity === null && !column.generated) {
        problems.push(
          `${name}.${column.name}: NOT NULL without a default in the target, absent from the archive`,
        )
      }
    }
  }
  for (const sequence of sequences) {
    const name = qualifiedName(sequence)
    if (!target.sequences.has(name)) problems.push(`${name}: sequence missing from the target`)
  }
  return problems
}

/** Throws SCHEMA_MISMATCH listing every problem, or returns. */
export function assertSchemaCompatible(problems: readonly string[]): void {
  if (problems.length === 0) return
  const shown = problems.slice(0, 5).join('; ')
  const more = problems.length > 5 ? `; and ${problems.length - 5} more` : ''
  throw new LifeboatError(
    'SCHEMA_MISMATCH',
    `the target's schema does not match the archive (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${shown}${more}`,
    { details: problems },
  )
}

/** The tables of `tables` that hold rows in the target, by name. */
function filledTables(tables: readonly TableEntry[], target: TargetState): string[] {
  return tables.map(qualifiedName).filter((name) => target.tables.get(name)?.hasRows)
}

/** The first five names and `…`: enough to act on, short enough for one line. */
function shortList(names: readonly string[]): string {
  return `${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}`
}

/** Tables that already hold rows are refused unless --truncate replaces them. */
export function assertTargetEmpty(
  tables: readonly TableEntry[],
  target: TargetState,
  truncate: boolean,
): void {
  if (truncate) return
  const filled = filledTables(tables, target)
  if (filled.length === 0) return
  throw new LifeboatError(
    'TARGET_NOT_EMPTY',
    `${filled.length} table${filled.length === 1 ? '' : 's'} in the target already hold rows (${shortList(filled)}); pass --truncate to replace them`,
    { details: filled },
  )
}

/** --create-schema builds the tables, so none of them may exist yet (`existing`: those it does not build). */
export function assertCreatable(
  manifest: Manifest,
  target: TargetState,
  existing: ReadonlySet<string> = new Set(),
  created: readonly TableEntry[] = manifest.tables,
): void {
  if (!manifest.schemaSql) {
    throw new LifeboatError(
      'SCHEMA_MISMATCH',
      `backup ${manifest.id} holds no schema.sql, so --create-schema cannot build the tables; create the schema first and restore without it`,
    )
  }
  const found = created.map(qualifiedName).filter((name) => target.tables.has(name) && !existing.has(name))
  if (found.length === 0) return
  throw new LifeboatError(
    'TARGET_NOT_EMPTY',
    `--create-schema needs a target without the archive's tables, but ${found.length} exist (${shortList(found)}); restore without --create-schema (with --truncate) or into an empty database`,
    { details: found },
  )
}

/** `"My Schema".t` as `My Schema.t`: the omitted list names objects as SQL writes them. */
export function unquoteQualified(ident: string): string {
  const parts: string[] = []
  for (const m of ident.matchAll(/"((?:[^"]|"")*)"|([^".]+)/g))
    parts.push(m[1]?.replaceAll('""', '"') ?? m[2]!)
  return parts.join('.')
}

const TABLE_KINDS = new Set(['table', 'partitioned table', 'foreign table'])

/**
 * --create-schema loads every planned table into what schema.sql built: a table the
 * backup could not reproduce (schemaSql.omitted says why) and the target does not have
 * would make the load fail after schema.sql ran, so it is refused before the first write.
 */
export function tablesSchemaSqlLacks(plan: RestorePlan, target: TargetState): string[] {
  if (!plan.createSchema) return []
  const omitted = new Map<string, string>()
  for (const o of plan.manifest.schemaSql?.omitted ?? [])
    if (TABLE_KINDS.has(o.kind)) omitted.set(unquoteQualified(o.name), o.reason)
  const problems: string[] = []
  for (const table of plan.tables) {
    const name = qualifiedName(table)
    const reason = omitted.get(name)
    if (reason === undefined || target.tables.has(name) || plan.existingTables?.has(name)) continue
    problems.push(
      `${name}: schema.sql does not create this table (${reason}) and the target does not have it, so its ${table.rows} row${table.rows === 1 ? '' : 's'} cannot be loaded`,
    )
  }
  return problems
}

export function assertSchemaSqlCreatesTables(problems: readonly string[]): void {
  if (problems.length === 0) return
  throw new LifeboatError(
    'SCHEMA_MISMATCH',
    `${problems.join('; ')}; create ${problems.length === 1 ? 'it' : 'them'} on the target first and restore without --create-schema, or leave ${problems.length === 1 ? 'it' : 'them'} out with -t`,
    { details: problems },
  )
}

/**
 * A subset's foreign-key parents must be restored too, or already hold rows in the
 * target; otherwise every child row would dangle. Tables without rows need no parent.
 */
export function missingParents(tables: readonly TableEntry[], target: TargetState): string[] {
  const restored = new Set(tables.map(qualifiedName))
  const problems: string[] = []
  for (const table of tables) {
    if (table.rows === 0) continue
    for (const fk of table.foreignKeys) {
      const parent = `${fk.referencedSchema}.${fk.referencedTable}`
      if (restored.has(parent) || target.tables.get(parent)?.hasRows) continue
      problems.push(
        `${qualifiedName(table)} references ${parent} (${fk.name}), which is neither restored nor holds rows in the target`,
      )
    }
  }
  return problems
}

export function assertParentsPresent(problems: readonly string[]): void {
  if (problems.length === 0) return
  throw new LifeboatError(
    'USAGE',
    `the selected tables need parents that are missing: ${problems.join('; ')}; add them with -t or restore them first`,
    { details: problems },
  )
}

/**
 * A platform's own tables (a Supabase project's auth and storage) are never emptied, so
 * rows there are refused whatever --truncate says: the app's tables can be replaced in
 * place, the project's users and files only by a restore into a new project.
 */
export function assertPlatformTablesEmpty(tables: readonly TableEntry[], target: TargetState): void {
  const filled = filledTables(tables, target)
  if (filled.length === 0) return
  throw new LifeboatError(
    'TARGET_NOT_EMPTY',
    `${filled.length} of the project's own table${filled.length === 1 ? '' : 's'} already hold rows (${shortList(filled)}), and a restore never empties them, --truncate or not: restore into a new project`,
    { details: filled },
  )
}

/**
 * Tables the restore loads as the target has them (all of them, or with --create-schema
 * a platform's own ones): compatible columns and sequences, and empty unless truncated (a platform's own: empty).
 */
export function assertExistingTablesFit(plan: RestorePlan, state: TargetState): void {
  const existing = plan.createSchema
    ? plan.tables.filter((t) => plan.existingTables?.has(qualifiedName(t)))
    : plan.tables
  if (existing.length === 0) return
  const owned = new Set(existing.map(qualifiedName))
  const sequences = plan.createSchema
    ? plan.sequences.filter((s) => s.ownedBy && owned.has(`${s.ownedBy.schema}.${s.ownedBy.table}`))
    : plan.sequences
  assertSchemaCompatible(
    checkSchema(existing, sequences, state, { typeModifiersUnknown: plan.manifest.source.kind === 'rest' }),
  )
  const platform = (t: TableEntry) => plan.existingTables?.has(qualifiedName(t)) ?? false
  assertTargetEmpty(
    existing.filter((t) => !platform(t)),
    state,
    plan.truncate,
  )
  assertPlatformTablesEmpty(existing.filter(platform), state)
}

export type Check = () => void | Promise<void>

/**
 * Runs every check and throws one error naming every problem they found (the first
 * problem's code decides the exit), or nothing when all pass.
 */
export async function assertEvery(checks: readonly Check[]): Promise<void> {
  const problems: LifeboatError[] = []
  for (const check of checks) {
    try {
      await check()
    } catch (error) {
      if (!(error instanceof LifeboatError)) throw error
      problems.push(error)
    }
  }
  const [first, ...more] = problems
  if (!first) return
  if (more.length === 0) throw first
  const also = more.map((p) => `${p.code}: ${p.message}`).join('; ')
  throw new LifeboatError(first.code, `${first.message}; also ${also}`, {
    details: problems.flatMap((p) => (p.details.length > 0 ? p.details : [p.message])),
  })
}
