// The manifest's access data from the catalogs (pure): for every object schema.sql
// creates, its owner and ACLs exactly as the source holds them, with RLS flags,
// policies, default privileges and publication membership.
import type {
  AccessObject,
  AccessObjectKind,
  AccessPolicy,
  DefaultAclEntry,
  DefaultAclObjectType,
  ManifestAccess,
  PolicyCommand,
  PublicationEntry,
} from '../../../archive/access.ts'
import { byText } from '../../../core/order.ts'
import type { CatalogRelation, SchemaCatalog } from './catalog-types.ts'

/** Which objects schema.sql creates: a node key (`rel:<oid>`, `fn:<oid>`…) in, yes or no out. */
export type Created = (key: string) => boolean

const RELATION_KIND: Record<string, AccessObjectKind> = {
  r: 'table',
  p: 'table',
  v: 'view',
  m: 'materialized view',
  f: 'foreign table',
}
const KIND_ORDER: AccessObjectKind[] = [
  'schema',
  'type',
  'domain',
  'function',
  'procedure',
  'aggregate',
  'sequence',
  'table',
  'foreign table',
  'view',
  'materialized view',
]
const ROUTINE_KIND: Record<string, AccessObjectKind> = { p: 'procedure', a: 'aggregate' }
const COMMAND: Record<string, PolicyCommand> = {
  r: 'SELECT',
  a: 'INSERT',
  w: 'UPDATE',
  d: 'DELETE',
  '*': 'ALL',
}
const DEFAULT_TYPE: Record<string, DefaultAclObjectType> = {
  r: 'tables',
  S: 'sequences',
  f: 'functions',
  T: 'types',
  n: 'schemas',
}

function relationObject(catalog: SchemaCatalog, relation: CatalogRelation): AccessObject {
  const columns = catalog.columns
    .filter((c) => c.relid === relation.oid && c.acl !== null && c.acl.length > 0)
    .map((c) => ({ name: c.name, acl: c.acl! }))
  return {
    kind: RELATION_KIND[relation.relkind]!,
    schema: relation.schema,
    name: relation.name,
    ident: relation.ident,
    owner: relation.owner,
    acl: relation.acl,
    ...(columns.length > 0 ? { columns } : {}),
    ...(relation.relkind === 'r' || relation.relkind === 'p'
      ? { rowSecurity: { enabled: relation.rowSecurity, forced: relation.forceRowSecurity } }
      : {}),
  }
}

/** Relations schema.sql creates, by oid. */
export function createdRelations(catalog: SchemaCatalog, created: Created): Map<number, CatalogRelation> {
  return new Map(
    catalog.relations
      .filter((r) => r.relkind in RELATION_KIND && created(`rel:${r.oid}`))
      .map((r) => [r.oid, r]),
  )
}

function accessObjects(catalog: SchemaCatalog, created: Created): AccessObject[] {
  const objects: AccessObject[] = catalog.schemas.map((s) => ({
    kind: 'schema' as const,
    schema: s.name,
    name: s.name,
    ident: s.ident,
    owner: s.owner,
    acl: s.acl,
  }))
  for (const type of catalog.types) {
    if (type.arrayOf !== null || type.typtype === 'm' || !created(`type:${type.oid}`)) continue
    if (type.typtype === 'c' && type.relkind !== 'c') continue
    const { schema, name, ident, owner, acl } = type
    objects.push({ kind: type.typtype === 'd' ? 'domain' : 'type', schema, name, ident, owner, acl })
  }
  for (const fn of catalog.functions) {
    if (!created(`fn:${fn.oid}`)) continue
    const { schema, name, arguments: args, owner, acl } = fn
    const kind = ROUTINE_KIND[fn.prokind] ?? 'function'
    objects.push({ kind, schema, name, arguments: args, ident: fn.regprocedure, owner, acl })
  }
  const relations = createdRelations(catalog, created)
  for (const sequence of catalog.sequences) {
    const viaTable = sequence.ownerDeptype === 'i' && relations.has(sequence.ownerRelid ?? -1)
    if (!viaTable && !created(`seq:${sequence.oid}`)) continue
    const { schema, name, ident, owner, acl } = sequence
    const ownedByColumn = sequence.ownerDeptype === 'a' || sequence.ownerDeptype === 'i'
    objects.push({
      kind: 'sequence',
      schema,
      name,
      ident,
      owner,
      acl,
      ...(ownedByColumn ? { ownedByColumn } : {}),
    })
  }
  for (const relation of relations.values()) objects.push(relationObject(catalog, relation))
  // By kind, then name: the same objects give the same list whatever their oids.
  const rank = (o: AccessObject) => KIND_ORDER.indexOf(o.kind)
  return objects.sort((a, b) => rank(a) - rank(b) || byText(a.schema, b.schema) || byText(a.ident, b.ident))
}

function accessPolicies(catalog: SchemaCatalog, relations: Map<number, CatalogRelation>): AccessPolicy[] {
  const list = catalog.policies
    .filter((p) => relations.has(p.relid))
    .map((p) => {
      const relation = relations.get(p.relid)!
      return {
        schema: relation.schema,
        table: relation.name,
        name: p.name,
        permissive: p.permissive,
        command: COMMAND[p.command] ?? 'ALL',
        roles: p.grantees,
        using: p.using,
        withCheck: p.withCheck,
      }
    })
  return list.sort((a, b) => byText(a.schema, b.schema) || byText(a.table, b.table) || byText(a.name, b.name))
}

function publications(catalog: SchemaCatalog, relations: Map<number, CatalogRelation>): PublicationEntry[] {
  return catalog.publications.map((p) => ({
    name: p.name,
    owner: p.owner,
    allTables: p.allTables,
    publish: { insert: p.insert, update: p.update, delete: p.delete, truncate: p.truncate },
    viaPartitionRoot: p.viaRoot,
    tables: p.tables
      .filter((t) => relations.has(t.relid))
      .map((t) => {
        const relation = relations.get(t.relid)!
        return { schema: relation.schema, table: relation.name, columns: t.columns, rowFilter: t.rowFilter }
      })
      .sort((a, b) => byText(a.schema, b.schema) || byText(a.table, b.table)),
    schemas: p.schemas,
  }))
}

export function captureAccess(catalog: SchemaCatalog, created: Created): ManifestAccess {
  const relations = createdRelations(catalog, created)
  const defaultAcls: DefaultAclEntry[] = catalog.defaultAcls.map((d) => ({
    role: d.role,
    schema: d.schema,
    objectType: DEFAULT_TYPE[d.objtype] ?? 'tables',
    acl: d.acl,
  }))
  return {
    version: 1,
    serverVersionNum: catalog.serverVersionNum,
    objects: accessObjects(catalog, created),
    policies: accessPolicies(catalog, relations),
    defaultAcls,
    publications: publications(catalog, relations).filter(
      (p) => p.allTables || p.tables.length > 0 || p.schemas.length > 0,
    ),
  }
}
