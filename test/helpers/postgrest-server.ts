// A local stand-in for a Supabase project's API over the real test database, written
// from PostgREST's documentation (OpenAPI output, tables and views, pagination and
// count, errors) and GoTrue's admin API, because no PostgREST binary can be installed
// here. It speaks only what Lifeboat uses:
//   GET  /rest/v1/               OpenAPI 2.0 of the schema in Accept-Profile (tables, views,
//                                columns in order, `format`, `<pk/>`, `<fk table= column=/>`)
//   GET|HEAD /rest/v1/<table>    select with ::casts, order, eq/neq/gt/gte/lt/lte/is/in filters
//                                (and not.), offset/limit or Range + Range-Unit, Prefer:
//                                count=exact -> Content-Range a-b/total, 206/416 as PostgREST;
//                                at most `maxRows` (db-max-rows, 1000) rows per response
//   POST /rest/v1/<table>        bulk insert via json_populate_recordset, Prefer: return=
//                                minimal|representation, Content-Profile
//   DELETE /rest/v1/<table>      with a filter (Supabase's safeupdate refuses none)
//   GET|POST /auth/v1/admin/users, DELETE /auth/v1/admin/users/<id>   from auth.users
// Errors are PostgREST's body {code, message, details, hint} with its status mapping;
// a wrong apikey gets the gateway's 401. Requests are recorded, and the next N can be
// answered with a chosen status (429, 503…) or left hanging, to test backoff.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import pg from 'pg'

export interface PostgrestServerOptions {
  databaseUrl: string
  /** Exposed schemas (db-schemas); the first is the default profile. */
  schemas?: string[]
  /** db-max-rows. */
  maxRows?: number
  key?: string
}

export interface RecordedApiRequest {
  method: string
  path: string
  query: URLSearchParams
  headers: Record<string, string | string[] | undefined>
  status: number
  /** Rows in the answer (GET) or in the body (POST). */
  rows?: number
}

export interface PostgrestServer {
  /** The project URL, as SUPABASE_URL holds it. */
  url: string
  key: string
  requests: RecordedApiRequest[]
  /** Answers the next `times` requests with `status` (PostgREST-style body), optionally with Retry-After. */
  failNext(status: number, times: number, retryAfterSeconds?: number): void
  /** Leaves the next `times` requests unanswered (the client's timeout ends them). */
  hangNext(times: number): void
  /** Answers a request matching `when` with an error once (e.g. the 3rd insert into a table). */
  failWhen(
    when: (request: { method: string; path: string; query: URLSearchParams }) => boolean,
    status: number,
    body: object,
  ): void
  close(): Promise<void>
}

interface ApiError {
  status: number
  body: { code: string; message: string; details: string | null; hint: string | null }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: object,
  ) {
    super(JSON.stringify(body))
  }
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]*$/
const CAST_TYPE = /^[A-Za-z_][A-Za-z0-9_ ]*(\[\])?$/

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** PostgREST's HTTP status for a PostgreSQL error code (docs: "Errors", SQLSTATE table). */
export function statusForSqlState(code: string): number {
  const exact: Record<string, number> = {
    '23503': 409,
    '23505': 409,
    '25006': 405,
    '42883': 404,
    '42P01': 404,
    '42P17': 500,
    '42501': 403,
    P0001: 400,
  }
  if (exact[code]) return exact[code]!
  const byClass: Record<string, number> = {
    '08': 503,
    '09': 500,
    '0L': 403,
    '0P': 403,
    '25': 500,
    '28': 403,
    '2D': 500,
    '38': 500,
    '39': 500,
    '3B': 500,
    '40': 500,
    '53': 503,
    '54': 413,
    '55': 500,
    '57': 500,
    '58': 500,
    F0: 500,
    HV: 500,
    P0: 500,
    XX: 500,
  }
  return byClass[code.slice(0, 2)] ?? 400
}

function pgError(error: unknown): ApiError {
  const e = error as pg.DatabaseError
  return {
    status: e.code ? statusForSqlState(e.code) : 500,
    body: { code: e.code ?? 'XX000', message: e.message, details: e.detail ?? null, hint: e.hint ?? null },
  }
}

function apiError(
  status: number,
  code: string,
  message: string,
  details: string | null = null,
  hint: string | null = null,
): HttpError {
  return new HttpError(status, { code, message, details, hint })
}

