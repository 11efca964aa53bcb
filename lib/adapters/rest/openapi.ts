// What PostgREST's OpenAPI document (GET /rest/v1/, Swagger 2.0) says about the exposed
// tables: columns in table order with their types, the primary key (`<pk/>` in a
// column's description) and single-column foreign keys (`<fk table='…' column='…'/>`).
import { LifeboatError } from '../../core/errors.ts'

export interface RestColumn {
  name: string
  /** PostgREST's `format`: the type without modifiers for built-in types (`numeric`, `text[]`). */
  format: string
  nullable: boolean
  primaryKey: boolean
  /** A single-column foreign key; PostgREST names the table without its schema. */
  references?: { table: string; column: string }
  /** The column default as PostgREST shows it (`nextval('…'::regclass)` for serial and identity). */
  default?: unknown
  maxLength?: number
  enumValues?: string[]
}

export interface RestTable {
  schema: string
  name: string
  columns: RestColumn[]
  /** Primary-key columns, in table order (the document does not give the key's own order). */
  primaryKey: string[]
  /** POST is offered: a table or an auto-updatable view. GET-only definitions are read-only views. */
  insertable: boolean
}

interface OpenApiProperty {
  format?: unknown
  description?: unknown
  default?: unknown
  maxLength?: unknown
  enum?: unknown
}

interface OpenApiDocument {
  definitions?: Record<string, { properties?: Record<string, OpenApiProperty>; required?: unknown }>
  paths?: Record<string, Record<string, unknown>>
}

/** Reads the tables of one exposed schema from its OpenAPI document. */
export function parseOpenApi(document: unknown, schema: string): RestTable[] {
  const doc = document as OpenApiDocument
  if (typeof doc !== 'object' || doc === null || typeof doc.definitions !== 'object' || doc.definitions === null) {
    throw new LifeboatError(
      'API_REQUEST',
      `the API's OpenAPI document for schema ${schema} has no definitions: is this a PostgREST endpoint (SUPABASE_URL)?`,
    )
  }
  const tables: RestTable[] = []
  for (const [name, definition] of Object.entries(doc.definitions)) {
    const required = new Set(Array.isArray(definition.required) ? (definition.required as string[]) : [])
    const columns: RestColumn[] = Object.entries(definition.properties ?? {}).map(([column, p]) => {
      const description = typeof p.description === 'string' ? p.description : ''
      const fk = /<fk table='([^']*)' column='([^']*)'\/>/.exec(description)
      return {
        name: column,
        format: typeof p.format === 'string' ? p.format : 'text',
        nullable: !required.has(column),
        primaryKey: description.includes('<pk/>'),
        ...(fk ? { references: { table: fk[1]!, column: fk[2]! } } : {}),
        ...(p.default !== undefined ? { default: p.default } : {}),
        ...(typeof p.maxLength === 'number' ? { maxLength: p.maxLength } : {}),
        ...(Array.isArray(p.enum) ? { enumValues: p.enum.map(String) } : {}),
      }
    })
    const path = doc.paths?.[`/${name}`] ?? {}
    tables.push({
      schema,
      name,
      columns,
      primaryKey: columns.filter((c) => c.primaryKey).map((c) => c.name),
      insertable: 'post' in path,
    })
  }
  return tables.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

const COLLATABLE = new Set(['text', 'character varying', 'character', 'citext', 'name', 'bpchar', 'varchar'])
const JSON_TYPES = new Set(['json', 'jsonb'])
/** Built-in types with a btree ordering: safe in `order=` (json, point, xml… are not). */
const ORDERABLE = new Set([
  'smallint',
  'integer',
  'bigint',
  'numeric',
  'real',
  'double precision',
  'money',
  'boolean',
  'text',
  'character varying',
  'character',
  'citext',
  'name',
  'uuid',
  'date',
  'time without time zone',
  'time with time zone',
  'timestamp without time zone',
  'timestamp with time zone',
  'interval',
  'bytea',
  'inet',
  'cidr',
  'macaddr',
  'oid',
])

function baseFormat(format: string): string {
  return format.replace(/(\[\])+$/, '')
}

/** Text types compare by the column's collation on the server; the archive orders them bytewise. */
export function isCollatable(column: RestColumn): boolean {
  return COLLATABLE.has(baseFormat(column.format))
}

export function isJsonColumn(column: RestColumn): boolean {
  return JSON_TYPES.has(column.format)
}

export function isOrderable(column: RestColumn): boolean {
  if (column.format.endsWith('[]')) return false
  return ORDERABLE.has(column.format) || (column.enumValues?.length ?? 0) > 0
}

/**
 * The manifest's type for a column: PostgREST drops modifiers of built-in types, so
 * only the lengths it reports (maxLength) come back; `numeric(12,2)` reads as `numeric`.
 */
export function manifestType(column: RestColumn): string {
  if (column.maxLength !== undefined && (column.format === 'character varying' || column.format === 'character')) {
    return `${column.format}(${column.maxLength})`
  }
  return column.format
}

/** The type name without modifiers and without a schema, for loose comparison with a target. */
export function bareType(type: string): string {
  const dims = /(\[\])*$/.exec(type)![0]
  const base = type
    .slice(0, type.length - dims.length)
    .replace(/\(.*\)/, '')
    .replace(/^"?[^".]*"?\./, '')
    .replace(/"/g, '')
    .trim()
  return `${base}${dims}`
}

/** Serial and identity columns: their sequence must be advanced after rows are inserted with explicit ids. */
export function usesSequence(column: RestColumn): boolean {
  return typeof column.default === 'string' && column.default.startsWith('nextval(')
}
