// Which schemas schema.sql's statements use without creating them, and the refusal for
// those the target lacks: named by statement, with what brings the schema into a project.
import { describe, expect, it } from 'vitest'
import { missingSchemaProblems, referencedSchemas } from '../../lib/restore/referenced-schemas.ts'
import type { SchemaStatement } from '../../lib/trust/schema-statements.ts'

type Name = { schema?: string; name: string }
const statement = (fields: Partial<SchemaStatement> & { references?: Name[] }) =>
  ({ action: 'create', kind: 'table', line: 1, references: [], roles: [], ...fields }) as SchemaStatement

const webhook = statement({
  kind: 'trigger',
  line: 997,
  object: { name: 'orders_webhook' },
  table: { schema: 'public', name: 'orders' },
  references: [
    { schema: 'public', name: 'orders' },
    { schema: 'supabase_functions', name: 'http_request' },
  ],
})

describe('referencedSchemas', () => {
  it('lists each schema a statement uses, with the first statement using it', () => {
    const used = referencedSchemas([
      webhook,
      statement({ line: 5, references: [{ schema: 'public', name: 't' }] }),
    ])
    expect([...used.keys()]).toEqual(['public', 'supabase_functions'])
    expect(used.get('public')).toBe(webhook)
  })

  it('leaves out the schemas schema.sql creates itself', () => {
    const app = statement({ kind: 'schema', object: { name: 'app' } })
    const table = statement({ references: [{ schema: 'app', name: 'kind' }] })
    expect([...referencedSchemas([app, table]).keys()]).toEqual([])
  })

  it('leaves out the schema an extension schema.sql creates brings with it', () => {
    const pgNet = statement({ kind: 'extension', object: { name: 'pg_net' } })
    const call = statement({ references: [{ schema: 'net', name: 'http_post' }] })
    expect([...referencedSchemas([pgNet, call]).keys()]).toEqual([])
  })

  it('counts an ALTER of a schema as no creation', () => {
    const alter = statement({ kind: 'schema', action: 'alter', object: { name: 'app' } })
    const table = statement({ references: [{ schema: 'app', name: 'kind' }] })
    expect([...referencedSchemas([alter, table]).keys()]).toEqual(['app'])
  })
})

describe('missingSchemaProblems', () => {
  it('says nothing when the target has every schema', () => {
    const used = referencedSchemas([webhook])
    expect(missingSchemaProblems(used, new Set(['public', 'supabase_functions']))).toEqual([])
  })

  it('names the statement, the object it uses and Database Webhooks for supabase_functions', () => {
    expect(missingSchemaProblems(referencedSchemas([webhook]), new Set(['public']))).toEqual([
      'trigger "orders_webhook" on public.orders (schema.sql line 997) uses supabase_functions.http_request, and the target has no schema supabase_functions: enable Database Webhooks on the project (Database → Webhooks)',
    ])
  })

  it('points at the extension for the schemas extensions bring (pg_net, pg_cron)', () => {
    const uses = (schema: string) => statement({ references: [{ schema, name: 'f' }], object: { name: 'v' } })
    const problems = missingSchemaProblems(referencedSchemas([uses('net'), uses('cron')]), new Set())
    expect(problems[0]).toMatch(/no schema net: enable the pg_net extension/)
    expect(problems[1]).toMatch(/no schema cron: enable the pg_cron extension/)
  })

  it('asks to create any other schema first', () => {
    const uses = statement({
      kind: 'view',
      object: { name: 'v' },
      references: [{ schema: 'legacy', name: 't' }],
    })
    expect(missingSchemaProblems(referencedSchemas([uses]), new Set())).toEqual([
      'view "v" (schema.sql line 1) uses legacy.t, and the target has no schema legacy: create it (or the extension that brings it) on the target',
    ])
  })
})
