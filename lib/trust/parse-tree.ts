// Small readers over libpg-query's JSON parse trees (the shapes of @pgsql/types): names
// of relations, functions, types and roles, and a walk that collects what a statement
// refers to. The trees are untrusted input too: every reader tolerates a missing field.

export type Tree = Record<string, unknown>

export interface QualifiedName {
  /** Absent when the statement did not qualify the name (pg_dump always does). */
  schema?: string
  name: string
}

export function obj(value: unknown): Tree | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Tree) : undefined
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** `{ String: { sval } }` → sval. */
export function stringNode(value: unknown): string | undefined {
  return str(obj(obj(value)?.String)?.sval)
}

/** A list of String nodes (`schema.name`, `schema.table.column`) → the strings. */
export function stringList(value: unknown): string[] {
  return list(value).flatMap((item) => {
    const s = stringNode(item)
    return s === undefined ? [] : [s]
  })
}

/** The last two parts of a dotted name: schema and name. */
export function qualified(parts: readonly string[]): QualifiedName | undefined {
  if (parts.length === 0) return undefined
  const name = parts[parts.length - 1]!
  return parts.length >= 2 ? { schema: parts[parts.length - 2]!, name } : { name }
}

/** A RangeVar (as a bare object or wrapped `{ RangeVar: … }`). */
export function rangeVar(value: unknown): QualifiedName | undefined {
  const node = obj(obj(value)?.RangeVar) ?? obj(value)
  const name = str(node?.relname)
  if (name === undefined) return undefined
  const schema = str(node?.schemaname)
  return schema === undefined ? { name } : { schema, name }
}

/** An ObjectWithArgs (functions, operators, aggregates) → its qualified name. */
export function objectWithArgs(value: unknown): QualifiedName | undefined {
  const node = obj(obj(value)?.ObjectWithArgs) ?? obj(value)
  return qualified(stringList(node?.objname))
}

/** A TypeName → its qualified name. */
export function typeName(value: unknown): QualifiedName | undefined {
  const node = obj(obj(value)?.TypeName) ?? obj(value)
  return qualified(stringList(node?.names))
}

/** A RoleSpec → the role's name; PUBLIC and CURRENT_USER-like specs by their keyword. */
export function roleName(value: unknown): string | undefined {
  const node = obj(obj(value)?.RoleSpec) ?? obj(value)
  const type = str(node?.roletype)
  if (type === 'ROLESPEC_CSTRING') return str(node?.rolename)
  if (type === 'ROLESPEC_PUBLIC') return 'PUBLIC'
  return type?.replace(/^ROLESPEC_/, '')
}

/** A DefElem list → name → argument node. */
export function defElems(value: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>()
  for (const item of list(value)) {
    const def = obj(obj(item)?.DefElem)
    const name = str(def?.defname)
    if (name !== undefined) out.set(name, def?.arg)
  }
  return out
}

/** A constant in a DefElem or A_Const: its text, or true/false for Booleans. */
export function constant(value: unknown): string | boolean | number | undefined {
  const node = obj(value)
  if (!node) return undefined
  if ('Boolean' in node) return obj(node.Boolean)?.boolval === true
  if ('String' in node) return stringNode(node)
  if ('Integer' in node) return Number(obj(node.Integer)?.ival ?? 0)
  if ('A_Const' in node) return constant(node.A_Const)
  if ('sval' in node) return str(obj(node.sval)?.sval)
  if ('ival' in node) return Number(obj(node.ival)?.ival ?? 0)
  if ('boolval' in node) return obj(node.boolval)?.boolval === true
  if ('fval' in node) return str(obj(node.fval)?.fval)
  if ('TypeName' in node) return typeName(node)?.name
  if ('List' in node) return stringList(obj(node.List)?.items).join('.')
  return undefined
}

/** Schemas whose objects belong to the server, not to any backup. */
export const SYSTEM_SCHEMAS = new Set(['pg_catalog', 'information_schema', 'pg_toast'])

export function isSystemSchema(schema: string | undefined): boolean {
  return schema !== undefined && (SYSTEM_SCHEMAS.has(schema) || /^pg_(temp|toast_temp)/.test(schema))
}

/** Casts whose constant names an object: `'public.seq'::regclass`, `'public.english'::regconfig`. */
const REFERENCE_CASTS = new Set([
  'regclass',
  'regtype',
  'regproc',
  'regprocedure',
  'regconfig',
  'regdictionary',
])

/**
 * Every schema-qualified user object a tree names: relations, types, functions, the
 * dictionaries of a text search mapping, and `'schema.name'::regclass` constants (a
 * default's nextval; `::regconfig` in a generated tsvector column). For a -n/-t subset's
 * dependencies; system schemas are left out.
 */
export function collectReferences(tree: unknown): QualifiedName[] {
  const found = new Map<string, QualifiedName>()
  const add = (name: QualifiedName | undefined) => {
    if (name?.schema === undefined || isSystemSchema(name.schema)) return
    found.set(`${name.schema}.${name.name}`, name)
  }
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item)
      return
    }
    const node = obj(value)
    if (!node) return
    // Nodes appear wrapped (`{ RangeVar: … }`) or bare as a field's value (`relation: { relname }`).
    if (typeof node.relname === 'string') add(rangeVar(node))
    if (Array.isArray(node.names) && 'typemod' in node) add(typeName(node))
    if (Array.isArray(node.funcname)) add(qualified(stringList(node.funcname)))
    if (Array.isArray(node.objname)) add(objectWithArgs(node))
    // ALTER TEXT SEARCH CONFIGURATION … WITH d1, d2: each dictionary a List of names.
    if (Array.isArray(node.dicts))
      for (const d of node.dicts) add(qualified(stringList(obj(obj(d)?.List)?.items)))
    const cast = obj(node.TypeCast)
    if (cast && REFERENCE_CASTS.has(typeName(cast.typeName)?.name ?? '')) {
      const text = constant(cast.arg)
      if (typeof text === 'string') add(qualified(text.split('.').map((p) => p.replace(/^"|"$/g, ''))))
    }
    for (const child of Object.values(node)) visit(child)
  }
  visit(tree)
  return [...found.values()]
}
