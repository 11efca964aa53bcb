// schema.sql's access part, rendered from the manifest's access data (pure): owners,
// privileges written absolutely (whatever the target's default privileges granted at
// CREATE is taken back), default privileges, publication membership.

import {
  type AccessObject,
  aclObjectOf,
  type DefaultAclEntry,
  type ManifestAccess,
  type PublicationEntry,
} from '../../../archive/access.ts'
import {
  type AclItem,
  type AclKind,
  effectiveAcl,
  granteeSql,
  parseAclItem,
  privilegeList,
  privilegeSet,
  sqlIdent,
} from '../../../archive/acl.ts'

const OWNER_WORD: Record<AccessObject['kind'], string> = {
  schema: 'SCHEMA',
  table: 'TABLE',
  view: 'VIEW',
  'materialized view': 'MATERIALIZED VIEW',
  'foreign table': 'FOREIGN TABLE',
  sequence: 'SEQUENCE',
  function: 'FUNCTION',
  procedure: 'PROCEDURE',
  aggregate: 'AGGREGATE',
  type: 'TYPE',
  domain: 'DOMAIN',
}

/** The name ALTER … OWNER TO takes: aggregates without arguments are written `(*)`. */
function ownerTarget(o: AccessObject): string {
  const ident =
    o.kind === 'aggregate' ? `${sqlIdent(o.schema)}.${sqlIdent(o.name)}(${o.arguments || '*'})` : o.ident
  return `${OWNER_WORD[o.kind]} ${ident}`
}

export function ownerStatements(access: ManifestAccess): string[] {
  return (
    access.objects
      // public exists on every target; a column's sequence follows its table.
      .filter((o) => !(o.kind === 'schema' && o.name === 'public') && !o.ownedByColumn)
      .map((o) => `ALTER ${ownerTarget(o)} OWNER TO ${sqlIdent(o.owner)};`)
  )
}

/** GRANTs that recreate ACL items: each grantor's inside SET ROLE, nearest the owner first. */
function grantStatements(
  items: readonly AclItem[],
  on: (letters: string) => string,
  owner: string,
): string[] {
  const depth = new Map<string, number>([[owner, 0]])
  for (let round = 0; round <= items.length; round++) {
    for (const item of items) {
      const d = depth.get(item.grantor)
      if (d !== undefined && item.grantable !== '' && !depth.has(item.grantee)) depth.set(item.grantee, d + 1)
    }
  }
  const sorted = [...items].sort((a, b) => (depth.get(a.grantor) ?? 99) - (depth.get(b.grantor) ?? 99))
  const out: string[] = []
  for (const item of sorted) {
    const plain = [...item.privileges].filter((l) => !item.grantable.includes(l)).join('')
    const statements = [
      ...(plain ? [`GRANT ${on(plain)} TO ${granteeSql(item.grantee)};`] : []),
      ...(item.grantable
        ? [`GRANT ${on(item.grantable)} TO ${granteeSql(item.grantee)} WITH GRANT OPTION;`]
        : []),
    ]
    for (const s of statements)
      out.push(item.grantor === owner ? s : `SET ROLE ${sqlIdent(item.grantor)}; ${s} RESET ROLE;`)
  }
  return out
}

/**
 * Takes everything from every grantee the target may have given something (PUBLIC,
 * the candidates, the source's own grantees), then grants exactly the source's ACL.
 * The owner keeps what ALTER … OWNER TO gave it unless the source owner held less.
 */
