// The planner's edges: pg_depend between planned objects, parents before children,
// and what each object needs from outside the run (extensions, objects of other schemas).
import type { CatalogDependency } from './catalog-types.ts'
import { asChild, type PlanContext, type PlanNode } from './plan-nodes.ts'

function note<T>(map: Map<string, Set<T>>, key: string, value: T): void {
  const set = map.get(key) ?? new Set<T>()
  set.add(value)
  map.set(key, set)
}

/** Ties that are not ordering constraints: OWNED BY (emitted last), a child's parents (below). */
function ignored(context: PlanContext, dep: CatalogDependency): boolean {
  const sequenceOwnership =
    dep.objClass === 'class' &&
    dep.refClass === 'class' &&
    dep.deptype === 'a' &&
    context.nodes.has(`seq:${dep.objid}`)
  const childOfParent =
    dep.objClass === 'class' &&
    dep.refClass === 'class' &&
    (context.included.get(dep.objid)?.parents.includes(dep.refObjid) ?? false)
  return sequenceOwnership || childOfParent
}

function linkDependency(context: PlanContext, node: PlanNode, dep: CatalogDependency): void {
  if (dep.refExtension !== null) {
    note(context.extensionsOf, node.key, dep.refExtension)
    return
  }
  if (ignored(context, dep)) return
  const to = context.maps[dep.refClass]?.get(dep.refObjid)
  if (to) {
    if (to !== node.key) node.deps.add(to)
  } else if (dep.deptype === 'P' || dep.deptype === 'S') {
    // A partition's tie to its parent's object: recreated by attaching, or not at all.
  } else if (dep.refSelected) {
    node.missing.push(`it depends on ${dep.refDescription ?? 'an object'}, which is not part of this run`)
  } else if (dep.refDescription) {
    note(context.externalOf, node.key, dep.refDescription)
  }
}

export function linkDependencies(context: PlanContext): void {
  for (const dep of context.catalog.dependencies) {
    const from = context.maps[dep.objClass]?.get(dep.objid)
    const node = from ? context.nodes.get(from) : undefined
    if (node) linkDependency(context, node, dep)
  }
  // Children come after their parents; a parent's keys, checks and indexes after its
  // children, so that adding them recurses (checks) or attaches (keys) as in the source.
  const childrenOf = new Map<number, string[]>()
  for (const relation of context.included.values()) {
    if (!asChild(context, relation)) continue
    const node = context.nodes.get(`rel:${relation.oid}`)!
    for (const parent of relation.parents) {
      node.deps.add(`rel:${parent}`)
      childrenOf.set(parent, [...(childrenOf.get(parent) ?? []), node.key])
    }
  }
  const onParent = [
    ...context.emittedConstraints
      .filter((c) => c.contype !== 'f')
      .map((c) => ({ key: `con:${c.oid}`, relid: c.relid })),
    ...context.catalog.indexes.map((i) => ({ key: `idx:${i.oid}`, relid: i.relid })),
  ]
  for (const { key, relid } of onParent) {
    const node = context.nodes.get(key)
    for (const child of childrenOf.get(relid) ?? []) node?.deps.add(child)
  }
  for (const constraint of context.emittedConstraints) {
    if (constraint.contype !== 'f') continue
    const node = context.nodes.get(`con:${constraint.oid}`)!
    // A foreign key needs the referenced key valid: every partition index attached.
    for (const key of context.attachKeys) node.deps.add(key)
  }
}

/**
 * With -t: keep the named tables, what hangs on them (keys, indexes, triggers,
 * policies, rules) and, transitively, the collations, text search objects, types,
 * functions and sequences those need; drop the selected schemas' others.
 */
export function pruneToSelection(context: PlanContext): void {
  if (!context.tableFilter) return
  const optional = (key: string) => /^(coll|tsdict|tscfg|type|fn|seq|xtrg):/.test(key)
  const ownedByIncluded = new Set(
    context.sequences
      .filter((s) => s.ownerDeptype === 'a' && s.ownerRelid !== null && context.included.has(s.ownerRelid))
      .map((s) => `seq:${s.oid}`),
  )
  const stack = [...context.nodes.keys()].filter((k) => !optional(k) || ownedByIncluded.has(k))
  const keep = new Set<string>()
  while (stack.length > 0) {
    const key = stack.pop()!
    if (keep.has(key)) continue
    keep.add(key)
    for (const dep of context.nodes.get(key)?.deps ?? []) if (!keep.has(dep)) stack.push(dep)
  }
  for (const key of [...context.nodes.keys()]) if (!keep.has(key)) context.nodes.delete(key)
}
