// Planning what is built after the data: constraints, indexes, partition index
// attachments and extended statistics.
import { addNode, asChild, PHASE, type PlanContext } from './plan-nodes.ts'

export function planConstraints(context: PlanContext): void {
  for (const constraint of context.catalog.constraints) {
    const relation = context.included.get(constraint.relid)
    if (!relation) continue
    // Clones that re-adding the parent's constraint recreates (partitions, inheritance).
    if (
      constraint.contype === 'f' &&
      constraint.parentRelid !== null &&
      context.included.has(constraint.parentRelid)
    )
      continue
    if (constraint.contype === 'c' && !constraint.isLocal && asChild(context, relation)) continue
    const key = `con:${constraint.oid}`
    const isKey = ['p', 'u', 'x'].includes(constraint.contype)
    const only = isKey ? 'ONLY ' : ''
    addNode(context, {
      key,
      phase: constraint.contype === 'f' ? PHASE.foreignKey : PHASE.constraint,
      order: constraint.oid,
      kind: 'constraint',
      name: `${constraint.ident} on ${relation.ident}`,
      statements: [
        `ALTER TABLE ${only}${relation.ident}\n    ADD CONSTRAINT ${constraint.ident} ${constraint.def};`,
      ],
    })
    context.maps.constraint!.set(constraint.oid, key)
    context.emittedConstraints.push(constraint)
    if (constraint.indexOid !== null && isKey) context.maps.class!.set(constraint.indexOid, key)
  }
}

export function planIndexes(context: PlanContext): void {
  const classMap = context.maps.class!
  for (const index of context.catalog.indexes) {
    const relation = context.included.get(index.relid)
    if (!relation || index.constraintOid !== null) continue
    const key = `idx:${index.oid}`
    addNode(context, {
      key,
      phase: PHASE.index,
      order: index.oid,
      kind: 'index',
      name: index.ident,
      statements: [`${index.def};`],
    })
    classMap.set(index.oid, key)
  }
  // Partition indexes: created on each side, then attached, as pg_dump does, so every name survives.
  const indexesByOid = new Map(context.catalog.indexes.map((i) => [i.oid, i]))
  for (const index of context.catalog.indexes) {
    if (index.parentIndex === null) continue
    const childKey = classMap.get(index.oid)
    const parentKey = classMap.get(index.parentIndex)
    const parent = indexesByOid.get(index.parentIndex)
    if (!childKey || !parentKey || !parent) continue
    const key = `attach:${index.oid}`
    const node = addNode(context, {
      key,
      phase: PHASE.attach,
      order: index.oid,
      kind: 'index attachment',
      name: index.ident,
      statements: [`ALTER INDEX ${parent.ident} ATTACH PARTITION ${index.ident};`],
    })
    node.deps.add(childKey).add(parentKey)
    context.attachKeys.push(key)
  }
  for (const statistics of context.catalog.statistics) {
    if (!context.included.has(statistics.relid)) continue
    const node = addNode(context, {
      key: `stx:${statistics.oid}`,
      phase: PHASE.index,
      order: statistics.oid,
      kind: 'statistics object',
      name: statistics.ident,
      statements: [`${statistics.def};`],
    })
    node.deps.add(`rel:${statistics.relid}`)
  }
}
