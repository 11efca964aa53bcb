// API-only mode's pure parts: reading PostgREST's OpenAPI, writing rows as the direct
// export does, request bodies, the auth API's values, retry timing and settings.
import { describe, expect, it } from 'vitest'
import { usersToRows } from '../../lib/adapters/rest/auth-users.ts'
import { createRetryingFetch, parseRetryAfter } from '../../lib/adapters/rest/http.ts'
import {
  manifestType,
  parseKeepingKeyOrder,
  parseOpenApi,
  type RestColumn,
} from '../../lib/adapters/rest/openapi.ts'
import {
  archiveOrder,
  insertBody,
  jsonbText,
  recordText,
  rowLine,
  textSelect,
  timestamptzText,
} from '../../lib/adapters/rest/rows.ts'
import {
  apiProductionReasons,
  chooseRestoreVia,
  chooseSource,
  readRestBackupConfig,
  supabaseProjectRef,
} from '../../lib/core/rest-config.ts'

const OPENAPI = `{"swagger":"2.0","paths":{"/":{},"/orders":{"get":{},"post":{}},"/order_totals":{"get":{}}},
 "definitions":{
  "orders":{"properties":{
    "id":{"default":"nextval('orders_id_seq'::regclass)","description":"Note:\\nThis is a Primary Key.<pk/>","format":"bigint","type":"integer"},
    "2":{"format":"text","type":"string"},
    "user_id":{"description":"Note:\\nThis is a Foreign Key to \`users.id\`.<fk table='users' column='id'/>","format":"uuid","type":"string"},
    "code":{"format":"character","maxLength":2,"type":"string"},
    "status":{"enum":["new","paid"],"format":"public.order_status","type":"string"},
    "doc":{"format":"jsonb"}
  },"type":"object","required":["id","code"]},
  "order_totals":{"properties":{"total":{"format":"numeric","type":"number"}},"type":"object"}
 }}`

function col(name: string, format: string): RestColumn {
  return { name, format, nullable: true, primaryKey: false }
}

describe("PostgREST's OpenAPI document", () => {
  it('gives columns in table order (even one named "2"), keys, foreign keys and insertability', () => {
    const [totals, orders] = parseOpenApi(OPENAPI, 'public')
    expect(orders!.columns.map((c) => c.name)).toEqual(['id', '2', 'user_id', 'code', 'status', 'doc'])
    expect(orders!.primaryKey).toEqual(['id'])
    expect(orders!.columns[2]!.references).toEqual({ table: 'users', column: 'id' })
    expect(orders!.columns[0]!.nullable).toBe(false)
    expect(orders!.insertable).toBe(true)
    expect(totals!.insertable).toBe(false)
    expect(manifestType(orders!.columns[3]!)).toBe('character(2)')
    expect(orders!.columns[4]!.enumValues).toEqual(['new', 'paid'])
  })

  it('keeps key order where JavaScript objects would not', () => {
    const parsed = parseKeepingKeyOrder('{"b": 1, "10": 2, "a\\"": {"2": 3}, "s": "x: y"}') as Record<
      string,
      unknown
    >
    expect(Object.keys(parsed)).toEqual(['\u0001b', '\u000110', '\u0001a"', '\u0001s'])
    expect(parsed['\u0001s']).toBe('x: y')
  })

  it('refuses a document without definitions', () => {
    expect(() => parseOpenApi('{"swagger":"2.0"}', 'public')).toThrow(/no definitions/)
    expect(() => parseOpenApi('<html>', 'public')).toThrow(/not JSON/)
  })
})