/** Splits on commas outside double quotes and parentheses. */
function splitTop(text: string): string[] {
  const parts: string[] = []
  let depth = 0
  let quoted = false
  let current = ''
  for (const ch of text) {
    if (ch === '"') quoted = !quoted
    if (!quoted && ch === '(') depth++
    if (!quoted && ch === ')') depth--
    if (!quoted && depth === 0 && ch === ',') {
      parts.push(current)
      current = ''
    } else current += ch
  }
  if (current !== '') parts.push(current)
  return parts
}

/** A column reference in select/order/filter syntax: a plain name or a double-quoted one. */
function columnName(text: string): string {
  const t = text.trim()
  if (t.startsWith('"') && t.endsWith('"') && t.length >= 2) return t.slice(1, -1).replaceAll('""', '"')
  if (!IDENT.test(t)) throw apiError(400, 'PGRST100', `"failed to parse" (${t})`)
  return t
}

function selectSql(select: string | null): string {
  if (select === null || select.trim() === '*') return '*'
  return splitTop(select)
    .map((item) => {
      let rest = item.trim()
      if (rest === '*') return '*'
      let alias: string | undefined
      // alias:column — a colon not part of a :: cast.
      const aliasMatch = /^("(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*):(?!:)/.exec(rest)
      if (aliasMatch) {
        alias = columnName(aliasMatch[1]!)
        rest = rest.slice(aliasMatch[0].length)
      }
      let cast: string | undefined
      const castAt = rest.lastIndexOf('::')
      if (castAt !== -1 && !rest.slice(castAt).includes('"')) {
        cast = rest.slice(castAt + 2)
        rest = rest.slice(0, castAt)
        if (!CAST_TYPE.test(cast))
          throw apiError(400, 'PGRST100', `"failed to parse select parameter" (${item})`)
      }
      if (rest.includes('(')) throw apiError(400, 'PGRST100', `embedding is not supported here (${item})`)
      const name = columnName(rest)
      return `${quoteIdent(name)}${cast ? `::${cast}` : ''} AS ${quoteIdent(alias ?? name)}`
    })
    .join(', ')
}

/** Columns are qualified with the relation, as PostgREST does: an output alias of a cast must not be what orders. */
function orderSql(order: string | null, relation: string): string {
  if (!order) return ''
  const terms = splitTop(order).map((term) => {
    const parts = term.trim().split('.')
    // Quoted names may hold dots; rebuild the name from the parts before the modifiers.
    const modifiers: string[] = []
    while (parts.length > 1 && /^(asc|desc|nullsfirst|nullslast)$/.test(parts[parts.length - 1]!)) {
      modifiers.unshift(parts.pop()!)
    }
    const name = columnName(parts.join('.'))
    const direction = modifiers.includes('desc') ? ' DESC' : ' ASC'
    const nulls = modifiers.includes('nullsfirst')
      ? ' NULLS FIRST'
      : modifiers.includes('nullslast')
        ? ' NULLS LAST'
        : ''
    return `${relation}.${quoteIdent(name)}${direction}${nulls}`
  })
  return ` ORDER BY ${terms.join(', ')}`
}

const RESERVED = new Set(['select', 'order', 'offset', 'limit', 'columns', 'on_conflict'])
const OPERATORS: Record<string, string> = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' }

function whereSql(query: URLSearchParams, values: unknown[]): string {
  const conditions: string[] = []
  for (const [key, raw] of query) {
    if (RESERVED.has(key)) continue
    const column = quoteIdent(columnName(key))
    let expression = raw
    let negate = false
    if (expression.startsWith('not.')) {
      negate = true
      expression = expression.slice(4)
    }
    const dot = expression.indexOf('.')
    if (dot === -1) throw apiError(400, 'PGRST100', `"failed to parse filter" (${key}=${raw})`)
    const op = expression.slice(0, dot)
    const value = expression.slice(dot + 1)
    let condition: string
    if (op in OPERATORS) {
      values.push(value)
      condition = `${column} ${OPERATORS[op]} $${values.length}`
    } else if (op === 'is') {
      const known: Record<string, string> = { null: 'NULL', true: 'TRUE', false: 'FALSE', unknown: 'UNKNOWN' }
      if (!known[value]) throw apiError(400, 'PGRST100', `"failed to parse filter" (${key}=${raw})`)
      condition = `${column} IS ${known[value]}`
    } else if (op === 'in') {
      const list = /^\((.*)\)$/.exec(value)
      if (!list) throw apiError(400, 'PGRST100', `"failed to parse filter" (${key}=${raw})`)
      const items = splitTop(list[1]!).map((v) =>
        v.startsWith('"') ? v.slice(1, -1).replaceAll('\\"', '"') : v,
      )
      const placeholders = items.map((item) => {
        values.push(item)
        return `$${values.length}`
      })
      condition = placeholders.length === 0 ? 'FALSE' : `${column} IN (${placeholders.join(', ')})`
    } else {
      throw apiError(400, 'PGRST100', `"unknown operator" (${op})`)
    }
    conditions.push(negate ? `NOT (${condition})` : condition)
  }
  return conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`
}

/** `Range: 0-999` (Range-Unit: items) or offset/limit; either way capped by db-max-rows. */
function requestedRange(
  req: IncomingMessage,
  query: URLSearchParams,
  maxRows: number,
): { offset: number; limit: number } {
  let offset = 0
  let limit = Number.POSITIVE_INFINITY
  const range = /^(?:items=)?(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''))
  if (range) {
    offset = Number(range[1])
    if (range[2] !== '') limit = Number(range[2]) - offset + 1
  }
  if (query.has('offset')) offset = Number(query.get('offset'))
  if (query.has('limit')) limit = Math.min(limit, Number(query.get('limit')))
  if (
    !Number.isInteger(offset) ||
    offset < 0 ||
    (limit !== Number.POSITIVE_INFINITY && (!Number.isInteger(limit) || limit < 0))
  ) {
    throw apiError(416, 'PGRST103', 'Requested range not satisfiable')
  }
  return { offset, limit: Math.min(limit, maxRows) }
}

/** OpenAPI 2.0 as PostgREST builds it (Response/OpenAPI.hs), for one schema. */
async function openApi(client: pg.ClientBase, schema: string, origin: string): Promise<string> {
  const relations = await client.query<{ oid: number; name: string; kind: string; insertable: boolean }>(
    `SELECT c.oid::int AS oid, c.relname AS name, c.relkind::text AS kind,
            (c.relkind IN ('r', 'p') OR (c.relkind = 'v' AND pg_relation_is_updatable(c.oid, true) & 8 = 8)) AS insertable
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
      ORDER BY c.relname`,
    [schema],
  )
  const columns = await client.query<{
    oid: number
    name: string
    format: string
    notnull: boolean
    maxlen: number | null
    default: string | null
    enum: string[] | null
  }>(
    `SELECT a.attrelid::int AS oid, a.attname AS name,
            CASE WHEN t.typtype = 'd' THEN
                   CASE WHEN nbt.nspname = 'pg_catalog' THEN format_type(t.typbasetype, NULL) ELSE format_type(a.atttypid, a.atttypmod) END
                 WHEN nt.nspname = 'pg_catalog' THEN format_type(a.atttypid, NULL)
                 ELSE format_type(a.atttypid, a.atttypmod) END AS format,
            a.attnotnull AS notnull,
            information_schema._pg_char_max_length(information_schema._pg_truetypid(a.*, t.*),
                                                   information_schema._pg_truetypmod(a.*, t.*)) AS maxlen,
            COALESCE(pg_get_expr(ad.adbin, ad.adrelid),
                     CASE WHEN a.attidentity <> '' THEN 'nextval(' || quote_literal(pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname)) || '::regclass)' END) AS default,
            (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = COALESCE(NULLIF(t.typbasetype, 0), t.oid)) AS enum
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_type t ON t.oid = a.atttypid
       JOIN pg_namespace nt ON nt.oid = t.typnamespace
       LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
       LEFT JOIN pg_namespace nbt ON nbt.oid = bt.typnamespace
       LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
      WHERE n.nspname = $1 AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attrelid, a.attnum`,
    [schema],
  )
  const keys = await client.query<{ oid: number; column: string }>(
    `SELECT i.indrelid::int AS oid, a.attname AS column
       FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
       JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE i.indisprimary AND n.nspname = $1`,
    [schema],
  )
  // Single-column foreign keys only, named by the referenced table alone (as PostgREST does).
  const fks = await client.query<{ oid: number; column: string; ref_table: string; ref_column: string }>(
    `SELECT c.conrelid::int AS oid, a.attname AS column, rc.relname AS ref_table, ra.attname AS ref_column
       FROM pg_constraint c
       JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
       JOIN pg_class rc ON rc.oid = c.confrelid
       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
       JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]
      WHERE c.contype = 'f' AND n.nspname = $1 AND array_length(c.conkey, 1) = 1 AND c.conparentid = 0`,
    [schema],
  )
  // Assembled as text: a JavaScript object would put columns named like "1" first.
  const definitions: string[] = []
  const paths: Record<string, object> = {
    '/': { get: { tags: ['Introspection'], summary: 'OpenAPI description (this document)' } },
  }
  for (const relation of relations.rows) {
    const own = columns.rows.filter((c) => c.oid === relation.oid)
    const pk = new Set(keys.rows.filter((k) => k.oid === relation.oid).map((k) => k.column))
    const properties: string[] = []
    for (const column of own) {
      const notes = ['Note:']
      if (pk.has(column.name)) notes.push('This is a Primary Key.<pk/>')
      const fk = fks.rows.find((f) => f.oid === relation.oid && f.column === column.name)
      if (fk)
        notes.push(
          `This is a Foreign Key to \`${fk.ref_table}.${fk.ref_column}\`.<fk table='${fk.ref_table}' column='${fk.ref_column}'/>`,
        )
      const property = {
        ...(column.default !== null ? { default: column.default } : {}),
        ...(notes.length > 1 ? { description: notes.join('\n') } : {}),
        ...(column.enum ? { enum: column.enum } : {}),
        format: column.format,
        ...(column.maxlen !== null ? { maxLength: column.maxlen } : {}),
        type: swaggerType(column.format),
      }
      properties.push(`${JSON.stringify(column.name)}:${JSON.stringify(property)}`)
    }
    const required = JSON.stringify(own.filter((c) => c.notnull).map((c) => c.name))
    definitions.push(
      `${JSON.stringify(relation.name)}:{"properties":{${properties.join(',')}},"type":"object","required":${required}}`,
    )
    const get = {
      tags: [relation.name],
      parameters: [],
      responses: { '200': { description: 'OK' }, '206': { description: 'Partial Content' } },
    }
    paths[`/${relation.name}`] = relation.insertable
      ? {
          get,
          post: { tags: [relation.name] },
          patch: { tags: [relation.name] },
          delete: { tags: [relation.name] },
        }
      : { get }
  }
  const document = {
    swagger: '2.0',
    info: { description: '', title: 'standard public schema', version: '12.2.0 (test stand-in)' },
    host: new URL(origin).host,
    basePath: '/',
    schemes: ['http'],
    consumes: ['application/json', 'application/vnd.pgrst.object+json', 'text/csv'],
    produces: ['application/json', 'application/vnd.pgrst.object+json', 'text/csv'],
    paths,
    definitions: '<definitions>',
  }
  return JSON.stringify(document).replace('"<definitions>"', `{${definitions.join(',')}}`)
}

