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

/** Prefix that keeps every key a non-index string, so objects keep the document's key order. */
const KEY = '\u0001'

/**
 * JSON.parse with every object key prefixed: JavaScript objects list integer-like keys
 * ("1", "42") first, which would reorder columns named like that.
 */
export function parseKeepingKeyOrder(text: string): unknown {
  let out = ''
  let i = 0
  while (i < text.length) {
    const ch = text[i]!
    if (ch !== '"') {
      out += ch
      i++
      continue
    }
    let end = i + 1
    while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1
    const token = text.slice(i, end + 1)
    let next = end + 1
    while (next < text.length && /\s/.test(text[next]!)) next++
    // The escape, not the character: JSON forbids raw control characters in strings.
    out += text[next] === ':' ? `"\\u0001${token.slice(1)}` : token
    i = end + 1
  }
  return JSON.parse(out)
}

type Keyed<T> = Record<string, T>

/** Reads the tables of one exposed schema from its OpenAPI document (the response text). */
export function parseOpenApi(text: string, schema: string): RestTable[] {
  let doc: Keyed<unknown>
  try {
    doc = parseKeepingKeyOrder(text) as Keyed<unknown>
  } catch {
    throw new LifeboatError(
      'API_REQUEST',
      `the API's description of schema ${schema} is not JSON: is SUPABASE_URL a Supabase project?`,
    )
  }
  const definitions = doc?.[`${KEY}definitions`] as Keyed<Keyed<unknown>> | undefined
  if (typeof definitions !== 'object' || definitions === null) {
    throw new LifeboatError(
      'API_REQUEST',
      `the API's OpenAPI document for schema ${schema} has no definitions: is this a PostgREST endpoint (SUPABASE_URL)?`,
    )
  }
  const paths = (doc[`${KEY}paths`] ?? {}) as Keyed<Keyed<unknown>>
  const tables: RestTable[] = []
  for (const [key, definition] of Object.entries(definitions)) {
    const name = key.slice(KEY.length)
    const requiredList = definition[`${KEY}required`]
    const required = new Set(Array.isArray(requiredList) ? (requiredList as string[]) : [])
    const properties = (definition[`${KEY}properties`] ?? {}) as Keyed<Keyed<unknown>>
    const columns: RestColumn[] = Object.entries(properties).map(([propertyKey, p]) => {
      const column = propertyKey.slice(KEY.length)
      const field = (f: string) => p[`${KEY}${f}`]
      const description = typeof field('description') === 'string' ? (field('description') as string) : ''
      const fk = /<fk table='([^']*)' column='([^']*)'\/>/.exec(description)
      const format = field('format')
      const fallback = field('default')
      const maxLength = field('maxLength')
      const values = field('enum')
      return {
        name: column,
        format: typeof format === 'string' ? format : 'text',
        nullable: !required.has(column),
        primaryKey: description.includes('<pk/>'),
        ...(fk ? { references: { table: fk[1]!, column: fk[2]! } } : {}),
        ...(fallback !== undefined ? { default: fallback } : {}),
        ...(typeof maxLength === 'number' ? { maxLength } : {}),
        ...(Array.isArray(values) ? { enumValues: values.map(String) } : {}),
      }
    })
    const path = paths[`${KEY}/${name}`] ?? {}
    tables.push({
      schema,
      name,
      columns,
      primaryKey: columns.filter((c) => c.primaryKey).map((c) => c.name),
      insertable: `${KEY}post` in path,
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
  if (
    column.maxLength !== undefined &&
    (column.format === 'character varying' || column.format === 'character')
  ) {
    return `${column.format}(${column.maxLength})`
  }
  return column.format
}

/** Serial and identity columns: their sequence must be advanced after rows are inserted with explicit ids. */
export function usesSequence(column: RestColumn): boolean {
  return typeof column.default === 'string' && column.default.startsWith('nextval(')
}
