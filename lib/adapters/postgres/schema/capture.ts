// What the manifest says about schema.sql beyond its bytes (pure): what could not be
// reproduced, the extensions, the materialized views to refresh, and the triggers on
// tables a Supabase target manages (auth.users) that the backed-up functions need.
import type {
  ExtensionEntry,
  ManagedTableTrigger,
  OmittedObject,
  SchemaCapture,
} from '../../../archive/access.ts'
import { SUPABASE_ROLES } from '../../../core/platform-roles.ts'
import { MANAGED_SCHEMAS } from '../../../core/selection.ts'
import type { CatalogPlan } from '../schema-from-catalog.ts'
import type { SchemaCatalog } from './catalog-types.ts'
import { commentSafe } from './plan-nodes.ts'

/** Schemas whose tables the platform creates: Supabase's managed ones, and auth. */
export function isPlatformSchema(schema: string): boolean {
  return schema === 'auth' || (MANAGED_SCHEMAS as readonly string[]).includes(schema)
}

function orReplace(def: string): string {
  return `${def.replace(/^CREATE TRIGGER /, 'CREATE OR REPLACE TRIGGER ')};`
}

/**
 * Triggers whose function is backed up but whose table the platform owns: on tables
 * outside the selected schemas (created by schema.sql's own statement), and on
 * auth/storage tables that are backed up (a Supabase target keeps its own tables).
 */
export function managedTableTriggers(catalog: SchemaCatalog, plan: CatalogPlan): ManagedTableTrigger[] {
  const out: ManagedTableTrigger[] = []
  for (const t of catalog.outsideTriggers) {
    if (!plan.emitted.has(`xtrg:${t.oid}`)) continue
    const { schema, table, name, def } = t
    out.push({
      schema,
      table,
      name,
      function: t.functionSignature,
      sql: orReplace(def),
      tableBackedUp: false,
    })
  }
  const relations = new Map(catalog.relations.map((r) => [r.oid, r]))
  for (const t of catalog.triggers) {
    const relation = relations.get(t.relid)
    if (!relation || !isPlatformSchema(relation.schema) || isPlatformSchema(t.functionSchema)) continue
    if (!plan.emitted.has(`trg:${t.oid}`)) continue
    out.push({
      schema: relation.schema,
      table: relation.name,
      name: t.name,
      function: t.functionSignature,
      sql: orReplace(t.def),
      tableBackedUp: true,
    })
  }
  return out
}

/** Every extension of the source but plpgsql; `required` when the DDL uses it. */
export function extensionEntries(catalog: SchemaCatalog, plan: CatalogPlan): ExtensionEntry[] {
  const required = new Set(plan.extensions.map((e) => e.oid))
  return catalog.extensions
    .filter((e) => e.name !== 'plpgsql')
    .map((e) => ({ name: e.name, schema: e.schema, version: e.version, required: required.has(e.oid) }))
}

/** What neither path recreates: database-wide objects that touch the selected ones. */
export function commonOmitted(catalog: SchemaCatalog): OmittedObject[] {
  // Supabase's own (pgrst_ddl_watch, owned by supabase_admin) come with every project.
  const platform = (owner: string) =>
    owner !== 'postgres' && (SUPABASE_ROLES as readonly string[]).includes(owner)
  const omitted: OmittedObject[] = catalog.eventTriggers
    .filter((e) => !platform(e.owner))
    .map((e) => ({
      kind: 'event trigger',
      name: e.name,
      reason: 'event triggers are database-wide: recreate them on the target if needed',
    }))
  for (const p of catalog.publications) {
    if (p.allTables)
      omitted.push({
        kind: 'publication',
        name: p.name,
        reason: 'FOR ALL TABLES publications are database-wide: create it on the target if needed',
      })
    else omitted.push(...schemaMemberships(p))
  }
  return omitted
}

/**
 * Whole-schema membership (`ADD TABLES IN SCHEMA`, 15+) is not reproduced: it needs a
 * superuser on the target (Supabase's postgres is not one) and publishes every table
 * the schema will ever hold, beyond the backup. Listed, so no restore or drill is clean
 * over it; its tables' own memberships are reproduced as usual.
 */
function schemaMemberships(p: SchemaCatalog['publications'][number]): OmittedObject[] {
  return p.schemas.map((schema) => ({
    kind: 'publication membership',
    name: commentSafe(`${p.name} (TABLES IN SCHEMA ${schema})`),
    reason: `whole-schema membership needs a superuser on the target: run ALTER PUBLICATION … ADD TABLES IN SCHEMA there as one if Realtime or replication needs it`,
  }))
}

export function materializedViewOrder(catalog: SchemaCatalog, plan: CatalogPlan, everyView: boolean) {
  const listed = plan.materializedViews.map((r) => r.oid)
  // pg_dump creates every view of the selected schemas, also those the catalog path skips.
  const rest = everyView
    ? catalog.relations.filter((r) => r.relkind === 'm' && !listed.includes(r.oid)).map((r) => r.oid)
    : []
  const byOid = new Map(catalog.relations.map((r) => [r.oid, r]))
  return [...listed, ...rest].map((oid) => {
    const r = byOid.get(oid)!
    return { schema: r.schema, name: r.name, populated: r.populated }
  })
}

export function schemaCapture(
  catalog: SchemaCatalog,
  plan: CatalogPlan,
  path: 'pg_dump' | 'catalog',
): SchemaCapture {
  return {
    omitted: [...commonOmitted(catalog), ...(path === 'catalog' ? plan.omitted : [])],
    materializedViews: materializedViewOrder(catalog, plan, path === 'pg_dump'),
    managedTableTriggers: managedTableTriggers(catalog, plan),
    extensions: extensionEntries(catalog, plan),
  }
}
