// Planning types (enums, domains, composites, ranges), functions, procedures and
// aggregates: a node each, with the statements that create them.
import type {
  CatalogAggregate,
  CatalogDomainConstraint,
  CatalogFunction,
  CatalogType,
  SchemaCatalog,
} from './catalog-types.ts'
import { addNode, omit, PHASE, type PlanContext } from './plan-nodes.ts'

export function planTypes(context: PlanContext): void {
  const { catalog } = context
  const typeMap = context.maps.type!
  for (const c of catalog.domainConstraints) {
    const list = context.domainConstraintsOf.get(c.typid) ?? []
    list.push(c)
    context.domainConstraintsOf.set(c.typid, list)
  }
  for (const type of catalog.types) {
    if (type.arrayOf !== null) continue
    if (type.typtype === 'c' && type.relkind !== 'c') continue // a table's row type
    if (type.typtype === 'm') continue // created with its range type
    if (!['e', 'd', 'c', 'r'].includes(type.typtype)) {
      if (type.typtype === 'b') omit(context, 'base type', type.ident, 'it needs functions written in C')
      continue
    }
    const key = `type:${type.oid}`
    addNode(context, {
      key,
      phase: PHASE.type,
      order: type.oid,
      kind: type.typtype === 'd' ? 'domain' : 'type',
      name: type.ident,
      statements: [],
    })
    typeMap.set(type.oid, key)
    if (type.typtype === 'c') context.maps.class!.set(type.typrelid, key)
    // A domain's constraints carry its dependencies (a CHECK calling a function).
    if (type.typtype === 'd')
      for (const c of context.domainConstraintsOf.get(type.oid) ?? [])
        context.maps.constraint!.set(c.oid, key)
  }
  for (const range of catalog.ranges) {
    const key = typeMap.get(range.typid)
    if (key && range.multirangeOid !== null) typeMap.set(range.multirangeOid, key)
  }
  for (const type of catalog.types) {
    if (type.arrayOf !== null && typeMap.has(type.arrayOf)) typeMap.set(type.oid, typeMap.get(type.arrayOf)!)
  }
}

export function renderTypes(context: PlanContext): void {
  for (const type of context.catalog.types) {
    const node = context.nodes.get(`type:${type.oid}`)
    if (node)
      node.statements = renderType(type, context.catalog, context.domainConstraintsOf.get(type.oid) ?? [])
  }
}

function renderDomain(type: CatalogType, constraints: CatalogDomainConstraint[]): string[] {
  const parts = [`CREATE DOMAIN ${type.ident} AS ${type.domainBase}`]
  if (type.collation) parts.push(`COLLATE ${type.collation}`)
  if (type.domainDefault !== null) parts.push(`DEFAULT ${type.domainDefault}`)
  // PostgreSQL 17 catalogs a domain's NOT NULL as a constraint; older releases only as typnotnull.
  if (type.domainNotNull && !constraints.some((c) => c.contype === 'n')) parts.push('NOT NULL')
  // CREATE DOMAIN cannot take NOT VALID; ALTER DOMAIN can, as pg_dump does it.
  const notValid = constraints.filter((c) => c.def.endsWith(' NOT VALID'))
  for (const c of constraints) if (!notValid.includes(c)) parts.push(`CONSTRAINT ${c.ident} ${c.def}`)
  return [
    `${parts.join(' ')};`,
    ...notValid.map((c) => `ALTER DOMAIN ${type.ident} ADD CONSTRAINT ${c.ident} ${c.def};`),
  ]
}

function renderType(
  type: CatalogType,
  catalog: SchemaCatalog,
  constraints: CatalogDomainConstraint[],
): string[] {
  switch (type.typtype) {
    case 'e':
      return [`CREATE TYPE ${type.ident} AS ENUM (${(type.enumLabels ?? []).join(', ')});`]
    case 'd':
      return renderDomain(type, constraints)
    case 'c': {
      const attributes = catalog.columns
        .filter((c) => c.relid === type.typrelid)
        .map((c) => `    ${c.ident} ${c.type}${c.collation ? ` COLLATE ${c.collation}` : ''}`)
      return [`CREATE TYPE ${type.ident} AS (\n${attributes.join(',\n')}\n);`]
    }
    case 'r': {
      const range = catalog.ranges.find((r) => r.typid === type.oid)
      if (!range) return []
      const options = [`SUBTYPE = ${range.subtype}`]
      if (range.opclass) options.push(`SUBTYPE_OPCLASS = ${range.opclass}`)
      if (range.collation) options.push(`COLLATION = ${range.collation}`)
      if (range.canonical) options.push(`CANONICAL = ${range.canonical}`)
      if (range.subdiff) options.push(`SUBTYPE_DIFF = ${range.subdiff}`)
      if (range.multirange) options.push(`MULTIRANGE_TYPE_NAME = ${range.multirange}`)
      return [`CREATE TYPE ${type.ident} AS RANGE (\n    ${options.join(',\n    ')}\n);`]
    }
    default:
      return []
  }
}

