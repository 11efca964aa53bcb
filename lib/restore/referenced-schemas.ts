// Schemas that schema.sql's statements use but neither create nor find on the target: a
// trigger calling supabase_functions.http_request() (a Database Webhook) restored into a
// project without Database Webhooks. Without this check the restore would load every
// row, then fail at the trigger and roll back; it is refused before the first write, with
// what to switch on. Pure.
import { type SchemaStatement, statementName } from '../trust/schema-statements.ts'

/** The schema each platform extension creates and keeps its objects in. */
const EXTENSION_OF_SCHEMA: Record<string, string> = {
  net: 'pg_net',
  cron: 'pg_cron',
  graphql: 'pg_graphql',
  vault: 'supabase_vault',
  pgsodium: 'pgsodium',
}

/** What brings a schema into a Supabase project. */
function providerOf(schema: string): string {
  if (schema === 'supabase_functions') return 'enable Database Webhooks on the project (Database → Webhooks)'
  const extension = EXTENSION_OF_SCHEMA[schema]
  if (extension) return `enable the ${extension} extension on the project (Database → Extensions)`
  return 'create it (or the extension that brings it) on the target'
}

/** Every schema the statements use, with the first statement that uses it. */
export function referencedSchemas(statements: readonly SchemaStatement[]): Map<string, SchemaStatement> {
  const created = new Set<string>()
  for (const s of statements) {
    if (s.action !== 'create' || !s.object) continue
    if (s.kind === 'schema') created.add(s.object.name)
    if (s.kind !== 'extension') continue
    for (const [schema, extension] of Object.entries(EXTENSION_OF_SCHEMA))
      if (extension === s.object.name) created.add(schema)
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

/** One line per schema the target lacks: which statement needs it, and what provides it. */
export function missingSchemaProblems(
  used: ReadonlyMap<string, SchemaStatement>,
  existing: ReadonlySet<string>,
): string[] {
  const problems: string[] = []
  for (const [schema, statement] of used) {
    if (existing.has(schema)) continue
    const what = statement.references.find((r) => r.schema === schema)!
    problems.push(
      `${statementName(statement)} (schema.sql line ${statement.line}) uses ${schema}.${what.name}, and the target has no schema ${schema}: ${providerOf(schema)}`,
    )
  }
  return problems
}
