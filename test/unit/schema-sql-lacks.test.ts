// Which planned tables a --create-schema restore would find missing after schema.sql
// ran (pure): those schemaSql.omitted names, matched however their names are quoted.
import { describe, expect, it } from 'vitest'
import type { Manifest } from '../../lib/archive/manifest.ts'
import type { RestorePlan } from '../../lib/restore/target.ts'
import { type TargetState, tablesSchemaSqlLacks, unquoteQualified } from '../../lib/restore/target-checks.ts'

const table = (schema: string, name: string, rows = 3) =>
  ({ schema, name, rows }) as unknown as RestorePlan['tables'][number]

function planWith(
  omitted: { kind: string; name: string; reason: string }[],
  createSchema = true,
): RestorePlan {
  const manifest = { schemaSql: { omitted } } as unknown as Manifest
  const tables = [table('My Schema', 'Odd"Name'), table('public', 'kept')]
  return {
    manifest,
    tables,
    sequences: [],
    schemaSql: undefined,
    createSchema,
    truncate: false,
    verify: true,
  }
}

const empty: TargetState = { tables: new Map(), sequences: new Set() }

describe('tables schema.sql lacks', () => {
  it('reads quoted identifiers back to schema.name', () => {
    expect(unquoteQualified('"My Schema"."Odd""Name"')).toBe('My Schema.Odd"Name')
    expect(unquoteQualified('public.t')).toBe('public.t')
  })

  it('names an omitted table with its reason and rows; tables schema.sql creates are fine', () => {
    const plan = planWith([
      { kind: 'table', name: '"My Schema"."Odd""Name"', reason: 'it depends on x' },
      { kind: 'view', name: 'public.kept', reason: 'not a table' },
    ])
    expect(tablesSchemaSqlLacks(plan, empty)).toEqual([
      'My Schema.Odd"Name: schema.sql does not create this table (it depends on x) and the target does not have it, so its 3 rows cannot be loaded',
    ])
  })

  it('says nothing without --create-schema, or when the target has the table', () => {
    const omitted = [{ kind: 'table', name: 'public.kept', reason: 'r' }]
    expect(tablesSchemaSqlLacks(planWith(omitted, false), empty)).toEqual([])
    const has: TargetState = { tables: new Map([['public.kept', {} as never]]), sequences: new Set() }
    expect(tablesSchemaSqlLacks(planWith(omitted), has)).toEqual([])
  })
})
