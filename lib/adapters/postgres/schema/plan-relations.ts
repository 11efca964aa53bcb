// Planning tables, views, materialized views and sequences: which ones a run covers,
// and the CREATE statements for them.

import { matchesTable } from '../../../core/selection.ts'
import type { CatalogColumn, CatalogRelation, CatalogSequence } from './catalog-types.ts'
import { addNode, asChild, omit, PHASE, type PlanContext } from './plan-nodes.ts'

/** The relations the run covers (-t limits them), their columns, and who defaults to what. */
export function selectRelations(context: PlanContext): void {
  const { catalog, included, tableFilter } = context
  const wanted = (relation: CatalogRelation) => {
    if (tableFilter) return tableFilter.has(`${relation.schema}.${relation.name}`)
    // -T leaves tables out, as the data export does; views and the rest stay.
    const isTable = relation.relkind === 'r' || relation.relkind === 'p'
    return !(isTable && matchesTable(context.excludeTables, relation.schema, relation.name))
  }
  for (const relation of catalog.relations) {
    if (relation.relkind === 'c' || !wanted(relation)) continue
    if (relation.relkind === 'f') {
      omit(
        context,
        'foreign table',
        relation.ident,
        'foreign servers and user mappings are outside the backup',
      )
      continue
    }
    included.set(relation.oid, relation)
  }
  for (const column of catalog.columns) {
    const list = context.columnsOf.get(column.relid) ?? []
    list.push(column)
    context.columnsOf.set(column.relid, list)
    if (column.defaultOid !== null && included.has(column.relid))
      context.maps.attrdef!.set(column.defaultOid, `rel:${column.relid}`)
  }
  for (const relation of included.values()) {
    if (relation.parents.length > 0 && !asChild(context, relation)) {
      const what = relation.isPartition ? 'partition' : 'inheritance child'
      context.warnings.push(
        `${what} ${relation.ident} is recreated as a plain table: its parent is not part of this run`,
      )
    }
  }
}

export function sequenceOptions(sequence: CatalogSequence, separator: string): string {
  return [
    `START WITH ${sequence.start}`,
    `INCREMENT BY ${sequence.increment}`,
    `MINVALUE ${sequence.min}`,
    `MAXVALUE ${sequence.max}`,
    `CACHE ${sequence.cache}`,
    sequence.cycle ? 'CYCLE' : 'NO CYCLE',
  ].join(separator)
}

/**
 * Identity sequences belong to their column; every other sequence of the selected
 * schemas is a node (a -t run keeps those its tables' defaults use, see plan-closure.ts).
 */
export function planSequences(context: PlanContext): void {
  const classMap = context.maps.class!
  for (const sequence of context.catalog.sequences) {
    if (sequence.ownerDeptype === 'i') {
      context.identityOf.set(`${sequence.ownerRelid}:${sequence.ownerAttnum}`, sequence)
      if (sequence.ownerRelid !== null && context.included.has(sequence.ownerRelid)) {
        classMap.set(sequence.oid, `rel:${sequence.ownerRelid}`)
      }
      continue
    }
    context.sequences.push(sequence)
    const key = `seq:${sequence.oid}`
    const unlogged = sequence.persistence === 'u' ? 'UNLOGGED ' : ''
    addNode(context, {
      key,
      phase: PHASE.sequence,
      order: sequence.oid,
      kind: 'sequence',
      name: sequence.ident,
      statements: [
        `CREATE ${unlogged}SEQUENCE ${sequence.ident}\n    AS ${sequence.type}\n    ${sequenceOptions(sequence, '\n    ')};`,
      ],
    })
    classMap.set(sequence.oid, key)
  }
}

const KIND_NAME: Record<string, string> = { v: 'view', m: 'materialized view' }

export function planRelations(context: PlanContext): void {
  for (const relation of context.included.values()) {
    const key = `rel:${relation.oid}`
    const isView = relation.relkind === 'v' || relation.relkind === 'm'
    addNode(context, {
      key,
      phase: isView ? PHASE.view : PHASE.table,
      order: relation.oid,
      kind: KIND_NAME[relation.relkind] ?? 'table',
      name: relation.ident,
      statements: [],
    })
    context.maps.class!.set(relation.oid, key)
    context.maps.type!.set(relation.reltype, key)
  }
}

/** CREATE statements, once the dependencies are known (children need their parents' names). */
export function renderRelations(context: PlanContext): Map<number, string[]> {
  const childFixes = new Map<number, string[]>()
  for (const relation of context.included.values()) {
    const node = context.nodes.get(`rel:${relation.oid}`)
    if (!node) continue
    node.statements = renderRelation(relation, context)
    if (asChild(context, relation))
      childFixes.set(relation.oid, renderChildFixes(relation, context.columnsOf))
  }
  return childFixes
}

