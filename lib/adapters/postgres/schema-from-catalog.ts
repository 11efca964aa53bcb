// Plans schema.sql from catalog data (pure: no I/O): every object becomes a node,
// pg_depend gives the edges, and a topological sort orders the DDL for an empty database.
// One module per object class under schema/; this one composes them.
import type { OmittedObject } from '../../archive/access.ts'
import type { CatalogExtension, CatalogRelation, SchemaCatalog } from './schema/catalog-types.ts'
import { collationOwners, planCollations } from './schema/plan-collations.ts'
import { planConstraints, planIndexes } from './schema/plan-keys.ts'
import { linkDependencies, pruneToSelection } from './schema/plan-links.ts'
import {
  createContext,
  omit,
  orderNodes,
  PHASE_TITLE,
  type PlanContext,
  type PlanNode,
} from './schema/plan-nodes.ts'
import { planRelations, planSequences, renderRelations, selectRelations } from './schema/plan-relations.ts'
import { planRoutines, planTypes, renderTypes } from './schema/plan-routines.ts'
import { planTextSearch, textSearchOwners } from './schema/plan-text-search.ts'
import { renderComments, sequenceOwnership, tableSettings } from './schema/plan-trailing.ts'
import { planOutsideTriggers, planPolicies, planRules, planTriggers } from './schema/plan-triggers.ts'

export { commentLine, orderNodes, type PlanNode } from './schema/plan-nodes.ts'

export interface CatalogPlanOptions {
  /** Qualified `schema.table` names when -t limits the run (relations of any kind). */
  tables?: readonly string[]
  /** -T patterns (pg_dump's): those tables are left out, everything else of the schemas stays. */
  excludeTables?: readonly string[]
}

export interface CatalogPlan {
  /** The DDL statements, without header or session settings. */
  sections: { title: string; statements: string[] }[]
  extensions: CatalogExtension[]
  /** Schemas that extensions live in and that must exist first (not selected, not built in). */
  extensionSchemas: string[]
  /** Roles the emitted policies name. */
  roles: string[]
  /** Objects outside the selected schemas (not extension members) that the DDL refers to. */
  external: string[]
  warnings: string[]
  /** What the catalog path could not reproduce, and why. */
  omitted: OmittedObject[]
  /** Those of them skipped because they depend on something left out (also in `warnings`). */
  skipped: OmittedObject[]
  /** Keys of the nodes emitted: `rel:<oid>`, `fn:<oid>`, `type:<oid>`, `seq:<oid>`, `xtrg:<oid>`, … */
  emitted: Set<string>
  /** Materialized views in creation order (what they depend on first). */
  materializedViews: CatalogRelation[]
  /** Owners of created objects the access data does not list (collations, text search: no privileges). */
  owners: { target: string; owner: string }[]
}

function groupSections(ordered: readonly PlanNode[]): CatalogPlan['sections'] {
  const sections: CatalogPlan['sections'] = []
  for (const node of ordered) {
    if (node.statements.length === 0) continue
    const title = PHASE_TITLE[node.phase] ?? 'Objects'
    const last = sections.at(-1)
    if (last && last.title === title) last.statements.push(...node.statements)
    else sections.push({ title, statements: [...node.statements] })
  }
  return sections
}

/** Extensions installed in the selected schemas, or used by an emitted object. */
function neededExtensions(context: PlanContext, emitted: Set<string>): CatalogExtension[] {
  const needed = new Set<number>()
  for (const extension of context.catalog.extensions) {
    if (context.selectedSchemas.has(extension.schema)) needed.add(extension.oid)
  }
  for (const [key, oids] of context.extensionsOf)
    if (emitted.has(key)) for (const oid of oids) needed.add(oid)
  return context.catalog.extensions.filter((e) => needed.has(e.oid))
}

function buildGraph(context: PlanContext): void {
  selectRelations(context)
  planCollations(context)
  planTextSearch(context)
  planSequences(context)
  planTypes(context)
  planRoutines(context)
  planRelations(context)
  planRules(context)
  planConstraints(context)
  planIndexes(context)
  planTriggers(context)
  planOutsideTriggers(context)
  planPolicies(context)
  linkDependencies(context)
  pruneToSelection(context)
  for (const { kind, names } of context.catalog.unsupported) {
    for (const name of names) omit(context, kind, name, 'the catalog path does not recreate it')
  }
}

/** Builds the plan: which objects, in which order, as which statements. */
export function planFromCatalog(catalog: SchemaCatalog, options: CatalogPlanOptions = {}): CatalogPlan {
  const context = createContext(catalog, options.tables, options.excludeTables)
  buildGraph(context)
  renderTypes(context)
  const childFixes = renderRelations(context)
  const skipped: OmittedObject[] = []
  const ordered = orderNodes(context.nodes, context.warnings, (node, why) => {
    omit(context, node.kind ?? 'object', node.name ?? node.label, why)
    skipped.push(context.omitted.at(-1)!)
  })
  const emitted = new Set(ordered.map((n) => n.key))

  const sections = groupSections(ordered)
  const append = (title: string, statements: string[]) => {
    if (statements.length > 0) sections.push({ title, statements })
  }
  const { security, settings } = tableSettings(context, emitted)
  append('Sequence ownership', sequenceOwnership(context, emitted))
  append(
    'Column defaults and NOT NULL that children set themselves',
    [...childFixes].flatMap(([oid, statements]) => (emitted.has(`rel:${oid}`) ? statements : [])),
  )
  append('Replica identity and clustering', settings)
  append('Row level security', security)
  append('Comments', renderComments(context, emitted))

  const extensions = neededExtensions(context, emitted)
  const extensionSchemas = [
    ...new Set(
      extensions
        .filter(
          (e) => !context.selectedSchemas.has(e.schema) && e.schema !== 'pg_catalog' && e.schema !== 'public',
        )
        .map((e) => e.schemaIdent),
    ),
  ]
  const external = new Set<string>()
  for (const [key, names] of context.externalOf) if (emitted.has(key)) for (const n of names) external.add(n)
  const roles = new Set<string>()
  for (const policy of catalog.policies)
    if (emitted.has(`pol:${policy.oid}`)) for (const r of policy.roleNames) roles.add(r)
  return {
    sections,
    extensions,
    extensionSchemas,
    roles: [...roles].sort(),
    external: [...external].sort(),
    warnings: [...new Set(context.warnings)],
    omitted: context.omitted,
    skipped,
    emitted,
    materializedViews: ordered
      .filter((n) => n.key.startsWith('rel:'))
      .map((n) => context.relationsByOid.get(Number(n.key.slice(4)))!)
      .filter((r) => r.relkind === 'm'),
    owners: [...collationOwners(context, emitted), ...textSearchOwners(context, emitted)],
  }
}
