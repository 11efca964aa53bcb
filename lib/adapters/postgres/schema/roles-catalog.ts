// Reads the roles the backed-up objects name, and the roles tied to those by
// membership, from pg_roles and pg_auth_members (never passwords: pg_authid is not read).
import type pg from 'pg'
import type { ManifestAccess, RoleEntry, RoleMembership } from '../../../archive/access.ts'
import { parseAclItem } from '../../../archive/acl.ts'
import { platformRoleReason } from '../../../core/platform-roles.ts'

export interface RolesCatalog {
  roles: RoleEntry[]
  memberships: RoleMembership[]
  skipped: { name: string; reason: string }[]
  /** Platform roles the objects name (recorded; roles.sql creates them only where missing). */
  platform: RoleEntry[]
  /** Every role name that exists on the source (to tell named roles from dropped ones). */
  existing: Set<string>
}

/** Every role the access data names: owners, grantees and grantors, policy roles, default privileges. */
export function rolesNamedBy(access: ManifestAccess): Set<string> {
  const names = new Set<string>()
  const acl = (items: readonly string[] | null) => {
    for (const text of items ?? []) {
      const item = parseAclItem(text)
      if (item.grantee !== '') names.add(item.grantee)
      names.add(item.grantor)
    }
  }
  for (const o of access.objects) {
    names.add(o.owner)
    acl(o.acl)
    for (const c of o.columns ?? []) acl(c.acl)
  }
  for (const p of access.policies) for (const r of p.roles) if (r !== 'public') names.add(r)
  for (const d of access.defaultAcls) {
    names.add(d.role)
    acl(d.acl)
  }
  return names
}

const ROLE_QUERY = `
  SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolinherit AS inherit, r.rolcreaterole AS "createRole",
    r.rolcreatedb AS "createDb", r.rolcanlogin AS login, r.rolreplication AS replication,
    r.rolbypassrls AS "bypassRls", r.rolconnlimit AS "connectionLimit",
    CASE WHEN r.rolvaliduntil IS NOT NULL THEN to_char(r.rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END AS "validUntil",
    COALESCE((SELECT json_agg(json_build_object('database', CASE WHEN s.setdatabase = 0 THEN NULL ELSE current_database() END,
        'setting', c.setting) ORDER BY s.setdatabase, c.n)
      FROM pg_catalog.pg_db_role_setting s CROSS JOIN LATERAL unnest(s.setconfig) WITH ORDINALITY AS c(setting, n)
      WHERE s.setrole = r.oid AND s.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()))),
      '[]') AS settings,
    shobj_description(r.oid, 'pg_authid') AS comment
  FROM pg_catalog.pg_roles r WHERE r.rolname = ANY($1::text[]) ORDER BY r.rolname`

function membershipQuery(serverVersionNum: number): string {
  const options =
    serverVersionNum >= 160000
      ? 'm.inherit_option AS inherit, m.set_option AS set'
      : 'NULL::boolean AS inherit, NULL::boolean AS set'
  return `
    SELECT pg_get_userbyid(m.roleid) AS role, pg_get_userbyid(m.member) AS member,
      pg_get_userbyid(m.grantor) AS grantor, m.admin_option AS admin, ${options}
    FROM pg_catalog.pg_auth_members m
    WHERE pg_get_userbyid(m.roleid) = ANY($1::text[]) OR pg_get_userbyid(m.member) = ANY($1::text[])
    ORDER BY 1, 2, 3`
}

/**
 * The custom roles `named` mentions, plus every custom role tied to them by
 * membership (either way, transitively); platform roles are recorded as skipped.
 */
export async function readRoles(
  client: pg.ClientBase,
  named: ReadonlySet<string>,
  serverVersionNum: number,
): Promise<RolesCatalog> {
  const bootstrap =
    (await client.query<{ name: string }>('SELECT rolname AS name FROM pg_catalog.pg_roles WHERE oid = 10'))
      .rows[0]?.name ?? 'postgres'
  const isCustom = (name: string) => platformRoleReason(name, bootstrap) === undefined
  const custom = new Set([...named].filter(isCustom))
  const memberships = new Map<string, RoleMembership>()
  let frontier = [...custom]
  while (frontier.length > 0) {
    const rows = (await client.query<RoleMembership>(membershipQuery(serverVersionNum), [frontier])).rows
    frontier = []
    for (const m of rows) {
      if (!isCustom(m.role) && !isCustom(m.member)) continue
      memberships.set(`${m.role}\u0000${m.member}\u0000${m.grantor}`, m)
      for (const side of [m.role, m.member]) {
        if (isCustom(side) && !custom.has(side)) {
          custom.add(side)
          frontier.push(side)
        }
      }
    }
  }
  const all = new Set([...named, ...[...memberships.values()].flatMap((m) => [m.role, m.member])])
  const entries = (await client.query<RoleEntry>(ROLE_QUERY, [[...all]])).rows
  const existing = new Set(entries.map((r) => r.name))
  const skipped = [...all]
    .filter((name) => !isCustom(name))
    .sort()
    .map((name) => ({ name, reason: platformRoleReason(name, bootstrap)! }))
  return {
    roles: entries.filter((r) => isCustom(r.name)),
    platform: entries.filter((r) => !isCustom(r.name) && !r.name.startsWith('pg_')),
    memberships: [...memberships.values()],
    skipped,
    existing,
  }
}