function swaggerType(format: string): string | undefined {
  if (format.endsWith('[]')) return 'array'
  if (['smallint', 'integer', 'bigint'].includes(format)) return 'integer'
  if (['numeric', 'real', 'double precision'].includes(format)) return 'number'
  if (format === 'boolean') return 'boolean'
  if (format === 'json' || format === 'jsonb') return undefined
  return 'string'
}

/** GoTrue's user object from an auth.users row: only the fields the table has columns for. */
const USER_FIELDS: [field: string, column: string, kind: 'plain' | 'time' | 'json'][] = [
  ['id', 'id', 'plain'],
  ['aud', 'aud', 'plain'],
  ['role', 'role', 'plain'],
  ['email', 'email', 'plain'],
  ['email_confirmed_at', 'email_confirmed_at', 'time'],
  ['phone', 'phone', 'plain'],
  ['phone_confirmed_at', 'phone_confirmed_at', 'time'],
  ['last_sign_in_at', 'last_sign_in_at', 'time'],
  ['app_metadata', 'raw_app_meta_data', 'json'],
  ['user_metadata', 'raw_user_meta_data', 'json'],
  ['created_at', 'created_at', 'time'],
  ['updated_at', 'updated_at', 'time'],
  ['banned_until', 'banned_until', 'time'],
  ['is_anonymous', 'is_anonymous', 'plain'],
]

