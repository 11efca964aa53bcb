// Schemas that schema.sql's statements use but neither create nor find on the target: a
// trigger calling supabase_functions.http_request() (a Database Webhook) restored into a
// project without Database Webhooks. Without this check the restore would load every
// row, then fail at the trigger and roll back; it is refused before the first write, with
// what to switch on. Pure.
import type { SchemaStatement } from '../trust/schema-statements.ts'

/** What brings a platform schema into a Supabase project. */
const PROVIDED_BY: Record<string, string> = {
  supabase_functions: 'enable Database Webhooks on the project (Database → Webhooks)',
  net: 'enable the pg_net extension on the project (Database → Extensions)',
  cron: 'enable the pg_cron extension on the project (Database → Extensions)',
  graphql: 'enable the pg_graphql extension on the project (Database → Extensions)',
  vault: 'enable the supabase_vault extension on the project (Database → Extensions)',
  pgsodium: 'enable the pgsodium extension on the project (Database → Extensions)',
}

/** Schemas the extensions that create them put their objects in, when schema.sql creates the extension. */
const EXTENSION_SCHEMAS: Record<string, string> = {
  pg_net: 'net',
  pg_cron: 'cron',
  pg_graphql: 'graphql',
  supabase_vault: 'vault',
  pgsodium: 'pgsodium',
}

/** Every schema the statements use, with the first statement that uses it. */
export function referencedSchemas(statements: readonly SchemaStatement[]): Map<string, SchemaStatement> {
  const created = new Set<string>()
  for (const s of statements) {
    if (s.action !== 'create' || !s.object) continue
    if (s.kind === 'schema') created.add(s.object.name)
    const fromExtension = s.kind === 'extension' ? EXTENSION_SCHEMAS[s.object.name] : undefined
    if (fromExtension) created.add(fromExtension)
  }
  const used = new Map<string, SchemaStatement>()
  for (const s of statements) {
    for (const ref of s.references) {
      const schema = ref.schema
      if (schema === undefined || created.has(schema) || used.has(schema)) continue
      used.set(schema, s)
    }
  }
  return used
}

/** `trigger order_webhook on public.orders (line 997)` */
function describe(statement: SchemaStatement): string {
  const name = statement.object?.name ?? statement.kind
  const on = statement.table ? ` on ${statement.table.schema ?? ''}.${statement.table.name}` : ''
  return `${statement.kind} ${name}${on} (schema.sql line ${statement.line})`
}

/** One line per schema the target lacks: which statement needs it, and what provides it. */
export function missingSchemaProblems(
  used: ReadonlyMap<string, SchemaStatement>,
  existing: ReadonlySet<string>,
): string[] {
  const problems: string[] = []
  for (const [schema, statement] of used) {
    if (existing.has(schema)) continue
    const what = statement.references.find((r) => r.schema === schema)!
    const fix = PROVIDED_BY[schema] ?? `create it (or the extension that brings it) on the target`
    problems.push(
      `${describe(statement)} uses ${schema}.${what.name}, and the target has no schema ${schema}: ${fix}`,
    )
  }
  return problems
}
