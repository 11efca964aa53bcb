// The Supabase API as a source and a sink: supabase-js for reads and the auth admin
// API, plain requests (same retrying fetch) where exact bytes matter: the OpenAPI
// document, and insert bodies whose json values must pass through unparsed.
import { createClient, type SupabaseClient } from '@supabase/supabase-js'
import { LifeboatError } from '../../core/errors.ts'
import { redact, type Secret } from '../../core/secret.ts'
import { parseOpenApi, type RestTable } from './openapi.ts'
import { apiName } from './rows.ts'

export interface RestClientOptions {
  /** `https://<ref>.supabase.co` (no path). */
  url: string
  key: Secret
  /** The retrying fetch (createRetryingFetch); every request goes through it. */
  fetch: typeof fetch
}

export interface PageRequest {
  select: string
  order: readonly string[]
  /** Keyset paging: rows whose `column` is greater than `value`. */
  after?: { column: string; value: string }
  offset: number
  limit: number
  /** Ask for the exact total (`Prefer: count=exact`): costs a count(*) on the server. */
  count?: boolean
}

export interface Page {
  rows: Record<string, unknown>[]
  total: number | undefined
}

export interface ApiUser {
  id: string
  [field: string]: unknown
}

/** Realtime is never used; its constructor would demand a WebSocket on Node 20. */
class NoRealtimeSocket {
  constructor() {
    throw new Error('Lifeboat does not use Supabase Realtime')
  }
}

export class RestClient {
  readonly url: string
  readonly host: string
  readonly #key: Secret
  readonly #fetch: typeof fetch
  readonly #supabase: SupabaseClient

