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
    // Another grantor's grant needs SET ROLE, which schema.sql may not hold: the restore's
    // access step applies it (lib/restore/access-step.ts); by hand, run it as that role.
    for (const s of statements)
      out.push(item.grantor === owner ? s : `-- granted by ${sqlIdent(item.grantor)} (as that role): ${s}`)
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

const literal = (text: string) => `'${text.replaceAll("'", "''")}'`

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
 * The publication and the backed-up tables' membership. A target that has the
 * publication already (Supabase's supabase_realtime) keeps its own: the restore skips
 * the CREATE there.
 */
export function publicationStatements(publication: PublicationEntry): string[] {
  if (publication.allTables) return []
  const name = sqlIdent(publication.name)
  const p = publication.publish
  const publish = Object.entries(p)
    .filter(([, on]) => on)
    .map(([what]) => what)
    .join(', ')
  const out = [
    `CREATE PUBLICATION ${name} WITH (publish = ${literal(publish)}${publication.viaPartitionRoot ? ', publish_via_partition_root = true' : ''});`,
  ]
  for (const t of publication.tables) {
    const columns = t.columns ? ` (${t.columns.map(sqlIdent).join(', ')})` : ''
    const where = t.rowFilter ? ` WHERE (${t.rowFilter})` : ''
    out.push(
      `ALTER PUBLICATION ${name} ADD TABLE ONLY ${sqlIdent(t.schema)}.${sqlIdent(t.table)}${columns}${where};`,
    )
  }
  // Whole-schema membership reaches tables beyond the backup and needs a superuser: the
  // restore's check refuses it in schema.sql, so it stays a note, and schemaSql.omitted
  // names it (capture.ts), so no restore or drill reports a clean pass over it.
  for (const schema of publication.schemas)
    out.push(
      `-- not reproduced (whole schema): ALTER PUBLICATION ${name} ADD TABLES IN SCHEMA ${sqlIdent(schema)};`,
    )
  return out
}