describe('rows as archive format v1 writes them', () => {
  const columns = [col('id', 'bigint'), col('1', 'text'), col('note', 'text')]

  it('selects every column as text and writes keys in column order', () => {
    expect(textSelect([col('id', 'bigint'), col('Odd "name"', 'text')])).toBe('id::text,"Odd ""name"""::text')
    expect(rowLine(columns, { note: null, '1': 'a\tb', id: '7' }, 't')).toBe(
      '{"id":"7","1":"a\\tb","note":null}\n',
    )
    expect(() => rowLine(columns, { id: 7 }, 'public.t')).toThrow(/ignored the ::text cast/)
  })

  it("prints a row as PostgreSQL's record output", () => {
    expect(recordText(['1', null, '', 'a b', 'x,"y"\\', 'plain'])).toBe('(1,,"","a b","x,""y""\\\\",plain)')
  })

  it('orders text keys by bytes and keeps the API order for other key columns', () => {
    const key = [col('k', 'text'), col('n', 'integer')]
    const rows = [
      { keys: ['a', '1'], position: 0 },
      { keys: ['a', '2'], position: 1 },
      { keys: ['B', '10'], position: 2 },
    ]
    expect([...rows].sort(archiveOrder(key)).map((r) => r.position)).toEqual([2, 0, 1])
  })

  it('builds insert bodies that pass json values through as JSON', () => {
    const lines = [
      '{"id":"1","doc":"{\\"a\\": [1, 2.50]}","tags":"{x,y}"}',
      '{"id":"2","doc":null,"tags":null}',
    ]
    const cols = [col('id', 'bigint'), col('doc', 'jsonb'), col('tags', 'text[]')]
    expect(insertBody(lines, cols, new Set())).toBe(
      '[{"id":"1","doc":{"a": [1, 2.50]},"tags":"{x,y}"},{"id":"2","doc":null,"tags":null}]',
    )
    expect(insertBody(['{"id":"1","v":"x"}'], [col('id', 'bigint'), col('v', 'text')], new Set(['id']))).toBe(
      '[{"v":"x"}]',
    )
    expect(insertBody(['{"id":"1"}'], [col('id', 'bigint')], new Set())).toBe('[{"id":"1"}]')
  })
})

describe("the auth admin API's values", () => {
  it("prints jsonb as PostgreSQL does: keys by length, then bytes; ', ' and ': '", () => {
    expect(jsonbText({ name: 'User 1', locale: 'en', b: [1, true, null], a: {} })).toBe(
      '{"a": {}, "b": [1, true, null], "name": "User 1", "locale": "en"}',
    )
  })

  it('turns RFC 3339 times into timestamptz text in UTC', () => {
    expect(timestamptzText('2025-01-01T07:00:00Z')).toBe('2025-01-01 07:00:00+00')
    expect(timestamptzText('2025-01-01T07:00:00.123450Z')).toBe('2025-01-01 07:00:00.12345+00')
    expect(timestamptzText('2025-01-01T09:00:00.5+02:00')).toBe('2025-01-01 07:00:00.5+00')
    expect(timestamptzText('yesterday')).toBeUndefined()
  })

  it('maps users to auth.users columns the API answered for, in id order', () => {
    const { columns, rows } = usersToRows([
      {
        id: 'b0000000-0000-0000-0000-000000000000',
        email: 'b@x',
        user_metadata: { n: 1 },
        created_at: '2025-01-01T00:00:00Z',
        phone: '',
      },
      {
        id: 'a0000000-0000-0000-0000-000000000000',
        email: 'a@x',
        user_metadata: {},
        created_at: '2025-01-02T00:00:00Z',
        phone: '',
      },
    ])
    expect(columns.map((c) => c.name)).toEqual(['id', 'email', 'raw_user_meta_data', 'created_at', 'phone'])
    expect(rows[0]).toEqual({
      id: 'a0000000-0000-0000-0000-000000000000',
      email: 'a@x',
      raw_user_meta_data: '{}',
      created_at: '2025-01-02 00:00:00+00',
      phone: null,
    })
  })
})