export function privilegeStatements(
  o: AccessObject,
  version: number,
  candidates: readonly string[],
): string[] {
  const { kind, target } = aclObjectOf(o)
  const items = effectiveAcl(kind, o.owner, o.acl, version)
  const columns = (o.columns ?? []).map((c) => ({ name: c.name, items: c.acl.map(parseAclItem) }))
  const full = privilegeSet(kind, version)
  const ownerItem = items.find((i) => i.grantee === o.owner && i.grantor === o.owner)
  const ownerReduced = !ownerItem || [...full].some((l) => !ownerItem.privileges.includes(l))
  const grantees = new Set<string>(['', ...candidates])
  for (const item of [...items, ...columns.flatMap((c) => c.items)]) grantees.add(item.grantee)
  grantees.delete(o.owner)
  const revokeFrom = [...grantees].map(granteeSql)
  if (ownerReduced) revokeFrom.push(sqlIdent(o.owner))
  const out = [`REVOKE ALL ON ${target} FROM ${revokeFrom.join(', ')} CASCADE;`]
  const toGrant = items.filter((i) => ownerReduced || !(i.grantee === o.owner && i.grantor === o.owner))
  out.push(...grantStatements(toGrant, (l) => `${privilegeList(l, kind, version)} ON ${target}`, o.owner))
  for (const column of columns) {
    const on = (l: string) =>
      `${privilegeList(l, 'column', version)
        .split(', ')
        .map((p) => `${p} (${sqlIdent(column.name)})`)
        .join(', ')} ON ${target}`
    out.push(...grantStatements(column.items, on, o.owner))
  }
  return out
}

const SWEEP_KIND: Record<
  string,
  { catalog: string; lookup: string; acl: string; owner: string; def: string }
> = {
  schema: { catalog: 'pg_namespace', lookup: 'to_regnamespace', acl: 'nspacl', owner: 'nspowner', def: 'n' },
  table: { catalog: 'pg_class', lookup: 'to_regclass', acl: 'relacl', owner: 'relowner', def: 'r' },
  sequence: { catalog: 'pg_class', lookup: 'to_regclass', acl: 'relacl', owner: 'relowner', def: 's' },
  function: { catalog: 'pg_proc', lookup: 'to_regprocedure', acl: 'proacl', owner: 'proowner', def: 'f' },
  type: { catalog: 'pg_type', lookup: 'to_regtype', acl: 'typacl', owner: 'typowner', def: 'T' },
}

const literal = (text: string) => `'${text.replaceAll("'", "''")}'`

/**
 * One block that takes everything from any grantee the source's ACL does not name,
 * on every restored object: default privileges of the target for roles the static
 * REVOKEs could not know about never widen access.
 */
export function sweepStatement(access: ManifestAccess): string | undefined {
  const rows = access.objects.map((o) => {
    const { kind, target } = aclObjectOf(o)
    const items = effectiveAcl(kind, o.owner, o.acl, access.serverVersionNum)
    const allowed = [...new Set([o.owner, ...items.map((i) => i.grantee)])].map(literal).join(', ')
    return `(${literal(kind)}, ${literal(target)}, ${literal(o.ident)}, ARRAY[${allowed}]::text[])`
  })
  if (rows.length === 0) return undefined
  const lookups = Object.entries(SWEEP_KIND).map(
    ([kind, k]) =>
      `WHEN ${literal(kind)} THEN (SELECT COALESCE(x.${k.acl}, pg_catalog.acldefault(${literal(k.def)}, x.${k.owner})) FROM pg_catalog.${k.catalog} x WHERE x.oid = pg_catalog.${k.lookup}(o.ident))`,
  )
  return `DO $lifeboat$
DECLARE
  statement text;
BEGIN
  FOR statement IN
    SELECT DISTINCT format('REVOKE ALL ON %s FROM %s CASCADE', o.target,
        CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END)
      FROM (VALUES
        ${rows.join(',\n        ')}
      ) AS o(kind, target, ident, allowed)
      CROSS JOIN LATERAL (SELECT CASE o.kind
        ${lookups.join('\n        ')}
      END) AS c(acl)
      CROSS JOIN LATERAL pg_catalog.aclexplode(c.acl) AS a
     WHERE (CASE WHEN a.grantee = 0 THEN '' ELSE pg_catalog.pg_get_userbyid(a.grantee)::text END) <> ALL (o.allowed)
  LOOP
    EXECUTE statement;
  END LOOP;
END
$lifeboat$;`
}

