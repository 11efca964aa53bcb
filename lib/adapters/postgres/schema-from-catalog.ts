// Plans schema.sql from catalog data (pure: no I/O): every object becomes a node,
// pg_depend gives the edges, and a topological sort orders the DDL for an empty database.
import type {
  CatalogColumn,
  CatalogConstraint,
  CatalogDomainConstraint,
  CatalogExtension,
  CatalogRelation,
  CatalogSequence,
  CatalogType,
  ObjectClass,
  SchemaCatalog,
} from './schema-catalog.ts'

export interface CatalogPlanOptions {
  /** Qualified `schema.table` names when -t limits the run (relations of any kind). */
  tables?: readonly string[]
}

export interface CatalogPlan {
  /** The DDL statements, without header or session settings. */
  sections: { title: string; statements: string[] }[]
  extensions: CatalogExtension[]
  /** Schemas that extensions live in and that must exist first (not selected, not built in). */
  extensionSchemas: string[]
  roles: string[]
  /** Objects outside the selected schemas (not extension members) that the DDL refers to. */
  external: string[]
  warnings: string[]
}

// Phases group the output the way pg_dump does when dependencies allow it; a
// dependency always wins over a phase (a function returning SETOF a table comes
// after that table).
const PHASE = {
  type: 1,
  function: 2,
  sequence: 3,
  table: 4,
  view: 5,
  constraint: 6,
  index: 7,
  attach: 8,
  foreignKey: 9,
  trigger: 10,
  policy: 11,
} as const

const PHASE_TITLE: Record<number, string> = {
  [PHASE.type]: 'Types',
  [PHASE.function]: 'Functions and procedures',
  [PHASE.sequence]: 'Sequences',
  [PHASE.table]: 'Tables',
  [PHASE.view]: 'Views',
  [PHASE.constraint]: 'Primary keys, unique, exclusion and check constraints',
  [PHASE.index]: 'Indexes',
  [PHASE.attach]: 'Partition indexes attached to their parents',
  [PHASE.foreignKey]: 'Foreign keys (last, so that cycles and self-references load)',
  [PHASE.trigger]: 'Triggers',
  [PHASE.policy]: 'Row level security policies',
}

export interface PlanNode {
  key: string
  phase: number
  order: number
  label: string
  statements: string[]
  deps: Set<string>
  missing: string[]
}

const SKIPPED = Symbol('skipped')

/** A text-free comment line: identifiers may contain newlines. */
export function commentLine(text: string): string {
  return `-- ${text.replace(/[\r\n]+/g, ' ')}`
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

function sequenceOptions(sequence: CatalogSequence, separator: string): string {
  return [
    `START WITH ${sequence.start}`,
    `INCREMENT BY ${sequence.increment}`,
    `MINVALUE ${sequence.min}`,
    `MAXVALUE ${sequence.max}`,
    `CACHE ${sequence.cache}`,
    sequence.cycle ? 'CYCLE' : 'NO CYCLE',
  ].join(separator)
}

class Heap {
  readonly #items: PlanNode[] = []

  get size(): number {
    return this.#items.length
  }

  static #less(a: PlanNode, b: PlanNode): boolean {
    return a.phase !== b.phase ? a.phase < b.phase : a.order !== b.order ? a.order < b.order : a.key < b.key
  }

  push(node: PlanNode): void {
    const items = this.#items
    items.push(node)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!Heap.#less(items[i]!, items[parent]!)) break
      ;[items[i], items[parent]] = [items[parent]!, items[i]!]
      i = parent
    }
  }

  pop(): PlanNode | undefined {
    const items = this.#items
    const top = items[0]
    const last = items.pop()
    if (items.length > 0 && last) {
      items[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < items.length && Heap.#less(items[l]!, items[m]!)) m = l
        if (r < items.length && Heap.#less(items[r]!, items[m]!)) m = r
        if (m === i) break
        ;[items[i], items[m]] = [items[m]!, items[i]!]
        i = m
      }
    }
    return top
  }
}

/**
 * Kahn's algorithm with a priority queue on (phase, oid). Nodes that depend on
 * something missing or skipped are skipped too, each with a warning; a cycle is
 * broken at its earliest node, with a warning, rather than dropping objects.
 */
