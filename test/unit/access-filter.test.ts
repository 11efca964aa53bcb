// Whose privileges a restore makes the source's: everything for a whole restore, only
// what it restored for a part of one (-t), so grants revoked on a live database since
// the backup are not handed back; on what the target keeps for itself, only the grants
// the app gave its own roles.
import { describe, expect, it } from 'vitest'
import type { AccessObject, AccessObjectKind } from '../../lib/archive/access.ts'
import type { SequenceEntry, TableEntry } from '../../lib/archive/manifest.ts'
import { accessScope } from '../../lib/restore/schema-selection.ts'
import type { SchemaStatement } from '../../lib/trust/schema-statements.ts'

const table = (schema: string, name: string) => ({ schema, name }) as TableEntry
const sequence = (schema: string, name: string) => ({ schema, name }) as SequenceEntry
const object = (kind: AccessObjectKind, schema: string, name: string) =>
  ({ kind, schema, name }) as AccessObject
const creates = (kind: string, name: string, schema?: string) =>
  ({ action: 'create', kind, object: schema === undefined ? { name } : { schema, name } }) as SchemaStatement

const archived = [table('public', 'messages'), table('public', 'staff_audit'), table('auth', 'users')]
const everything = [
  object('schema', 'public', 'public'),
  object('schema', 'reports', 'reports'),
  object('table', 'public', 'messages'),
  object('table', 'public', 'staff_audit'),
  object('sequence', 'public', 'staff_audit_id_seq'),
  object('function', 'reports', 'audit_row'),
  object('table', 'auth', 'users'),
]
const names = (kept: AccessObject[]) => kept.map((o) => `${o.kind} ${o.schema}.${o.name}`)
type Plan = Parameters<typeof accessScope>[0]
const accessFilter =
  (plan: Plan, ran: SchemaStatement[]) =>
  (o: AccessObject): boolean =>
    accessScope(plan, ran)(o) === 'source'

describe('accessScope', () => {
  it('sets every recorded object on a whole restore', () => {
    const keep = accessFilter({ tables: archived, sequences: [] }, [])
    expect(everything.filter(keep)).toEqual(everything)
  })

  it('with -t, sets only the restored table, its sequence and what its statements created', () => {
    const keep = accessFilter(
      {
        tables: [table('public', 'staff_audit')],
        sequences: [sequence('public', 'staff_audit_id_seq')],
        selectedOnly: true,
      },
      [creates('schema', 'reports'), creates('function', 'audit_row', 'reports')],
    )
    expect(names(everything.filter(keep))).toEqual([
      'schema reports.reports',
      'table public.staff_audit',
      'sequence public.staff_audit_id_seq',
      'function reports.audit_row',
    ])
  })

  it("sets every object when the target leaves tables out of a whole restore (a project's ledgers)", () => {
    const keep = accessFilter({ tables: [table('public', 'messages')], sequences: [] }, [])
    expect(everything.filter(keep)).toEqual(everything)
  })

  it('never counts a statement that only changes an object as creating it', () => {
    const grant = { ...creates('table', 'messages', 'public'), action: 'grant' } as SchemaStatement
    const keep = accessFilter(
      { tables: [table('public', 'staff_audit')], sequences: [], selectedOnly: true },
      [grant],
    )
    expect(names(everything.filter(keep))).toEqual(['table public.staff_audit'])
  })

  it("gives what the target keeps for itself (a Supabase project's managed schemas) only the app's grants", () => {
    const keepAccess = (o: { schema: string }) => o.schema !== 'auth'
    const scope = accessScope({ tables: archived, sequences: [], keepAccess }, [])
    expect(
      names(everything.filter(accessFilter({ tables: archived, sequences: [], keepAccess }, []))),
    ).not.toContain('table auth.users')
    expect(scope(object('table', 'auth', 'users'))).toBe('app-grants')
  })

  it('with -t, gives a managed table it restored the app grants and leaves the rest alone', () => {
    const keepAccess = (o: { schema: string }) => o.schema !== 'auth'
    const scope = accessScope(
      { tables: [table('auth', 'users')], sequences: [], selectedOnly: true, keepAccess },
      [],
    )
    expect(everything.map(scope)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      'app-grants',
    ])
  })
})
