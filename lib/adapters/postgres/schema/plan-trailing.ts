// Statements that come after every object exists: sequence ownership, replica
// identity and clustering, row level security switches, comments.
import type { CatalogFunction } from './catalog-types.ts'
import type { PlanContext } from './plan-nodes.ts'

export function sequenceOwnership(context: PlanContext, emitted: Set<string>): string[] {
  const out: string[] = []
  for (const sequence of context.sequences) {
    if (sequence.ownerDeptype !== 'a' || sequence.ownerRelid === null || !emitted.has(`seq:${sequence.oid}`))
      continue
    const owner = context.included.get(sequence.ownerRelid)
    if (owner && emitted.has(`rel:${owner.oid}`) && sequence.ownerColumn) {
      out.push(`ALTER SEQUENCE ${sequence.ident} OWNED BY ${owner.ident}.${sequence.ownerColumn};`)
    }
  }
  return out
}

const REPLICA_WORD: Record<string, string> = { n: 'NOTHING', f: 'FULL' }

export function tableSettings(
  context: PlanContext,
  emitted: Set<string>,
): { security: string[]; settings: string[] } {
  const security: string[] = []
  const settings: string[] = []
  for (const relation of context.included.values()) {
    if (!emitted.has(`rel:${relation.oid}`)) continue
    if (relation.rowSecurity) security.push(`ALTER TABLE ${relation.ident} ENABLE ROW LEVEL SECURITY;`)
    if (relation.forceRowSecurity) security.push(`ALTER TABLE ${relation.ident} FORCE ROW LEVEL SECURITY;`)
    // Logical replication (Supabase Realtime) reads old rows through the replica identity.
    const word =
      relation.relkind === 'r' || relation.relkind === 'p'
        ? REPLICA_WORD[relation.replicaIdentity]
        : undefined
    if (word) settings.push(`ALTER TABLE ONLY ${relation.ident} REPLICA IDENTITY ${word};`)
  }
  for (const index of context.catalog.indexes) {
    const relation = context.included.get(index.relid)
    const key = index.constraintOid !== null ? `con:${index.constraintOid}` : `idx:${index.oid}`
    if (!relation || !emitted.has(key)) continue
    if (index.replicaIdentity && relation.replicaIdentity === 'i') {
      settings.push(`ALTER TABLE ONLY ${relation.ident} REPLICA IDENTITY USING INDEX ${index.name};`)
    }
    if (index.clustered) settings.push(`ALTER TABLE ${relation.ident} CLUSTER ON ${index.name};`)
  }
  return { security, settings }
}

/** How COMMENT ON names a routine: aggregates take `(*)` when they have no arguments. */
function routineTarget(fn: CatalogFunction): string {
  if (fn.prokind === 'a') {
    const name = fn.signature.slice(0, fn.signature.length - fn.arguments.length - 2)
    return `AGGREGATE ${name}(${fn.arguments === '' ? '*' : fn.arguments})`
  }
  return `${fn.prokind === 'p' ? 'PROCEDURE' : 'FUNCTION'} ${fn.signature}`
}

const KIND_WORD: Record<string, string> = { r: 'TABLE', p: 'TABLE', v: 'VIEW', m: 'MATERIALIZED VIEW' }

function objectComments(
  context: PlanContext,
  emitted: Set<string>,
  on: (target: string, comment: string | null) => void,
): void {
  const { catalog, included } = context
  for (const schema of catalog.schemas)
    if (schema.name !== 'public') on(`SCHEMA ${schema.ident}`, schema.comment)
  for (const collation of catalog.collations)
    if (emitted.has(`coll:${collation.oid}`)) on(`COLLATION ${collation.ident}`, collation.comment)
  for (const d of catalog.tsDictionaries)
    if (emitted.has(`tsdict:${d.oid}`)) on(`TEXT SEARCH DICTIONARY ${d.ident}`, d.comment)
  for (const c of catalog.tsConfigurations)
    if (emitted.has(`tscfg:${c.oid}`)) on(`TEXT SEARCH CONFIGURATION ${c.ident}`, c.comment)
  for (const type of catalog.types) {
    if (emitted.has(`type:${type.oid}`))
      on(`${type.typtype === 'd' ? 'DOMAIN' : 'TYPE'} ${type.ident}`, type.comment)
  }
  for (const fn of catalog.functions) if (emitted.has(`fn:${fn.oid}`)) on(routineTarget(fn), fn.comment)
  for (const sequence of context.sequences)
    if (emitted.has(`seq:${sequence.oid}`)) on(`SEQUENCE ${sequence.ident}`, sequence.comment)
  for (const relation of included.values()) {
    if (emitted.has(`rel:${relation.oid}`))
      on(`${KIND_WORD[relation.relkind] ?? 'TABLE'} ${relation.ident}`, relation.comment)
  }
  for (const column of catalog.columns) {
    const relation = included.get(column.relid)
    if (relation && emitted.has(`rel:${relation.oid}`))
      on(`COLUMN ${relation.ident}.${column.ident}`, column.comment)
  }
}

function attachedComments(
  context: PlanContext,
  emitted: Set<string>,
  on: (target: string, comment: string | null) => void,
): void {
  const { catalog, included } = context
  for (const constraint of catalog.constraints) {
    const relation = included.get(constraint.relid)
    if (relation && emitted.has(`con:${constraint.oid}`))
      on(`CONSTRAINT ${constraint.ident} ON ${relation.ident}`, constraint.comment)
  }
  for (const index of catalog.indexes)
    if (emitted.has(`idx:${index.oid}`)) on(`INDEX ${index.ident}`, index.comment)
  for (const s of catalog.statistics) if (emitted.has(`stx:${s.oid}`)) on(`STATISTICS ${s.ident}`, s.comment)
  for (const trigger of catalog.triggers) {
    const relation = included.get(trigger.relid)
    if (relation && emitted.has(`trg:${trigger.oid}`))
      on(`TRIGGER ${trigger.ident} ON ${relation.ident}`, trigger.comment)
  }
  for (const trigger of catalog.outsideTriggers) {
    if (emitted.has(`xtrg:${trigger.oid}`))
      on(`TRIGGER ${trigger.ident} ON ${trigger.tableIdent}`, trigger.comment)
  }
  for (const rule of catalog.rules) {
    const relation = included.get(rule.relid)
    if (relation && emitted.has(`rule:${rule.oid}`))
      on(`RULE ${rule.ident} ON ${relation.ident}`, rule.comment)
  }
  for (const policy of catalog.policies) {
    const relation = included.get(policy.relid)
    if (relation && emitted.has(`pol:${policy.oid}`))
      on(`POLICY ${policy.ident} ON ${relation.ident}`, policy.comment)
  }
}

export function renderComments(context: PlanContext, emitted: Set<string>): string[] {
  const out: string[] = []
  const on = (target: string, comment: string | null) => {
    if (comment !== null) out.push(`COMMENT ON ${target} IS ${comment};`)
  }
  objectComments(context, emitted, on)
  attachedComments(context, emitted, on)
  return out
}