export function orderNodes(nodes: Map<string, PlanNode>, warnings: string[]): PlanNode[] {
  const dependents = new Map<string, string[]>()
  const remaining = new Map<string, number>()
  for (const node of nodes.values()) {
    let count = 0
    for (const dep of node.deps) {
      if (!nodes.has(dep) || dep === node.key) continue
      count++
      const list = dependents.get(dep) ?? []
      list.push(node.key)
      dependents.set(dep, list)
    }
    remaining.set(node.key, count)
  }
  const ready = new Heap()
  for (const node of nodes.values()) if (remaining.get(node.key) === 0) ready.push(node)
  const state = new Map<string, PlanNode | typeof SKIPPED>()
  const out: PlanNode[] = []
  const release = (node: PlanNode) => {
    for (const key of dependents.get(node.key) ?? []) {
      const left = (remaining.get(key) ?? 0) - 1
      remaining.set(key, left)
      if (left === 0 && !state.has(key)) ready.push(nodes.get(key)!)
    }
  }
  while (state.size < nodes.size) {
    let node = ready.pop()
    if (!node) {
      // A cycle pg_depend allows but plain DDL cannot express: emit in creation order.
      const stuck = [...nodes.values()]
        .filter((n) => !state.has(n.key))
        .sort((a, b) => a.phase - b.phase || a.order - b.order)
      node = stuck[0]!
      warnings.push(
        `dependency cycle around ${node.label}; emitted in creation order, the restore may need manual fixes`,
      )
    }
    if (state.has(node.key)) continue
    const skippedDep = [...node.deps].find((dep) => state.get(dep) === SKIPPED)
    if (node.missing.length > 0 || skippedDep) {
      const why = node.missing[0] ?? `it depends on ${nodes.get(skippedDep!)?.label}, which is skipped`
      warnings.push(`${node.label} skipped: ${why}`)
      state.set(node.key, SKIPPED)
    } else {
      state.set(node.key, node)
      out.push(node)
    }
    release(node)
  }
  return out
}

