// The catalog planner's graph: a node per object to create, pg_depend edges between
// them, and the topological order (Kahn's algorithm on a priority queue) the DDL runs in.
import type { OmittedObject } from '../../../archive/access.ts'
import type {
  CatalogColumn,
  CatalogConstraint,
  CatalogDomainConstraint,
  CatalogRelation,
  CatalogSequence,
  ObjectClass,
  SchemaCatalog,
} from './catalog-types.ts'

// Phases group the output the way pg_dump does when dependencies allow it; a
// dependency always wins over a phase (a function returning SETOF a table comes
// after that table).
export const PHASE = {
  collation: 0,
  textSearch: 1,
  type: 2,
  function: 3,
  sequence: 4,
  table: 5,
  view: 6,
  constraint: 7,
  index: 8,
  attach: 9,
  foreignKey: 10,
  trigger: 11,
  rule: 12,
  policy: 13,
} as const

export const PHASE_TITLE: Record<number, string> = {
  [PHASE.collation]: 'Collations',
  [PHASE.textSearch]: 'Text search dictionaries and configurations',
  [PHASE.type]: 'Types',
  [PHASE.function]: 'Functions, procedures and aggregates',
  [PHASE.sequence]: 'Sequences',
  [PHASE.table]: 'Tables',
  [PHASE.view]: 'Views',
  [PHASE.constraint]: 'Primary keys, unique, exclusion and check constraints',
  [PHASE.index]: 'Indexes and extended statistics',
  [PHASE.attach]: 'Partition indexes attached to their parents',
  [PHASE.foreignKey]: 'Foreign keys (last, so that cycles and self-references load)',
  [PHASE.trigger]: 'Triggers',
  [PHASE.rule]: 'Rules',
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
  /** What the omitted list calls it when it cannot be created (`view`, `public.v`). */
  kind?: string
  name?: string
}

/** Everything the planning steps share while they build the graph. */
export interface PlanContext {
  catalog: SchemaCatalog
  selectedSchemas: Set<string>
  /** Qualified `schema.table` names when -t limits the run. */
  tableFilter: Set<string> | undefined
  /** -T patterns: tables left out of a run that keeps the rest. */
  excludeTables: readonly string[]
  nodes: Map<string, PlanNode>
  warnings: string[]
  omitted: OmittedObject[]
  /** Catalog object (by class and oid) -> the node that creates it. */
  maps: Record<ObjectClass, Map<number, string> | undefined>
  included: Map<number, CatalogRelation>
  relationsByOid: Map<number, CatalogRelation>
  columnsOf: Map<number, CatalogColumn[]>
  identityOf: Map<string, CatalogSequence>
  sequences: CatalogSequence[]
  domainConstraintsOf: Map<number, CatalogDomainConstraint[]>
  emittedConstraints: CatalogConstraint[]
  attachKeys: string[]
  /** Per node: extensions and outside objects its DDL refers to. */
  extensionsOf: Map<string, Set<number>>
  externalOf: Map<string, Set<string>>
}

export function createContext(
  catalog: SchemaCatalog,
  tables: readonly string[] | undefined,
  excludeTables: readonly string[] = [],
): PlanContext {
  const map = () => new Map<number, string>()
  return {
    catalog,
    selectedSchemas: new Set(catalog.schemas.map((s) => s.name)),
    tableFilter: tables && tables.length > 0 ? new Set(tables) : undefined,
    excludeTables,
    nodes: new Map(),
    warnings: [],
    omitted: [],
    maps: {
      class: map(),
      type: map(),
      proc: map(),
      constraint: map(),
      attrdef: map(),
      rewrite: map(),
      trigger: map(),
      policy: map(),
      collation: map(),
      tsconfig: map(),
      tsdict: map(),
      other: undefined,
    },
    included: new Map(),
    relationsByOid: new Map(catalog.relations.map((r) => [r.oid, r])),
    columnsOf: new Map(),
    identityOf: new Map(),
    sequences: [],
    domainConstraintsOf: new Map(),
    emittedConstraints: [],
    attachKeys: [],
    extensionsOf: new Map(),
    externalOf: new Map(),
  }
}

export function addNode(
  context: PlanContext,
  node: Omit<PlanNode, 'deps' | 'missing' | 'label'> & { kind: string; name: string },
): PlanNode {
  const full: PlanNode = { ...node, label: `${node.kind} ${node.name}`, deps: new Set(), missing: [] }
  context.nodes.set(full.key, full)
  return full
}

export function omit(context: PlanContext, kind: string, name: string, reason: string): void {
  context.omitted.push({ kind, name: commentSafe(name), reason })
}

/** A child is created as PARTITION OF / INHERITS only when all its parents are there. */
export function asChild(context: PlanContext, relation: CatalogRelation): boolean {
  return relation.parents.length > 0 && relation.parents.every((p) => context.included.has(p))
}

export function commentSafe(text: string): string {
  return text.replace(/[\r\n]+/g, ' ')
}

/** A text-free comment line: identifiers may contain newlines. */
export function commentLine(text: string): string {
  return `-- ${commentSafe(text)}`
}

class Heap {
  readonly #items: PlanNode[] = []

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

const SKIPPED = Symbol('skipped')

/**
 * Kahn's algorithm with a priority queue on (phase, oid). Nodes that depend on
 * something missing or skipped are skipped too, each with a warning (and `onSkip`);
 * a cycle is broken at its earliest node, with a warning, rather than dropping objects.
 */
export function orderNodes(
  nodes: Map<string, PlanNode>,
  warnings: string[],
  onSkip: (node: PlanNode, why: string) => void = () => {},
): PlanNode[] {
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
      onSkip(node, why)
      state.set(node.key, SKIPPED)
    } else {
      state.set(node.key, node)
      out.push(node)
    }
    release(node)
  }
  return out
}
