// Restore decisions made before anything is written, as pure functions: which tables
// a subset covers, whether the target's schema can take the archive's rows, whether
// the target may be written at all (production, non-empty), and how schema.sql is applied.
import { type AgeIdentitySource, readAgeIdentity } from './age-config.ts'
import { type Env, type Flags, readStoreConfig, SettingsReader, type StoreConfig } from './config.ts'
import { LifeboatError } from './errors.ts'
import { type Manifest, qualifiedName, type SequenceEntry, type TableEntry } from './manifest.ts'
import type { Secret } from './secret.ts'
import { patternToRegExp, type Selection } from './selection.ts'

// ---------------------------------------------------------------------------
// Settings

export interface RestoreConfig {
  /** What to restore: a path, `s3://` URL or key, `latest`, a date or a backup id. */
  what: string
  target: Secret
  targetSetting: 'TARGET_DATABASE_URL' | '--target'
  /** Absent when only a local archive is restored. */
  store: StoreConfig | undefined
  selection: Selection | undefined
  createSchema: boolean
  truncate: boolean
  confirm: string | undefined
  verify: boolean
  tempDir: string | undefined
  /** BACKUP_AGE_IDENTITY (or --identity), needed only for an encrypted archive. */
  identity: AgeIdentitySource | undefined
  /** Where production lives according to the environment: never a restore target without --confirm. */
  production: { setting: string; url: Secret }[]
}

/** Reads the restore job's settings; every problem is reported at once. */
export function readRestoreConfig(env: Env, flags: Flags, positional: readonly string[]): RestoreConfig {
  const reader = new SettingsReader(env, flags)
  if (positional.length === 0) {
    throw new LifeboatError(
      'USAGE',
      'name the backup to restore: a file, an s3:// URL, latest, YYYY-MM-DD or a backup id',
    )
  }
  if (positional.length > 1) {
    throw new LifeboatError(
      'USAGE',
      `restore takes one backup, got ${positional.length}: ${positional.join(' ')}`,
    )
  }
  const target = reader.requiredSecret('target', 'TARGET_DATABASE_URL')
  if (target && !/^postgres(ql)?:\/\//.test(target.reveal())) {
    reader.invalid('TARGET_DATABASE_URL (--target) must be a postgresql:// URL')
  }
  // A local archive needs no store; anything else is looked up in BACKUP_STORE.
  const store = reader.optional('store', 'BACKUP_STORE') === undefined ? undefined : readStoreConfig(reader)
  const selection: Selection = {
    schemas: reader.list('schema'),
    excludeSchemas: reader.list('exclude-schema'),
    tables: reader.list('table'),
    excludeTables: reader.list('exclude-table'),
  }
  const anySelection = Object.values(selection).some((list) => list.length > 0)
  const production = ['DATABASE_URL', 'SUPABASE_DB_URL'].flatMap((setting) => {
    const url = reader.secret(undefined, setting)
    return url && /^postgres(ql)?:\/\//.test(url.reveal()) ? [{ setting, url }] : []
  })
  const confirm = reader.optional('confirm')
  const config = {
    what: positional[0]!,
    targetSetting: (typeof flags.target === 'string' && flags.target !== ''
      ? '--target'
      : 'TARGET_DATABASE_URL') as '--target' | 'TARGET_DATABASE_URL',
    store,
    selection: anySelection ? selection : undefined,
    createSchema: reader.boolean('create-schema'),
    truncate: reader.boolean('truncate'),
    confirm,
    verify: flags.verify !== false,
    tempDir: reader.optional('temp-dir', 'LIFEBOAT_TEMP_DIR'),
    identity: readAgeIdentity(reader),
    production,
  }
  if (flags.confirm === true || flags.confirm === '')
    reader.invalid('--confirm needs the target database name')
  reader.finish()
  return { ...config, target: target! }
}

// ---------------------------------------------------------------------------
// Subsets

/**
 * The archive's tables a restore covers, in archive (restore) order. Without
 * -n/-t everything; otherwise pg_dump's rules, applied to what the archive holds
 * (no schema is excluded by default: the backup already chose).
 */