function renderType(
  type: CatalogType,
  catalog: SchemaCatalog,
  constraints: CatalogDomainConstraint[],
): string[] {
  switch (type.typtype) {
    case 'e':
      return [`CREATE TYPE ${type.ident} AS ENUM (${(type.enumLabels ?? []).join(', ')});`]
    case 'd': {
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

/** Builds the plan: which objects, in which order, as which statements. */
export function planFromCatalog(catalog: SchemaCatalog, options: CatalogPlanOptions = {}): CatalogPlan {
  const warnings: string[] = []
  const selectedSchemas = new Set(catalog.schemas.map((s) => s.name))
  const nodes = new Map<string, PlanNode>()
  const addNode = (node: Omit<PlanNode, 'deps' | 'missing'>) => {
    const full: PlanNode = { ...node, deps: new Set(), missing: [] }
    nodes.set(full.key, full)
    return full
  }

  // Maps from catalog objects (any class) to the node that creates them.
  const classMap = new Map<number, string>()
  const typeMap = new Map<number, string>()
  const procMap = new Map<number, string>()
  const constraintMap = new Map<number, string>()
  const attrdefMap = new Map<number, string>()
  const rewriteMap = new Map<number, string>()
  const triggerMap = new Map<number, string>()
  const policyMap = new Map<number, string>()

  // --- which relations the run covers
  const tableFilter = options.tables && options.tables.length > 0 ? new Set(options.tables) : undefined
  const relationsByOid = new Map(catalog.relations.map((r) => [r.oid, r]))
  const wanted = (schema: string, name: string) => !tableFilter || tableFilter.has(`${schema}.${name}`)
  const included = new Map<number, CatalogRelation>()
  for (const relation of catalog.relations) {
    if (relation.relkind === 'c' || !wanted(relation.schema, relation.name)) continue
    if (relation.relkind === 'f') {
      warnings.push(
        `foreign table ${relation.ident} is not recreated (foreign servers are outside the backup)`,
      )
      continue
    }
    included.set(relation.oid, relation)
  }
  const columnsOf = new Map<number, CatalogColumn[]>()
  for (const column of catalog.columns) {
    const list = columnsOf.get(column.relid) ?? []
    list.push(column)
    columnsOf.set(column.relid, list)
    if (column.defaultOid !== null && included.has(column.relid))
      attrdefMap.set(column.defaultOid, `rel:${column.relid}`)
  }
  // A child is created as PARTITION OF / INHERITS only when all its parents are there.
  const asChild = (relation: CatalogRelation) =>
    relation.parents.length > 0 && relation.parents.every((p) => included.has(p))
  for (const relation of included.values()) {
    if (relation.parents.length > 0 && !asChild(relation)) {
      const what = relation.isPartition ? 'partition' : 'inheritance child'
      warnings.push(
        `${what} ${relation.ident} is recreated as a plain table: its parent is not part of this run`,
      )
    }
  }

  // --- sequences: identity ones belong to their column; a -t run keeps the ones its tables use
  const identityOf = new Map<string, CatalogSequence>()
  const sequences: CatalogSequence[] = []
  const defaultSequences = new Set<number>()
  if (tableFilter) {
    for (const dep of catalog.dependencies) {
      if (dep.objClass === 'attrdef' && dep.refClass === 'class' && attrdefMap.has(dep.objid)) {
        defaultSequences.add(dep.refObjid)
      }
    }
  }
  for (const sequence of catalog.sequences) {
    if (sequence.ownerDeptype === 'i') {
      identityOf.set(`${sequence.ownerRelid}:${sequence.ownerAttnum}`, sequence)
      if (sequence.ownerRelid !== null && included.has(sequence.ownerRelid)) {
        classMap.set(sequence.oid, `rel:${sequence.ownerRelid}`)
      }
      continue
    }
    const ownedByIncluded = sequence.ownerRelid !== null && included.has(sequence.ownerRelid)
    if (wanted(sequence.schema, sequence.name) || ownedByIncluded || defaultSequences.has(sequence.oid)) {
      sequences.push(sequence)
    }
  }

  // --- types
  const domainConstraintsOf = new Map<number, CatalogDomainConstraint[]>()
  for (const c of catalog.domainConstraints) {
    const list = domainConstraintsOf.get(c.typid) ?? []
    list.push(c)
    domainConstraintsOf.set(c.typid, list)
  }
  for (const type of catalog.types) {
    if (type.arrayOf !== null) continue
    if (type.typtype === 'c' && type.relkind !== 'c') continue // a table's row type
    if (type.typtype === 'm') continue // created with its range type
    if (!['e', 'd', 'c', 'r'].includes(type.typtype)) {
      if (type.typtype === 'b')
        warnings.push(`base type ${type.ident} is not recreated (it needs C functions)`)
      continue
    }
    const key = `type:${type.oid}`
    addNode({ key, phase: PHASE.type, order: type.oid, label: `type ${type.ident}`, statements: [] })
    typeMap.set(type.oid, key)
    if (type.typtype === 'c') classMap.set(type.typrelid, key)
    // A domain's constraints carry its dependencies (a CHECK calling a function).
    if (type.typtype === 'd')
      for (const c of domainConstraintsOf.get(type.oid) ?? []) constraintMap.set(c.oid, key)
  }
  for (const range of catalog.ranges) {
    const key = typeMap.get(range.typid)
    if (key && range.multirangeOid !== null) typeMap.set(range.multirangeOid, key)
  }
  for (const type of catalog.types) {
    if (type.arrayOf !== null && typeMap.has(type.arrayOf)) typeMap.set(type.oid, typeMap.get(type.arrayOf)!)
  }

  // --- functions
  for (const fn of catalog.functions) {
    if (fn.prokind === 'a') {
      warnings.push(`aggregate ${fn.signature} is not recreated`)
      continue
    }
    if (fn.def === null) continue
    const key = `fn:${fn.oid}`
    const statements = [`${fn.def.trimEnd()};`]
    addNode({ key, phase: PHASE.function, order: fn.oid, label: `function ${fn.signature}`, statements })
    procMap.set(fn.oid, key)
  }

  // --- sequences
  for (const sequence of sequences) {
    const key = `seq:${sequence.oid}`
    const unlogged = sequence.persistence === 'u' ? 'UNLOGGED ' : ''
    addNode({
      key,
      phase: PHASE.sequence,
      order: sequence.oid,
      label: `sequence ${sequence.ident}`,
      statements: [
        `CREATE ${unlogged}SEQUENCE ${sequence.ident}\n    AS ${sequence.type}\n    ${sequenceOptions(sequence, '\n    ')};`,
      ],
    })
    classMap.set(sequence.oid, key)
  }

  // --- tables and views
  for (const relation of included.values()) {
    const key = `rel:${relation.oid}`
    const isView = relation.relkind === 'v' || relation.relkind === 'm'
    const kindName =
      relation.relkind === 'v' ? 'view' : relation.relkind === 'm' ? 'materialized view' : 'table'
    addNode({
      key,
      phase: isView ? PHASE.view : PHASE.table,
      order: relation.oid,
      label: `${kindName} ${relation.ident}`,
      statements: [],
    })
    classMap.set(relation.oid, key)
    typeMap.set(relation.reltype, key)
  }
  for (const rule of catalog.rules) {
    if (!included.has(rule.relid)) continue
    if (rule.isViewRule) rewriteMap.set(rule.oid, `rel:${rule.relid}`)
    else
      warnings.push(`rule ${commentSafe(rule.name)} on ${included.get(rule.relid)!.ident} is not recreated`)
  }

  // --- constraints, indexes
  const emittedConstraints: CatalogConstraint[] = []
  for (const constraint of catalog.constraints) {
    const relation = included.get(constraint.relid)
    if (!relation) continue
    // Clones that re-adding the parent's constraint recreates (partitions, inheritance).
    if (constraint.contype === 'f' && constraint.parentRelid !== null && included.has(constraint.parentRelid))
      continue
    if (constraint.contype === 'c' && !constraint.isLocal && asChild(relation)) continue
    const key = `con:${constraint.oid}`
    const isKey = ['p', 'u', 'x'].includes(constraint.contype)
    const only = isKey ? 'ONLY ' : ''
    addNode({
      key,
      phase: constraint.contype === 'f' ? PHASE.foreignKey : PHASE.constraint,
      order: constraint.oid,
      label: `constraint ${constraint.ident} on ${relation.ident}`,
      statements: [
        `ALTER TABLE ${only}${relation.ident}\n    ADD CONSTRAINT ${constraint.ident} ${constraint.def};`,
      ],
    })
    constraintMap.set(constraint.oid, key)
    emittedConstraints.push(constraint)
    if (constraint.indexOid !== null && isKey) classMap.set(constraint.indexOid, key)
  }
  const indexesByOid = new Map(catalog.indexes.map((i) => [i.oid, i]))
  for (const index of catalog.indexes) {
    const relation = included.get(index.relid)
    if (!relation || index.constraintOid !== null) continue
    const key = `idx:${index.oid}`
    addNode({
      key,
      phase: PHASE.index,
      order: index.oid,
      label: `index ${index.ident}`,
      statements: [`${index.def};`],
    })
    classMap.set(index.oid, key)
  }
  // Partition indexes: created on each side, then attached, as pg_dump does, so every name survives.
  const attachKeys: string[] = []
  for (const index of catalog.indexes) {
    if (index.parentIndex === null) continue
    const childKey = classMap.get(index.oid)
    const parentKey = classMap.get(index.parentIndex)
    const parent = indexesByOid.get(index.parentIndex)
    if (!childKey || !parentKey || !parent) continue
    const key = `attach:${index.oid}`
    const node = addNode({
      key,
      phase: PHASE.attach,
      order: index.oid,
      label: `index attachment ${index.ident}`,
      statements: [`ALTER INDEX ${parent.ident} ATTACH PARTITION ${index.ident};`],
    })
    node.deps.add(childKey).add(parentKey)
    attachKeys.push(key)
  }

  // --- triggers and policies
  for (const trigger of catalog.triggers) {
    const relation = included.get(trigger.relid)
    if (!relation) continue
    if (trigger.parentRelid !== null && included.has(trigger.parentRelid)) continue
    const statements = [`${trigger.def};`]
    const state = { D: 'DISABLE', R: 'ENABLE REPLICA', A: 'ENABLE ALWAYS' }[trigger.enabled]
    if (state) statements.push(`ALTER TABLE ${relation.ident} ${state} TRIGGER ${trigger.ident};`)
    const key = `trg:${trigger.oid}`
    addNode({
      key,
      phase: PHASE.trigger,
      order: trigger.oid,
      label: `trigger ${trigger.ident} on ${relation.ident}`,
      statements,
    })
    triggerMap.set(trigger.oid, key)
  }
  const roles = new Set<string>()
  for (const policy of catalog.policies) {
    const relation = included.get(policy.relid)
    if (!relation) continue
    const command =
      { r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE', '*': 'ALL' }[policy.command] ?? 'ALL'
    let text = `CREATE POLICY ${policy.ident} ON ${relation.ident}\n    AS ${policy.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'}\n    FOR ${command}\n    TO ${policy.roles.join(', ')}`
    if (policy.using !== null) text += `\n    USING (${policy.using})`
    if (policy.withCheck !== null) text += `\n    WITH CHECK (${policy.withCheck})`
    const key = `pol:${policy.oid}`
    addNode({
      key,
      phase: PHASE.policy,
      order: policy.oid,
      label: `policy ${policy.ident} on ${relation.ident}`,
      statements: [`${text};`],
    })
    policyMap.set(policy.oid, key)
    for (const name of policy.roleNames) roles.add(name)
  }

  // --- dependencies
  const maps: Record<ObjectClass, Map<number, string> | undefined> = {
    class: classMap,
    type: typeMap,
    proc: procMap,
    constraint: constraintMap,
    attrdef: attrdefMap,
    rewrite: rewriteMap,
    trigger: triggerMap,
    policy: policyMap,
    other: undefined,
  }
  const neededExtensions = new Set<number>()
  for (const extension of catalog.extensions) {
    if (selectedSchemas.has(extension.schema)) neededExtensions.add(extension.oid)
  }
  const sequenceOids = new Set(sequences.map((s) => s.oid))
  const external = new Set<string>()
  for (const dep of catalog.dependencies) {
    const from = maps[dep.objClass]?.get(dep.objid)
    if (!from) continue
    const node = nodes.get(from)
    if (!node) continue
    if (dep.refExtension !== null) {
      neededExtensions.add(dep.refExtension)
      continue
    }
    // OWNED BY is emitted at the end, not as an ordering constraint (it would cycle with the default).
    if (
      dep.objClass === 'class' &&
      sequenceOids.has(dep.objid) &&
      dep.refClass === 'class' &&
      dep.deptype === 'a'
    )
      continue
    // A child's tie to its parents is handled below (a standalone child needs no parent).
    if (
      dep.objClass === 'class' &&
      dep.refClass === 'class' &&
      included.get(dep.objid)?.parents.includes(dep.refObjid)
    ) {
      continue
    }
    const to = maps[dep.refClass]?.get(dep.refObjid)
    if (to) {
      if (to !== from) node.deps.add(to)
    } else if (dep.deptype === 'P' || dep.deptype === 'S') {
      // A partition's tie to its parent's object: recreated by attaching, or not at all.
    } else if (dep.refSelected) {
      node.missing.push(`it depends on ${dep.refDescription ?? 'an object'}, which is not part of this run`)
    } else if (dep.refDescription) {
      external.add(dep.refDescription)
    }
  }
  // Children come after their parents; a parent's keys, checks and indexes after its
  // children, so that adding them recurses (checks) or attaches (keys) as in the source.
  const childrenOf = new Map<number, string[]>()
  for (const relation of included.values()) {
    if (!asChild(relation)) continue
    const node = nodes.get(`rel:${relation.oid}`)!
    for (const parent of relation.parents) {
      node.deps.add(`rel:${parent}`)
      childrenOf.set(parent, [...(childrenOf.get(parent) ?? []), node.key])
    }
  }
  const onParent = [
    ...emittedConstraints
      .filter((c) => c.contype !== 'f')
      .map((c) => ({ key: `con:${c.oid}`, relid: c.relid })),
    ...catalog.indexes.map((i) => ({ key: `idx:${i.oid}`, relid: i.relid })),
  ]
  for (const { key, relid } of onParent) {
    const node = nodes.get(key)
    for (const child of childrenOf.get(relid) ?? []) node?.deps.add(child)
  }
  for (const constraint of emittedConstraints) {
    if (constraint.contype !== 'f') continue
    const node = nodes.get(`con:${constraint.oid}`)!
    // A foreign key needs the referenced key valid: every partition index attached.
    for (const key of attachKeys) node.deps.add(key)
  }

  // --- statements for types and relations (now that the dependencies are known)
  for (const type of catalog.types) {
    const node = nodes.get(`type:${type.oid}`)
    if (node) node.statements = renderType(type, catalog, domainConstraintsOf.get(type.oid) ?? [])
  }
  const childFixes = new Map<number, string[]>()
  for (const relation of included.values()) {
    const node = nodes.get(`rel:${relation.oid}`)!
    node.statements = renderRelation(relation, {
      columns: columnsOf.get(relation.oid) ?? [],
      relationsByOid,
      asChild: asChild(relation),
      identityOf,
    })
    if (asChild(relation)) childFixes.set(relation.oid, renderChildFixes(relation, columnsOf))
  }

  const ordered = orderNodes(nodes, warnings)
  const emitted = new Set(ordered.map((n) => n.key))

  // --- trailing statements: ownership of sequences, row security, comments
  const trailing: string[] = []
  for (const sequence of sequences) {
    if (sequence.ownerDeptype !== 'a' || sequence.ownerRelid === null || !emitted.has(`seq:${sequence.oid}`))
      continue
    const owner = included.get(sequence.ownerRelid)
    if (owner && emitted.has(`rel:${owner.oid}`) && sequence.ownerColumn) {
      trailing.push(`ALTER SEQUENCE ${sequence.ident} OWNED BY ${owner.ident}.${sequence.ownerColumn};`)
    }
  }
  const security: string[] = []
  const tableSettings: string[] = []
  const replicaWord: Record<string, string> = { n: 'NOTHING', f: 'FULL' }
  for (const relation of included.values()) {
    if (!emitted.has(`rel:${relation.oid}`)) continue
    if (relation.rowSecurity) security.push(`ALTER TABLE ${relation.ident} ENABLE ROW LEVEL SECURITY;`)
    if (relation.forceRowSecurity) security.push(`ALTER TABLE ${relation.ident} FORCE ROW LEVEL SECURITY;`)
    // Logical replication (Supabase Realtime) reads old rows through the replica identity.
    const word =
      relation.relkind === 'r' || relation.relkind === 'p' ? replicaWord[relation.replicaIdentity] : undefined
    if (word) tableSettings.push(`ALTER TABLE ONLY ${relation.ident} REPLICA IDENTITY ${word};`)
  }
  for (const index of catalog.indexes) {
    const relation = included.get(index.relid)
    const key = index.constraintOid !== null ? `con:${index.constraintOid}` : `idx:${index.oid}`
    if (!relation || !emitted.has(key)) continue
    const name = index.name
    if (index.replicaIdentity && relation.replicaIdentity === 'i') {
      tableSettings.push(`ALTER TABLE ONLY ${relation.ident} REPLICA IDENTITY USING INDEX ${name};`)
    }
    if (index.clustered) tableSettings.push(`ALTER TABLE ${relation.ident} CLUSTER ON ${name};`)
  }
  const comments = renderComments(catalog, included, emitted, sequences)

  const sections: CatalogPlan['sections'] = []
  for (const node of ordered) {
    if (node.statements.length === 0) continue
    const title = PHASE_TITLE[node.phase] ?? 'Objects'
    const last = sections.at(-1)
    if (last && last.title === title) last.statements.push(...node.statements)
    else sections.push({ title, statements: [...node.statements] })
  }
  const append = (title: string, statements: string[]) => {
    if (statements.length > 0) sections.push({ title, statements })
  }
  append('Sequence ownership', trailing)
  append(
    'Column defaults and NOT NULL that children set themselves',
    [...childFixes].flatMap(([oid, statements]) => (emitted.has(`rel:${oid}`) ? statements : [])),
  )
  append('Replica identity and clustering', tableSettings)
  append('Row level security', security)
  append('Comments', comments)

  const extensions = catalog.extensions.filter((e) => neededExtensions.has(e.oid))
  const extensionSchemas = [
    ...new Set(
      extensions
        .filter((e) => !selectedSchemas.has(e.schema) && e.schema !== 'pg_catalog' && e.schema !== 'public')
        .map((e) => e.schemaIdent),
    ),
  ]
  return {
    sections,
    extensions,
    extensionSchemas,
    roles: [...roles].sort(),
    external: [...external].sort(),
    warnings: [...new Set(warnings)],
  }
}

function commentSafe(text: string): string {
  return text.replace(/[\r\n]+/g, ' ')
}

function renderRelation(
  relation: CatalogRelation,
  context: {
    columns: CatalogColumn[]
    relationsByOid: Map<number, CatalogRelation>
    asChild: boolean
    identityOf: Map<string, CatalogSequence>
  },
): string[] {
  const { columns, relationsByOid, asChild, identityOf } = context
  if (relation.relkind === 'v' || relation.relkind === 'm') {
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
  const unlogged = relation.persistence === 'u' ? 'UNLOGGED ' : ''
  const parents = relation.parents.map((p) => relationsByOid.get(p)?.ident ?? '')
  const tail: string[] = []
  let head: string
  if (asChild && relation.isPartition) {
    head = `CREATE ${unlogged}TABLE ${relation.ident} PARTITION OF ${parents[0]}\n    ${relation.partitionBound}`
  } else {
    // Standalone (or an inheritance child): local columns only when the parents supply the rest.
    const own = columns.filter((c) => !asChild || c.isLocal)
    const lines = own.map((c) => `    ${renderColumn(c, identityOf.get(`${relation.oid}:${c.attnum}`))}`)
    head = `CREATE ${unlogged}TABLE ${relation.ident} (\n${lines.join(',\n')}\n)`
    if (asChild) tail.push(`INHERITS (${parents.join(', ')})`)
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

function renderComments(
  catalog: SchemaCatalog,
  included: Map<number, CatalogRelation>,
  emitted: Set<string>,
  sequences: CatalogSequence[],
): string[] {
  const out: string[] = []
  const on = (target: string, comment: string | null) => {
    if (comment !== null) out.push(`COMMENT ON ${target} IS ${comment};`)
  }
  for (const schema of catalog.schemas)
    if (schema.name !== 'public') on(`SCHEMA ${schema.ident}`, schema.comment)
  for (const type of catalog.types) {
    if (emitted.has(`type:${type.oid}`))
      on(`${type.typtype === 'd' ? 'DOMAIN' : 'TYPE'} ${type.ident}`, type.comment)
  }
  for (const fn of catalog.functions) {
    if (emitted.has(`fn:${fn.oid}`))
      on(`${fn.prokind === 'p' ? 'PROCEDURE' : 'FUNCTION'} ${fn.signature}`, fn.comment)
  }
  for (const sequence of sequences)
    if (emitted.has(`seq:${sequence.oid}`)) on(`SEQUENCE ${sequence.ident}`, sequence.comment)
  const kindWord: Record<string, string> = { r: 'TABLE', p: 'TABLE', v: 'VIEW', m: 'MATERIALIZED VIEW' }
  for (const relation of included.values()) {
    if (!emitted.has(`rel:${relation.oid}`)) continue
    on(`${kindWord[relation.relkind] ?? 'TABLE'} ${relation.ident}`, relation.comment)
  }
  for (const column of catalog.columns) {
    const relation = included.get(column.relid)
    if (relation && emitted.has(`rel:${relation.oid}`))
      on(`COLUMN ${relation.ident}.${column.ident}`, column.comment)
  }
  for (const constraint of catalog.constraints) {
    const relation = included.get(constraint.relid)
    if (relation && emitted.has(`con:${constraint.oid}`)) {
      on(`CONSTRAINT ${constraint.ident} ON ${relation.ident}`, constraint.comment)
    }
  }
  for (const index of catalog.indexes)
    if (emitted.has(`idx:${index.oid}`)) on(`INDEX ${index.ident}`, index.comment)
  for (const trigger of catalog.triggers) {
    const relation = included.get(trigger.relid)
    if (relation && emitted.has(`trg:${trigger.oid}`))
      on(`TRIGGER ${trigger.ident} ON ${relation.ident}`, trigger.comment)
  }
  for (const policy of catalog.policies) {
    const relation = included.get(policy.relid)
    if (relation && emitted.has(`pol:${policy.oid}`))
      on(`POLICY ${policy.ident} ON ${relation.ident}`, policy.comment)
  }
  return out
}
