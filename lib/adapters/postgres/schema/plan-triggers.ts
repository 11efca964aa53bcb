// Planning what acts on rows: triggers (also those the selected functions put on
// tables outside the run, such as auth.users), rules and row level security policies.
import { addNode, PHASE, type PlanContext } from './plan-nodes.ts'

const TRIGGER_STATE: Record<string, string> = { D: 'DISABLE', R: 'ENABLE REPLICA', A: 'ENABLE ALWAYS' }

export function planTriggers(context: PlanContext): void {
  for (const trigger of context.catalog.triggers) {
    const relation = context.included.get(trigger.relid)
    if (!relation) continue
    if (trigger.parentRelid !== null && context.included.has(trigger.parentRelid)) continue
    const statements = [`${trigger.def};`]
    const state = TRIGGER_STATE[trigger.enabled]
    if (state) statements.push(`ALTER TABLE ${relation.ident} ${state} TRIGGER ${trigger.ident};`)
    const key = `trg:${trigger.oid}`
    addNode(context, {
      key,
      phase: PHASE.trigger,
      order: trigger.oid,
      kind: 'trigger',
      name: `${trigger.ident} on ${relation.ident}`,
      statements,
    })
    context.maps.trigger!.set(trigger.oid, key)
  }
}

/**
 * Triggers on tables the run does not create (auth.users feeding public.profiles):
 * CREATE OR REPLACE, since the target's table may already carry it. With -t they
 * are left out, as everything beyond the named tables is.
 */
export function planOutsideTriggers(context: PlanContext): void {
  if (context.tableFilter) return
  for (const trigger of context.catalog.outsideTriggers) {
    const statements = [`${trigger.def.replace(/^CREATE TRIGGER /, 'CREATE OR REPLACE TRIGGER ')};`]
    const state = TRIGGER_STATE[trigger.enabled]
    if (state) statements.push(`ALTER TABLE ${trigger.tableIdent} ${state} TRIGGER ${trigger.ident};`)
    const node = addNode(context, {
      key: `xtrg:${trigger.oid}`,
      phase: PHASE.trigger,
      order: trigger.oid,
      kind: 'trigger',
      name: `${trigger.ident} on ${trigger.tableIdent}`,
      statements,
    })
    node.deps.add(`fn:${trigger.functionOid}`)
    if (!context.nodes.has(`fn:${trigger.functionOid}`))
      node.missing.push(`its function ${trigger.functionSignature} is not part of this run`)
    const external = context.externalOf.get(node.key) ?? new Set<string>()
    external.add(`table ${trigger.tableIdent}`)
    context.externalOf.set(node.key, external)
  }
}

export function planRules(context: PlanContext): void {
  for (const rule of context.catalog.rules) {
    const relation = context.included.get(rule.relid)
    if (!relation) continue
    if (rule.isViewRule) {
      context.maps.rewrite!.set(rule.oid, `rel:${rule.relid}`)
      continue
    }
    const statements = [rule.def.trim().endsWith(';') ? rule.def.trim() : `${rule.def.trim()};`]
    const state = TRIGGER_STATE[rule.enabled]
    if (state) statements.push(`ALTER TABLE ${relation.ident} ${state} RULE ${rule.ident};`)
    const key = `rule:${rule.oid}`
    addNode(context, {
      key,
      phase: PHASE.rule,
      order: rule.oid,
      kind: 'rule',
      name: `${rule.ident} on ${relation.ident}`,
      statements,
    })
    context.maps.rewrite!.set(rule.oid, key)
  }
}

const COMMAND: Record<string, string> = { r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE', '*': 'ALL' }

export function planPolicies(context: PlanContext): void {
  for (const policy of context.catalog.policies) {
    const relation = context.included.get(policy.relid)
    if (!relation) continue
    const command = COMMAND[policy.command] ?? 'ALL'
    let text = `CREATE POLICY ${policy.ident} ON ${relation.ident}\n    AS ${policy.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'}\n    FOR ${command}\n    TO ${policy.roles.join(', ')}`
    if (policy.using !== null) text += `\n    USING (${policy.using})`
    if (policy.withCheck !== null) text += `\n    WITH CHECK (${policy.withCheck})`
    const key = `pol:${policy.oid}`
    addNode(context, {
      key,
      phase: PHASE.policy,
      order: policy.oid,
      kind: 'policy',
      name: `${policy.ident} on ${relation.ident}`,
      statements: [`${text};`],
    })
    context.maps.policy!.set(policy.oid, key)
  }
}