async function userColumns(client: pg.ClientBase): Promise<Set<string>> {
  const result = await client.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_attribute a WHERE a.attrelid = to_regclass('auth.users') AND a.attnum > 0 AND NOT a.attisdropped`,
  )
  return new Set(result.rows.map((r) => r.name))
}

function userSelect(columns: Set<string>): string {
  // Go's RFC 3339 (UTC, trailing zeros of the fraction dropped), as GoTrue's JSON has it.
  return USER_FIELDS.filter(([, column]) => columns.has(column))
    .map(([field, column, kind]) => {
      const c = quoteIdent(column)
      const value =
        kind === 'time'
          ? `CASE WHEN ${c} IS NULL THEN NULL ELSE trim(both '"' from to_json(${c} AT TIME ZONE 'UTC')::text) || 'Z' END`
          : kind === 'json'
            ? `${c}::json`
            : c
      return `${value} AS ${quoteIdent(field)}`
    })
    .join(', ')
}

export async function startPostgrestServer(options: PostgrestServerOptions): Promise<PostgrestServer> {
  const schemas = options.schemas ?? ['public']
  const maxRows = options.maxRows ?? 1000
  const key = options.key ?? `service-role-${Math.random().toString(36).slice(2)}`
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 4 })
  pool.on('error', () => {})
  const requests: RecordedApiRequest[] = []
  let failure: { status: number; remaining: number; retryAfter: number | undefined } | undefined
  let hanging = 0
  const hung = new Set<ServerResponse>()
  const triggers: { when: Parameters<PostgrestServer['failWhen']>[0]; status: number; body: object }[] = []
  let origin = ''

  const inTransaction = async <T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      const result = await work(client)
      await client.query('COMMIT')
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    } finally {
      client.release()
    }
  }

  const profile = (req: IncomingMessage, header: 'accept-profile' | 'content-profile'): string => {
    const wanted = req.headers[header]
    const schema = typeof wanted === 'string' && wanted !== '' ? wanted : schemas[0]!
    if (!schemas.includes(schema)) {
      throw apiError(
        406,
        'PGRST106',
        `Invalid schema: ${schema}`,
        null,
        `Only the following schemas are exposed: ${schemas.join(', ')}`,
      )
    }
    return schema
  }

  const handle = async (req: IncomingMessage, body: string, url: URL, record: RecordedApiRequest) => {
    const method = req.method ?? 'GET'
    const path = url.pathname
    const query = url.searchParams
    if (req.headers.apikey !== key) {
      return {
        status: 401,
        body: {
          message: 'Invalid API key',
          hint: 'Double check your Supabase `anon` or `service_role` API key.',
        },
      }
    }
    if (req.headers.authorization !== `Bearer ${key}`) {
      throw apiError(401, 'PGRST301', 'JWSError JWSInvalidSignature')
    }
    if (path === '/auth/v1/admin/users' || path.startsWith('/auth/v1/admin/users/')) {
      return authAdmin(method, path, query, body)
    }
    if (path === '/rest/v1/' || path === '/rest/v1') {
      const schema = profile(req, 'accept-profile')
      const document = await inTransaction((client) => openApi(client, schema, origin))
      return {
        status: 200,
        raw: document,
        headers: { 'Content-Type': 'application/openapi+json; charset=utf-8' },
      }
    }
    const match = /^\/rest\/v1\/([^/]+)$/.exec(path)
    if (!match) return { status: 404, body: {} }
    const table = decodeURIComponent(match[1]!)
    const readSchema = method === 'GET' || method === 'HEAD'
    const schema = profile(req, readSchema ? 'accept-profile' : 'content-profile')
    const relation = `${quoteIdent(schema)}.${quoteIdent(table)}`
    const prefer = String(req.headers.prefer ?? '')
    if (readSchema) {
      const values: unknown[] = []
      const where = whereSql(query, values)
      const { offset, limit } = requestedRange(req, query, maxRows)
      const sql = `SELECT ${selectSql(query.get('select'))} FROM ${relation}${where}${orderSql(query.get('order'), relation)} LIMIT ${limit} OFFSET ${offset}`
      return inTransaction(async (client) => {
        const total = /count=exact/.test(prefer)
          ? Number(
              (await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${relation}${where}`, values))
                .rows[0]!.n,
            )
          : undefined
        if (total !== undefined && offset > total) {
          throw apiError(
            416,
            'PGRST103',
            'Requested range not satisfiable',
            `An offset of ${offset} was requested, but there are only ${total} rows.`,
          )
        }
        const rows = (
          await client.query<{ body: string; n: number }>(
            `SELECT coalesce(json_agg(_t), '[]')::text AS body, count(*)::int AS n FROM (${sql}) _t`,
            values,
          )
        ).rows[0]!
        record.rows = rows.n
        const range = rows.n === 0 ? '*' : `${offset}-${offset + rows.n - 1}`
        const status = total === undefined ? 200 : rows.n > 0 && rows.n < total ? 206 : 200
        return {
          status,
          raw: method === 'HEAD' ? '' : rows.body,
          headers: { 'Content-Range': `${range}/${total ?? '*'}`, 'Range-Unit': 'items' },
        }
      })
    }
    if (method === 'POST') {
      const payload = JSON.parse(body) as unknown
      const list = Array.isArray(payload) ? payload : [payload]
      record.rows = list.length
      const columns = [...new Set(list.flatMap((row) => Object.keys(row as object)))]
      const names = columns.map(quoteIdent).join(', ')
      const insert = `INSERT INTO ${relation} (${names}) SELECT ${names} FROM json_populate_recordset(NULL::${relation}, $1::json)`
      const representation = /return=representation/.test(prefer)
      return inTransaction(async (client) => {
        if (!representation) {
          await client.query(insert, [body.trim().startsWith('[') ? body : `[${body}]`])
          return { status: 201, raw: '', headers: { 'Content-Range': '*/*' } }
        }
        const result = await client.query<{ body: string }>(
          `WITH ins AS (${insert} RETURNING *) SELECT coalesce(json_agg(_t), '[]')::text AS body FROM (SELECT ${selectSql(query.get('select'))} FROM ins) _t`,
          [body.trim().startsWith('[') ? body : `[${body}]`],
        )
        return { status: 201, raw: result.rows[0]!.body, headers: { 'Content-Range': '*/*' } }
      })
    }
    if (method === 'DELETE') {
      const values: unknown[] = []
      const where = whereSql(query, values)
      if (where === '') throw apiError(400, '21000', 'DELETE requires a WHERE clause')
      return inTransaction(async (client) => {
        await client.query(`DELETE FROM ${relation}${where}`, values)
        return { status: 204, raw: '' }
      })
    }
    throw apiError(405, 'PGRST117', `Unsupported HTTP method: ${method}`)
  }

  const authAdmin = async (method: string, path: string, query: URLSearchParams, body: string) => {
    return inTransaction(async (client) => {
      const columns = await userColumns(client)
      if (columns.size === 0) return { status: 500, body: { code: 500, msg: 'Database error finding users' } }
      if (method === 'GET' && path === '/auth/v1/admin/users') {
        const page = Math.max(1, Number(query.get('page') || 1))
        const perPage = Math.min(1000, Math.max(1, Number(query.get('per_page') || 50)))
        const total = Number(
          (await client.query<{ n: string }>('SELECT count(*) AS n FROM auth.users')).rows[0]!.n,
        )
        const users = await client.query<{ body: string }>(
          `SELECT coalesce(json_agg(_u), '[]')::text AS body FROM (
             SELECT ${userSelect(columns)} FROM auth.users ORDER BY ${columns.has('created_at') ? 'created_at DESC, ' : ''}id
              LIMIT ${perPage} OFFSET ${(page - 1) * perPage}) _u`,
        )
        const last = Math.max(1, Math.ceil(total / perPage))
        const links = [`</admin/users?page=${last}&per_page=${perPage}>; rel="last"`]
        if (page < last) links.unshift(`</admin/users?page=${page + 1}&per_page=${perPage}>; rel="next"`)
        return {
          status: 200,
          raw: `{"users":${users.rows[0]!.body},"aud":"authenticated"}`,
          headers: { 'x-total-count': String(total), link: links.join(', ') },
        }
      }
      if (method === 'POST' && path === '/auth/v1/admin/users') {
        const user = JSON.parse(body) as Record<string, unknown>
        const row: Record<string, unknown> = { id: user.id ?? null }
        if (columns.has('email') && user.email) row.email = user.email
        if (columns.has('phone') && user.phone) row.phone = user.phone
        if (columns.has('raw_user_meta_data'))
          row.raw_user_meta_data = JSON.stringify(user.user_metadata ?? {})
        if (columns.has('raw_app_meta_data')) row.raw_app_meta_data = JSON.stringify(user.app_metadata ?? {})
        if (columns.has('encrypted_password') && user.password_hash)
          row.encrypted_password = user.password_hash
        if (columns.has('email_confirmed_at') && user.email_confirm)
          row.email_confirmed_at = new Date().toISOString()
        const names = Object.keys(row)
        try {
          await client.query('SAVEPOINT create_user')
          await client.query(
            `INSERT INTO auth.users (${names.map(quoteIdent).join(', ')}) VALUES (${names.map((n, i) => (n === 'id' ? `COALESCE($${i + 1}::uuid, gen_random_uuid())` : `$${i + 1}`)).join(', ')})`,
            names.map((n) => row[n]),
          )
        } catch (error) {
          await client.query('ROLLBACK TO SAVEPOINT create_user')
          if ((error as pg.DatabaseError).code === '23505') {
            return {
              status: 422,
              body: {
                code: 422,
                error_code: 'email_exists',
                msg: 'A user with this email address has already been registered',
              },
            }
          }
          throw error
        }
        const created = await client.query<{ body: string }>(
          `SELECT row_to_json(_u)::text AS body FROM (SELECT ${userSelect(columns)} FROM auth.users WHERE id = $1) _u`,
          [row.id],
        )
        return { status: 200, raw: created.rows[0]?.body ?? '{}' }
      }
      const one = /^\/auth\/v1\/admin\/users\/([0-9a-f-]+)$/.exec(path)
      if (method === 'DELETE' && one) {
        const result = await client.query('DELETE FROM auth.users WHERE id = $1', [one[1]])
        if (result.rowCount === 0)
          return { status: 404, body: { code: 404, error_code: 'user_not_found', msg: 'User not found' } }
        return { status: 200, raw: '{}' }
      }
      return { status: 404, body: { code: 404, msg: 'Not found' } }
    })
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const url = new URL(req.url ?? '/', origin)
      const record: RecordedApiRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        status: 0,
      }
      requests.push(record)
      const send = (status: number, text: string, headers: Record<string, string> = {}) => {
        record.status = status
        res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers })
        res.end(req.method === 'HEAD' ? undefined : text)
      }
      if (hanging > 0) {
        hanging--
        hung.add(res)
        return
      }
      if (failure && failure.remaining > 0) {
        failure.remaining--
        const code = failure.status === 429 ? 'PGRST000' : failure.status === 503 ? 'PGRST001' : 'PGRST000'
        send(
          failure.status,
          JSON.stringify({
            code,
            message: failure.status === 429 ? 'Too Many Requests' : 'Service Unavailable',
            details: null,
            hint: null,
          }),
          failure.retryAfter !== undefined ? { 'Retry-After': String(failure.retryAfter) } : {},
        )
        return
      }
      const trigger = triggers.findIndex((t) =>
        t.when({ method: record.method, path: record.path, query: record.query }),
      )
      if (trigger !== -1) {
        const [fired] = triggers.splice(trigger, 1)
        send(fired!.status, JSON.stringify(fired!.body))
        return
      }
      handle(req, body, url, record).then(
        (answer) => {
          const a = answer as {
            status: number
            body?: object
            raw?: string
            headers?: Record<string, string>
          }
          send(a.status, a.raw ?? JSON.stringify(a.body ?? {}), a.headers)
        },
        (error: unknown) => {
          if (error instanceof HttpError) send(error.status, JSON.stringify(error.body))
          else {
            const mapped = pgError(error)
            send(mapped.status, JSON.stringify(mapped.body))
          }
        },
      )
    })
  })
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url: origin,
    key,
    requests,
    failNext(status, times, retryAfterSeconds) {
      failure = { status, remaining: times, retryAfter: retryAfterSeconds }
    },
    hangNext(times) {
      hanging = times
    },
    failWhen(when, status, body) {
      triggers.push({ when, status, body })
    },
    async close() {
      for (const res of hung) res.destroy()
      server.closeAllConnections()
      await new Promise<void>((done) => server.close(() => done()))
      await pool.end()
    },
  }
}
