// Helpers of the runbook sessions the docs tests run: the process runner, the shell
// environment a person has, the edge-case tables, and fingerprints that prove a restore.
import { execFile } from 'node:child_process'
import { delimiter, resolve } from 'node:path'
import { sql, withClient } from './database.ts'

/** Tables with the types a by-hand restore gets wrong most easily. */
export const EDGE_CASES_SQL = `
CREATE DOMAIN public.settings_doc AS jsonb CHECK (jsonb_typeof(VALUE) = 'object');
CREATE TABLE public."Odd ""name"".x" (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  parent_id bigint REFERENCES public."Odd ""name"".x" (id),
  payload bytea,
  tags text[],
  bounds int[],
  doc json,
  docb jsonb,
  settings public.settings_doc,
  f double precision,
  n numeric,
  price_cents integer,
  price_eur numeric GENERATED ALWAYS AS (price_cents / 100.0) STORED,
  "select" text
);
INSERT INTO public."Odd ""name"".x" (parent_id, payload, tags, bounds, doc, docb, settings, f, n, price_cents, "select") VALUES
  (NULL, '\\x00ff5c0a', ARRAY['a,b', 'c"d', 'e\\f', NULL, ''], '[0:2]={1,2,3}', '{"a": 1, "a": 2,  "b" : [ ]}',
   '{"k": "v\\\\n"}', '{"x": 1}', '-0', 123456789012345678901234567890.123456789, 1999, E'back\\\\slash "quote" tab\\tend'),
  (1, NULL, '{}', NULL, 'null', 'null', NULL, 'NaN', 'NaN', NULL, E'line1\\nline2\\r\\n'),
  (2, '\\x', NULL, '{}', '"str"', '"str"', '{}', 'Infinity', '-1e-30', 5, '');
`

export function run(
  command: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
  input = '',
): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    const child = execFile(
      command,
      args,
      { cwd: resolve('.'), env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        done({ code, output: `${stdout}\n--- stderr ---\n${stderr}` })
      },
    )
    child.stdin?.end(input)
  })
}

/** What a person's shell has, plus node_modules/.bin; every setting comes from the session. */
export function baseEnv(): Record<string, string> {
  const keep = ['HOME', 'USER', 'LANG', 'TMPDIR', 'TERM']
  const env = Object.fromEntries(keep.flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])))
  return { ...env, PATH: [resolve('node_modules/.bin'), process.env.PATH ?? ''].join(delimiter), CI: 'true' }
}

/** Per user table: row count and md5 over every row's text, in a stable order. */
export async function fingerprint(url: string): Promise<Record<string, string>> {
  return withClient(url, async (client) => {
    const tables = await client.query<{ schema: string; name: string }>(
      `SELECT n.nspname AS schema, c.relname AS name
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
        ORDER BY 1, 2`,
    )
    const result: Record<string, string> = {}
    for (const t of tables.rows) {
      const relation = `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`
      const { rows } = await client.query<{ n: string; md5: string }>(
        `SELECT count(*)::text AS n, md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) AS md5 FROM ${relation} x`,
      )
      result[`${t.schema}.${t.name}`] = `${rows[0]!.n} ${rows[0]!.md5}`
    }
    return result
  })
}

export async function sequences(url: string): Promise<Record<string, string>> {
  const { rows } = await sql(
    url,
    `SELECT schemaname || '.' || sequencename AS name, coalesce(last_value::text, 'unset') AS value
       FROM pg_sequences ORDER BY 1`,
  )
  return Object.fromEntries(rows.map((r) => [r.name, r.value]))
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

export async function waitForNextSecond(): Promise<void> {
  await new Promise((done) => setTimeout(done, 1000 - (Date.now() % 1000) + 50))
}

export function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n')
}