  constructor(options: RestClientOptions) {
    this.url = options.url.replace(/\/+$/, '')
    this.host = new URL(this.url).hostname
    this.#key = options.key
    this.#fetch = options.fetch
    this.#supabase = createClient(this.url, options.key.reveal(), {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
      global: { fetch: options.fetch },
      realtime: { transport: NoRealtimeSocket as never },
    })
  }

  /** The exposed tables of one schema, from its OpenAPI document (`Accept-Profile` picks the schema). */
  async describe(schema: string): Promise<RestTable[]> {
    const response = await this.#request('GET', '/rest/v1/', {
      headers: { Accept: 'application/openapi+json, application/json', 'Accept-Profile': schema },
      what: `reading the API description of schema ${schema}`,
    })
    return parseOpenApi(await response.text(), schema)
  }

  async page(table: { schema: string; name: string }, request: PageRequest): Promise<Page> {
    let query = this.#supabase
      .schema(table.schema)
      .from(table.name)
      .select(request.select, request.count ? { count: 'exact' } : {})
    if (request.after) query = query.gt(apiName(request.after.column), request.after.value)
    for (const column of request.order) query = query.order(apiName(column), { ascending: true })
    const result = await query.range(request.offset, request.offset + request.limit - 1).retry(false)
    if (result.error) throw apiError(result.status, result.error, `reading ${table.schema}.${table.name}`)
    return {
      rows: (result.data ?? []) as unknown as Record<string, unknown>[],
      total: result.count ?? undefined,
    }
  }

  /** Row count without reading rows (`HEAD`, `Prefer: count=exact`). */
  async count(table: { schema: string; name: string }): Promise<number> {
    const result = await this.#supabase
      .schema(table.schema)
      .from(table.name)
      .select('*', { count: 'exact', head: true })
      .retry(false)
    if (result.error) throw apiError(result.status, result.error, `counting ${table.schema}.${table.name}`)
    return result.count ?? 0
  }

  /**
   * Inserts a JSON array body. With `returning`, answers the inserted rows' values of
   * those columns as text (`Prefer: return=representation`), in insert order.
   */
  async insert(
    table: { schema: string; name: string },
    body: string,
    returning?: readonly string[],
  ): Promise<Record<string, unknown>[] | undefined> {
    const select = returning
      ? `?select=${encodeURIComponent(returning.map((c) => `${apiName(c)}::text`).join(','))}`
      : ''
    const response = await this.#request('POST', `/rest/v1/${encodeURIComponent(table.name)}${select}`, {
      headers: {
        'Content-Type': 'application/json',
        'Content-Profile': table.schema,
        Prefer: returning ? 'return=representation' : 'return=minimal',
      },
      body,
      what: `inserting into ${table.schema}.${table.name}`,
    })
    return returning ? (JSON.parse(await response.text()) as Record<string, unknown>[]) : undefined
  }

  /** Deletes every row (`<column>=not.is.null`: PostgREST refuses a DELETE without a filter). */
  async deleteAll(table: { schema: string; name: string }, column: string): Promise<void> {
    const filter = `${encodeURIComponent(apiName(column))}=not.is.null`
    await this.#request('DELETE', `/rest/v1/${encodeURIComponent(table.name)}?${filter}`, {
      headers: { 'Content-Profile': table.schema, Prefer: 'return=minimal' },
      what: `deleting the rows of ${table.schema}.${table.name}`,
    })
  }

  /** One page of auth users (1-based), through the admin API. */
  async listUsers(page: number, perPage: number): Promise<ApiUser[]> {
    const { data, error } = await this.#supabase.auth.admin.listUsers({ page, perPage })
    if (error) throw apiError(error.status ?? 0, error, 'listing auth users (admin API)')
    return data.users as unknown as ApiUser[]
  }

  async createUser(attributes: Record<string, unknown>): Promise<void> {
    const { error } = await this.#supabase.auth.admin.createUser(attributes)
    if (error) throw apiError(error.status ?? 0, error, `creating auth user ${String(attributes.id)}`)
  }

  async deleteUser(id: string): Promise<void> {
    const { error } = await this.#supabase.auth.admin.deleteUser(id)
    if (error && error.status !== 404) throw apiError(error.status ?? 0, error, `deleting auth user ${id}`)
  }

  async #request(
    method: string,
    path: string,
    options: { headers: Record<string, string>; body?: string; what: string },
  ): Promise<Response> {
    let response: Response
    try {
      response = await this.#fetch(`${this.url}${path}`, {
        method,
        headers: {
          apikey: this.#key.reveal(),
          Authorization: `Bearer ${this.#key.reveal()}`,
          ...options.headers,
        },
        ...(options.body !== undefined ? { body: options.body } : {}),
      })
    } catch (error) {
      throw apiError(0, { message: (error as Error).message }, options.what, error)
    }
    if (!response.ok) {
      const text = await response.text()
      let body: { code?: string; message?: string; details?: string; hint?: string }
      try {
        body = JSON.parse(text)
      } catch {
        body = { message: text.slice(0, 300) }
      }
      throw apiError(response.status, body, options.what)
    }
    return response
  }
}

interface ErrorBody {
  code?: string | undefined
  message?: string | undefined
  details?: string | null | undefined
  hint?: string | null | undefined
}

/** PostgREST's error body (`{code, message, details, hint}`) and status, as a catalogue error. */
export function apiError(status: number, body: ErrorBody, what: string, cause?: unknown): LifeboatError {
  const code = body.code ? ` [${body.code}]` : ''
  const detail = [body.message, body.details, body.hint ? `hint: ${body.hint}` : undefined]
    .filter((s) => typeof s === 'string' && s !== '')
    .join('; ')
  const message = redact(`${what}: ${status === 0 ? '' : `HTTP ${status}${code} `}${detail}`.trim())
  const options = { cause: cause ?? body, details: [JSON.stringify({ status, ...body })] }
  if (status === 0 || status === 502 || status === 503 || status === 504) {
    return new LifeboatError('API_UNREACHABLE', message, options)
  }
  if (status === 401 || status === 403) return new LifeboatError('API_AUTH', message, options)
  return new LifeboatError('API_REQUEST', message, options)
}

/** The PostgreSQL error code inside an API error, when PostgREST passed one on. */
export function sqlStateOf(error: unknown): string | undefined {
  if (!(error instanceof LifeboatError)) return undefined
  try {
    const parsed = JSON.parse(error.details[0] ?? '{}') as { code?: string }
    return parsed.code
  } catch {
    return undefined
  }
}