const ROUTINE_KIND: Record<string, string> = { p: 'procedure', a: 'aggregate' }

export function planRoutines(context: PlanContext): void {
  const aggregates = new Map(context.catalog.aggregates.map((a) => [a.oid, a]))
  for (const fn of context.catalog.functions) {
    const aggregate = fn.prokind === 'a' ? aggregates.get(fn.oid) : undefined
    const statement = aggregate
      ? renderAggregate(fn, aggregate)
      : fn.def === null
        ? null
        : `${fn.def.trimEnd()};`
    if (statement === null) {
      omit(context, ROUTINE_KIND[fn.prokind] ?? 'function', fn.signature, 'its definition could not be read')
      continue
    }
    const key = `fn:${fn.oid}`
    addNode(context, {
      key,
      phase: PHASE.function,
      order: fn.oid,
      kind: ROUTINE_KIND[fn.prokind] ?? 'function',
      name: fn.signature,
      statements: [statement],
    })
    context.maps.proc!.set(fn.oid, key)
  }
}

const MODIFY: Record<string, string> = { r: 'READ_ONLY', s: 'SHAREABLE', w: 'READ_WRITE' }
const PARALLEL: Record<string, string> = { s: 'SAFE', r: 'RESTRICTED' }

/** CREATE AGGREGATE from pg_aggregate, option by option as pg_dump writes it. */
export function renderAggregate(fn: CatalogFunction, a: CatalogAggregate): string {
  const options = [`SFUNC = ${a.transfn}`, `STYPE = ${a.transtype}`]
  const add = (name: string, value: string | number | null | false) => {
    if (value !== null && value !== false && value !== 0) options.push(`${name} = ${value}`)
  }
  add('SSPACE', a.transspace)
  add('FINALFUNC', a.finalfn)
  if (a.finalExtra) options.push('FINALFUNC_EXTRA')
  // The default is READ_ONLY for normal aggregates, READ_WRITE for ordered-set ones.
  const defaultModify = a.kind === 'n' ? 'r' : 'w'
  if (a.finalfn && a.finalModify !== defaultModify) add('FINALFUNC_MODIFY', MODIFY[a.finalModify] ?? null)
  add('COMBINEFUNC', a.combinefn)
  add('SERIALFUNC', a.serialfn)
  add('DESERIALFUNC', a.deserialfn)
  add('INITCOND', a.initval)
  add('MSFUNC', a.mtransfn)
  add('MINVFUNC', a.minvtransfn)
  add('MSTYPE', a.mtranstype)
  add('MSSPACE', a.mtransspace)
  add('MFINALFUNC', a.mfinalfn)
  if (a.mfinalExtra) options.push('MFINALFUNC_EXTRA')
  if (a.mfinalfn && a.mfinalModify !== defaultModify) add('MFINALFUNC_MODIFY', MODIFY[a.mfinalModify] ?? null)
  add('MINITCOND', a.minitval)
  // regoperator prints `pg_catalog.>(integer,integer)`; SORTOP takes the operator alone.
  if (a.sortop) options.push(`SORTOP = OPERATOR(${a.sortop.replace(/\(.*$/, '')})`)
  if (a.kind === 'h') options.push('HYPOTHETICAL')
  add('PARALLEL', PARALLEL[a.parallel] ?? null)
  const name = fn.signature.slice(0, fn.signature.length - fn.arguments.length - 2)
  const args = fn.arguments === '' ? '*' : fn.arguments
  return `CREATE AGGREGATE ${name}(${args}) (\n    ${options.join(',\n    ')}\n);`
}