describe('the retrying fetch', () => {
  it('reads Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('3')).toBe(3000)
    expect(
      parseRetryAfter('Wed, 21 Oct 2015 07:28:05 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')),
    ).toBe(5000)
    expect(parseRetryAfter(null)).toBeUndefined()
  })

  it('retries 429 and 5xx with backoff, honouring Retry-After, and gives up after the attempts', async () => {
    const answers = [429, 503, 200]
    const waits: number[] = []
    const { fetch, stats } = createRetryingFetch({
      attempts: 4,
      baseDelayMs: 100,
      fetch: async () => new Response('{}', { status: answers.shift()!, headers: { 'retry-after': '2' } }),
      sleep: async (ms) => void waits.push(ms),
    })
    expect((await fetch('http://x/rest/v1/t')).status).toBe(200)
    expect(waits).toEqual([2000, 2000])
    expect(stats).toMatchObject({ requests: 3, retries: 2, throttled: 1 })
    const failing = createRetryingFetch({
      attempts: 2,
      baseDelayMs: 1,
      fetch: async () => new Response('', { status: 500 }),
      sleep: async () => {},
    })
    expect((await failing.fetch('http://x')).status).toBe(500)
    expect(failing.stats.requests).toBe(2)
  })

  it('does not resend an insert after a server error that may have applied it', async () => {
    let calls = 0
    const { fetch } = createRetryingFetch({
      attempts: 5,
      fetch: async () => {
        calls++
        return new Response('{}', { status: 500 })
      },
      sleep: async () => {},
    })
    expect((await fetch('http://x', { method: 'POST', body: '[]' })).status).toBe(500)
    expect(calls).toBe(1)
  })
})

describe('API-only settings', () => {
  it('chooses the API only when no database URL is set, or when asked', () => {
    const api = { SUPABASE_URL: 'https://abc.supabase.co', SUPABASE_SERVICE_ROLE_KEY: 'k' }
    expect(chooseSource(api, {})).toBe('rest')
    expect(chooseSource({ ...api, DATABASE_URL: 'postgresql://x@h/db' }, {})).toBe('postgres')
    expect(chooseSource({ DATABASE_URL: 'postgresql://x@h/db' }, { source: 'rest' })).toBe('rest')
    expect(() => chooseSource({}, { source: 'ftp' })).toThrow(/--source/)
    expect(chooseRestoreVia(api, {})).toBe('rest')
    expect(chooseRestoreVia({ ...api, TARGET_DATABASE_URL: 'postgresql://x@h/db' }, {})).toBe('postgres')
  })

  it('reads the REST backup settings, refusing schema patterns', () => {
    const env = {
      SUPABASE_URL: 'https://abc.supabase.co/rest/v1/',
      SUPABASE_SERVICE_ROLE_KEY: 'k',
      BACKUP_STORE: 'file:///tmp/x',
    }
    const config = readRestBackupConfig(env, { 'batch-size': '250', 'auth-users': true })
    expect(config.api.url).toBe('https://abc.supabase.co')
    expect(config).toMatchObject({ batchSize: 250, authUsers: true, schemas: ['public'] })
    expect(() => readRestBackupConfig(env, { schema: ['app*'] })).toThrow(/exact schema names/)
    expect(() => readRestBackupConfig({ BACKUP_STORE: 'file:///tmp/x' }, {})).toThrow(/SUPABASE_URL/)
  })

  it('knows Supabase projects by their hosts, and what counts as production', () => {
    expect(supabaseProjectRef('abcdefghijklmnop.supabase.co')).toBe('abcdefghijklmnop')
    expect(supabaseProjectRef('db.abcdefghijklmnop.supabase.co')).toBe('abcdefghijklmnop')
    expect(supabaseProjectRef('aws-0-eu-west-1.pooler.supabase.com', 'postgres.abcdefghijklmnop')).toBe(
      'abcdefghijklmnop',
    )
    expect(supabaseProjectRef('localhost')).toBeUndefined()
    const target = { host: 'abcdefghijklmnop.supabase.co', ref: 'abcdefghijklmnop' }
    expect(
      apiProductionReasons({
        target,
        backupSource: { host: 'db.abcdefghijklmnop.supabase.co', kind: 'postgres' },
        environment: [],
      }),
    ).toEqual(['it is the project this backup was taken from'])
    expect(
      apiProductionReasons({
        target,
        backupSource: { host: 'stagingproject.supabase.co', kind: 'rest' },
        environment: [],
      }),
    ).toEqual([])
  })
})