export function selectArchiveTables(manifest: Manifest, selection: Selection | undefined): TableEntry[] {
  if (!selection) return [...manifest.tables]
  const matches = (patterns: readonly string[], schema: string, table: string | undefined) =>
    patterns.some((p) => {
      const dot = p.indexOf('.')
      if (table === undefined) return patternToRegExp(p).test(schema)
      return dot === -1
        ? patternToRegExp(p).test(table)
        : patternToRegExp(p.slice(0, dot)).test(schema) && patternToRegExp(p.slice(dot + 1)).test(table)
    })
  const chosen = manifest.tables.filter((t) => {
    if (matches(selection.excludeSchemas, t.schema, undefined)) return false
    if (matches(selection.excludeTables, t.schema, t.name)) return false
    const included =
      selection.schemas.length === 0 && selection.tables.length === 0
        ? true
        : matches(selection.schemas, t.schema, undefined) || matches(selection.tables, t.schema, t.name)
    return included
  })
  if (chosen.length === 0) {
    throw new LifeboatError('USAGE', `no table of backup ${manifest.id} matches the -n/-t/-N/-T selection`)
  }
  return chosen
}

/** Sequences to set: all of them for a full restore, those owned by restored tables for a subset. */
export function sequencesToRestore(manifest: Manifest, tables: readonly TableEntry[]): SequenceEntry[] {
  if (tables.length === manifest.tables.length) return [...manifest.sequences]
  const restored = new Set(tables.map(qualifiedName))
  return manifest.sequences.filter((s) => s.ownedBy && restored.has(`${s.ownedBy.schema}.${s.ownedBy.table}`))
}

// ---------------------------------------------------------------------------
// Schema compatibility

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

/** Tables that already hold rows are refused unless --truncate replaces them. */
export function assertTargetEmpty(
  tables: readonly TableEntry[],
  target: TargetState,
  truncate: boolean,
): void {
  if (truncate) return
  const filled = tables.map(qualifiedName).filter((name) => target.tables.get(name)?.hasRows)
  if (filled.length === 0) return
  throw new LifeboatError(
    'TARGET_NOT_EMPTY',
    `${filled.length} table${filled.length === 1 ? '' : 's'} in the target already hold rows (${filled.slice(0, 5).join(', ')}${filled.length > 5 ? ', …' : ''}); pass --truncate to replace them`,
    { details: filled },
  )
}