function withOptions(reloptions: readonly string[] | null): string {
  if (!reloptions || reloptions.length === 0) return ''
  const items = reloptions.map((option) => {
    const eq = option.indexOf('=')
    const name = eq === -1 ? option : option.slice(0, eq)
    const value = eq === -1 ? '' : option.slice(eq + 1)
    return eq === -1 ? name : `${name}='${value.replaceAll("'", "''")}'`
  })
  return ` WITH (${items.join(', ')})`
}

function renderColumn(column: CatalogColumn, identity: CatalogSequence | undefined): string {
  let text = `${column.ident} ${column.type}`
  if (column.collation) text += ` COLLATE ${column.collation}`
  if (column.generated === 's') text += ` GENERATED ALWAYS AS (${column.default}) STORED`
  else if (column.generated === 'v') text += ` GENERATED ALWAYS AS (${column.default}) VIRTUAL`
  else if (column.default !== null) text += ` DEFAULT ${column.default}`
  if (column.notNull) text += ' NOT NULL'
  if (column.identity === 'a' || column.identity === 'd') {
    text += ` GENERATED ${column.identity === 'a' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY`
    if (identity) text += ` (SEQUENCE NAME ${identity.ident} ${sequenceOptions(identity, ' ')})`
  }
  return text
}

function renderView(relation: CatalogRelation): string[] {
  const body = (relation.viewDef ?? '').trim().replace(/;$/, '')
  if (relation.relkind === 'v') {
    return [`CREATE VIEW ${relation.ident}${withOptions(relation.reloptions)} AS\n${body};`]
  }
  const using =
    relation.accessMethod && relation.accessMethod !== 'heap' ? ` USING ${relation.accessMethod}` : ''
  // Data is loaded separately: the restore refreshes materialized views after the rows.
  return [
    `CREATE MATERIALIZED VIEW ${relation.ident}${using}${withOptions(relation.reloptions)} AS\n${body}\n  WITH NO DATA;`,
  ]
}

function renderRelation(relation: CatalogRelation, context: PlanContext): string[] {
  if (relation.relkind === 'v' || relation.relkind === 'm') return renderView(relation)
  const columns = context.columnsOf.get(relation.oid) ?? []
  const child = asChild(context, relation)
  const unlogged = relation.persistence === 'u' ? 'UNLOGGED ' : ''
  const parents = relation.parents.map((p) => context.relationsByOid.get(p)?.ident ?? '')
  const tail: string[] = []
  let head: string
  if (child && relation.isPartition) {
    head = `CREATE ${unlogged}TABLE ${relation.ident} PARTITION OF ${parents[0]}\n    ${relation.partitionBound}`
  } else {
    // Standalone (or an inheritance child): local columns only when the parents supply the rest.
    const own = columns.filter((c) => !child || c.isLocal)
    const lines = own.map(
      (c) => `    ${renderColumn(c, context.identityOf.get(`${relation.oid}:${c.attnum}`))}`,
    )
    head = `CREATE ${unlogged}TABLE ${relation.ident} (\n${lines.join(',\n')}\n)`
    if (child) tail.push(`INHERITS (${parents.join(', ')})`)
  }
  if (relation.partitionKey) tail.push(`PARTITION BY ${relation.partitionKey}`)
  if (relation.accessMethod && relation.accessMethod !== 'heap' && relation.relkind !== 'p') {
    tail.push(`USING ${relation.accessMethod}`)
  }
  const options = withOptions(relation.reloptions).trim()
  if (options) tail.push(options)
  return [`${head}${tail.length > 0 ? `\n${tail.join('\n')}` : ''};`]
}

/** Defaults and NOT NULL a child sets beyond what it inherits from its parent. */
function renderChildFixes(relation: CatalogRelation, columnsOf: Map<number, CatalogColumn[]>): string[] {
  const parentColumns = new Map<string, CatalogColumn>()
  for (const parent of relation.parents) {
    for (const c of columnsOf.get(parent) ?? [])
      if (!parentColumns.has(c.ident)) parentColumns.set(c.ident, c)
  }
  const out: string[] = []
  for (const column of columnsOf.get(relation.oid) ?? []) {
    const parent = parentColumns.get(column.ident)
    if (!parent || (column.isLocal && !relation.isPartition)) continue
    const alter = `ALTER TABLE ONLY ${relation.ident} ALTER COLUMN ${column.ident}`
    if (column.generated === '' && parent.generated === '' && column.default !== parent.default) {
      out.push(column.default === null ? `${alter} DROP DEFAULT;` : `${alter} SET DEFAULT ${column.default};`)
    }
    if (column.notNull && !parent.notNull && column.identity === '') out.push(`${alter} SET NOT NULL;`)
  }
  return out
}
