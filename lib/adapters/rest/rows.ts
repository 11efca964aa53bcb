// Rows read through the API, written exactly as archive format v1 has them: each value
// the column's PostgreSQL text output as a JSON string (the API casts with `::text`),
// keys in column order, rows in the direct export's order. Also the reverse: request
// bodies for inserts, and the text forms of what the auth admin API returns.
import { LifeboatError } from '../../core/errors.ts'
import { isCollatable, isJsonColumn, type RestColumn } from './openapi.ts'

export type TextRow = Record<string, string | null>

const SIMPLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** A column name in PostgREST's select/order syntax (double quotes for anything unusual). */
export function apiName(name: string): string {
  return SIMPLE_NAME.test(name) ? name : `"${name.replaceAll('"', '""')}"`
}

/** `select=` that returns every value as its text output. */
export function textSelect(columns: readonly RestColumn[]): string {
  return columns.map((c) => `${apiName(c.name)}::text`).join(',')
}

/**
 * One NDJSON line, as `row_to_json(s.*)` over `col::text AS col` writes it. Built key by
 * key: a JavaScript object would move integer-like keys ("1") to the front.
 */
export function rowLine(columns: readonly RestColumn[], row: Record<string, unknown>, where: string): string {
  const parts = columns.map((c) => {
    const value = row[c.name]
    if (value !== null && typeof value !== 'string') {
      throw new LifeboatError(
        'API_REQUEST',
        `${where}: column ${c.name} came back as ${typeof value}, not text: the API ignored the ::text cast`,
      )
    }
    return `${JSON.stringify(c.name)}:${JSON.stringify(value ?? null)}`
  })
  return `{${parts.join(',')}}\n`
}

/**
 * A row's text as PostgreSQL's record output prints it (`t::text`): how the direct
 * export orders tables without a primary key.
 */
export function recordText(values: readonly (string | null)[]): string {
  const fields = values.map((v) => {
    if (v === null) return ''
    if (v === '' || /["\\(),\s]/.test(v)) return `"${v.replace(/["\\]/g, (c) => c + c)}"`
    return v
  })
  return `(${fields.join(',')})`
}

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

export interface OrderedRow {
  /** The values the order depends on (primary key, or the whole row's record text). */
  keys: (string | null)[]
  /** Position in the order the API returned: that order is right for non-text columns. */
  position: number
}

/**
 * The direct export orders text key columns with COLLATE "C" (bytes); the API orders by
 * the column's collation. Rows keep the API's order except where a text key differs:
 * there bytes decide. For other columns the API's order is the type's own order, and
 * when two rows first differ in such a column that order is the one to keep.
 */
export function archiveOrder(keyColumns: readonly RestColumn[] | 'record') {
  return (a: OrderedRow, b: OrderedRow): number => {
    if (keyColumns === 'record')
      return byteCompare(a.keys[0] ?? '', b.keys[0] ?? '') || a.position - b.position
    for (let i = 0; i < keyColumns.length; i++) {
      const x = a.keys[i] ?? null
      const y = b.keys[i] ?? null
      if (x === y) continue
      if (isCollatable(keyColumns[i]!) && x !== null && y !== null) return byteCompare(x, y)
      return a.position - b.position
    }
    return a.position - b.position
  }
}

/** Whether the rows already are in archive order (then nothing needs sorting). */
export function inArchiveOrder(
  rows: readonly OrderedRow[],
  keyColumns: readonly RestColumn[] | 'record',
): boolean {
  const compare = archiveOrder(keyColumns)
  for (let i = 1; i < rows.length; i++) if (compare(rows[i - 1]!, rows[i]!) > 0) return false
  return true
}

/**
 * A JSON array body for POST from archive lines. The lines already are JSON objects of
 * strings, which PostgREST hands to each column's input function; json and jsonb
 * columns alone must get their value as JSON itself, or they would store a string.
 */
export function insertBody(
  lines: readonly string[],
  columns: readonly RestColumn[],
  omit: ReadonlySet<string>,
): string {
  const raw = columns.filter((c) => isJsonColumn(c))
  if (raw.length === 0 && omit.size === 0) return `[${lines.join(',')}]`
  const rawNames = new Set(raw.map((c) => c.name))
  const objects = lines.map((line) => {
    const row = JSON.parse(line) as TextRow
    const parts: string[] = []
    for (const [name, value] of Object.entries(row)) {
      if (omit.has(name)) continue
      const text = value === null ? 'null' : rawNames.has(name) ? value : JSON.stringify(value)
      parts.push(`${JSON.stringify(name)}:${text}`)
    }
    return `{${parts.join(',')}}`
  })
  return `[${objects.join(',')}]`
}

/**
 * jsonb's text output: object keys ordered by length, then bytes; `", "` and `": "`
 * separators. Numbers are as JavaScript read them (the auth API already parsed them).
 */
export function jsonbText(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  if (Array.isArray(value)) return `[${value.map(jsonbText).join(', ')}]`
  if (typeof value === 'object') {
    const keys = Object.keys(value as object).sort((a, b) => {
      const la = Buffer.byteLength(a)
      const lb = Buffer.byteLength(b)
      return la !== lb ? la - lb : byteCompare(a, b)
    })
    return `{${keys.map((k) => `${JSON.stringify(k)}: ${jsonbText((value as Record<string, unknown>)[k])}`).join(', ')}}`
  }
  return JSON.stringify(value)
}

/**
 * An RFC 3339 time from the auth API (`2025-01-01T07:00:00.5Z`) as a timestamptz
 * prints in UTC (`2025-01-01 07:00:00.5+00`); undefined when it is not such a time.
 */
export function timestamptzText(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/.exec(value)
  if (!m) return undefined
  const fraction = (m[3] ?? '').replace(/0+$/, '').replace(/^\.$/, '')
  if (m[4] === 'Z' || /^[+-]00:?00$/.test(m[4]!)) return `${m[1]} ${m[2]}${fraction}+00`
  const utc = new Date(`${m[1]}T${m[2]}${m[4]}`)
  if (Number.isNaN(utc.getTime())) return undefined
  const iso = utc.toISOString()
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction}+00`
}