/** --create-schema builds the tables, so none of them may exist yet. */
export function assertCreatable(manifest: Manifest, target: TargetState): void {
  if (!manifest.schemaSql) {
    throw new LifeboatError(
      'SCHEMA_MISMATCH',
      `backup ${manifest.id} holds no schema.sql, so --create-schema cannot build the tables; create the schema first and restore without it`,
    )
  }
  const existing = manifest.tables.map(qualifiedName).filter((name) => target.tables.has(name))
  if (existing.length === 0) return
  throw new LifeboatError(
    'TARGET_NOT_EMPTY',
    `--create-schema needs a target without the archive's tables, but ${existing.length} exist (${existing.slice(0, 5).join(', ')}${existing.length > 5 ? ', …' : ''}); restore without --create-schema (with --truncate) or into an empty database`,
    { details: existing },
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

// ---------------------------------------------------------------------------
// Production safety

export interface Endpoint {
  host: string
  /** Unknown for a manifest's source (it records host and database only). */
  port?: number
  database: string
  user?: string
}

function canonicalHost(host: string): string {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '')
  return h === 'localhost' || h === '127.0.0.1' || h === '::1' ? 'localhost' : h
}

/**
 * Whether two endpoints name the same database. Supabase's poolers serve many
 * projects on one host and tell them apart by the user (`postgres.<project ref>`),
 * so where both users carry a project ref, the refs must agree too.
 */
export function sameDatabase(a: Endpoint, b: Endpoint): boolean {
  if (canonicalHost(a.host) !== canonicalHost(b.host) || a.database !== b.database) return false
  if (a.port !== undefined && b.port !== undefined && a.port !== b.port) return false
  const ref = (user: string | undefined) =>
    user?.includes('.') ? user.slice(user.indexOf('.') + 1) : undefined
  const refA = ref(a.user)
  const refB = ref(b.user)
  return refA === undefined || refB === undefined || refA === refB
}

export const PRODUCTION_MARKER = 'lifeboat.environment'

/**
 * Why the target counts as production (empty when it does not): it is the backup's
 * source, it is the source the environment names, or the database is marked
 * `ALTER DATABASE … SET lifeboat.environment = 'production'`.
 */
export function productionReasons(input: {
  target: Endpoint
  marker: string | null | undefined
  backupSource?: Endpoint | undefined
  environment: readonly { setting: string; endpoint: Endpoint }[]
}): string[] {
  const reasons: string[] = []
  if (input.backupSource && sameDatabase(input.target, input.backupSource)) {
    reasons.push('it is the database this backup was taken from')
  }
  for (const { setting, endpoint } of input.environment) {
    if (sameDatabase(input.target, endpoint)) reasons.push(`it is the database ${setting} names`)
  }
  if (input.marker?.trim().toLowerCase() === 'production') {
    reasons.push(`it is marked ${PRODUCTION_MARKER} = 'production'`)
  }
  return reasons
}

/** A protected target needs `--confirm <its database name>`; a wrong name is refused too. */
export function assertTargetAllowed(
  reasons: readonly string[],
  database: string,
  confirm: string | undefined,
): void {
  if (confirm !== undefined && confirm !== database) {
    throw new LifeboatError(
      'TARGET_PROTECTED',
      `--confirm "${confirm}" does not match the target database "${database}"; nothing was written`,
    )
  }
  if (reasons.length === 0 || confirm === database) return
  throw new LifeboatError(
    'TARGET_PROTECTED',
    `refusing to restore into "${database}": ${reasons.join('; ')}; to overwrite it anyway pass --confirm ${database}`,
    { details: [...reasons] },
  )
}

// ---------------------------------------------------------------------------
// schema.sql

export const POST_DATA_MARKER = '-- lifeboat:post-data'

/** psql meta-commands pg_dump may emit (`\restrict` since 17.6/16.10/15.14); the server cannot run them. */
const META_COMMAND = /^\\(?:restrict|unrestrict|connect|c|encoding|set|unset)(?:\s.*)?$/

/** Transaction control would end the restore's transaction early and break all-or-nothing. */
const TRANSACTION_CONTROL =
  /^\s*(?:BEGIN|COMMIT|END|ROLLBACK|START\s+TRANSACTION|ABORT)\s*(?:WORK|TRANSACTION)?\s*;/i

/**
 * Splits schema.sql into what must exist before the data (types, tables) and what
 * is faster built after it (indexes, constraints, triggers), at the marker line the
 * schema generator may write; without the marker everything goes first.
 */
export function splitSchemaSql(text: string): { preData: string; postData: string } {
  const lines = text.split('\n')
  const kept: string[] = []
  let marker = -1
  // Lines inside dollar-quoted bodies (functions: `END;`, `COMMIT;` in a procedure) are code, not commands.
  let quote: string | undefined
  lines.forEach((line, index) => {
    const outside = quote === undefined
    // Outside a body, `'costs $$'` is a string, not the start of one.
    const code = outside ? line.replace(/'(?:[^']|'')*'/g, "''") : line
    for (const match of code.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)?\$/g)) {
      if (quote === undefined) quote = match[0]
      else if (match[0] === quote) quote = undefined
    }
    if (outside && META_COMMAND.test(line.trimEnd())) return
    if (outside && TRANSACTION_CONTROL.test(line)) {
      throw new LifeboatError(
        'ARCHIVE_FORMAT',
        `schema.sql line ${index + 1} controls transactions ("${line.trim().slice(0, 40)}"); the restore runs it inside its own transaction`,
      )
    }
    if (outside && marker === -1 && line.trim() === POST_DATA_MARKER) marker = kept.length
    kept.push(line)
  })
  if (marker === -1) return { preData: kept.join('\n'), postData: '' }
  return { preData: kept.slice(0, marker).join('\n'), postData: kept.slice(marker).join('\n') }
}