const DEFAULT_WORD: Record<DefaultAclEntry['objectType'], { word: string; kind: AclKind }> = {
  tables: { word: 'TABLES', kind: 'table' },
  sequences: { word: 'SEQUENCES', kind: 'sequence' },
  functions: { word: 'FUNCTIONS', kind: 'function' },
  types: { word: 'TYPES', kind: 'type' },
  schemas: { word: 'SCHEMAS', kind: 'schema' },
}

/**
 * ALTER DEFAULT PRIVILEGES as the source has them, absolutely: first everything is
 * taken from PUBLIC, the candidates and the entry's grantees, then the entry is granted.
 * A role's defaults in every schema replace the built-in ones (its own included);
 * defaults IN SCHEMA only add to them.
 */
export function defaultAclStatements(
  entry: DefaultAclEntry,
  version: number,
  candidates: readonly string[],
): string[] {
  const { word, kind } = DEFAULT_WORD[entry.objectType]
  const head = `ALTER DEFAULT PRIVILEGES FOR ROLE ${sqlIdent(entry.role)}${entry.schema === null ? '' : ` IN SCHEMA ${sqlIdent(entry.schema)}`}`
  const items = entry.acl.map(parseAclItem)
  const grantees = new Set<string>(['', ...candidates, ...items.map((i) => i.grantee)])
  grantees.delete(entry.role)
  const own = items.find((i) => i.grantee === entry.role)
  const full = privilegeSet(kind, version)
  const ownReduced = entry.schema === null && (!own || [...full].some((l) => !own.privileges.includes(l)))
  const from = [...grantees].map(granteeSql)
  if (ownReduced) from.push(sqlIdent(entry.role))
  const out = [`${head} REVOKE ALL ON ${word} FROM ${from.join(', ')};`]
  for (const item of items) {
    if (item.grantee === entry.role && !ownReduced) continue
    const plain = [...item.privileges].filter((l) => !item.grantable.includes(l)).join('')
    if (plain)
      out.push(
        `${head} GRANT ${privilegeList(plain, kind, version)} ON ${word} TO ${granteeSql(item.grantee)};`,
      )
    if (item.grantable)
      out.push(
        `${head} GRANT ${privilegeList(item.grantable, kind, version)} ON ${word} TO ${granteeSql(item.grantee)} WITH GRANT OPTION;`,
      )
  }
  return out
}

/**
 * Membership of the backed-up tables, creating the publication where the target
 * lacks it (Supabase's supabase_realtime is already there in a new project).
 */
export function publicationStatements(publication: PublicationEntry): string[] {
  if (publication.allTables) return []
  const name = sqlIdent(publication.name)
  const p = publication.publish
  const publish = Object.entries(p)
    .filter(([, on]) => on)
    .map(([what]) => what)
    .join(', ')
  const create = `CREATE PUBLICATION ${name} WITH (publish = ${literal(publish)}${publication.viaPartitionRoot ? ', publish_via_partition_root = true' : ''})`
  const out = [
    `DO $lifeboat$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = ${literal(publication.name)}) THEN
    EXECUTE ${literal(create)};
  END IF;
END $lifeboat$;`,
  ]
  for (const t of publication.tables) {
    const columns = t.columns ? ` (${t.columns.map(sqlIdent).join(', ')})` : ''
    const where = t.rowFilter ? ` WHERE (${t.rowFilter})` : ''
    out.push(
      `ALTER PUBLICATION ${name} ADD TABLE ONLY ${sqlIdent(t.schema)}.${sqlIdent(t.table)}${columns}${where};`,
    )
  }
  for (const schema of publication.schemas)
    out.push(`ALTER PUBLICATION ${name} ADD TABLES IN SCHEMA ${sqlIdent(schema)};`)
  return out
}
