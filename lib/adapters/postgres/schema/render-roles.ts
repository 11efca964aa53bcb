// roles.sql (pure): the roles the backup's objects name, created where the target
// lacks them, and their memberships. Never a password, never SUPERUSER.
import type { ManifestRoles, RoleEntry, RoleMembership } from '../../../archive/access.ts'
import { sqlIdent } from '../../../archive/acl.ts'
import { commentLine } from './plan-nodes.ts'

const literal = (text: string) => `'${text.replaceAll("'", "''")}'`

/** Settings whose value is a list, each element quoted on its own (as pg_dumpall writes them). */
const LIST_SETTINGS = new Set([
  'search_path',
  'temp_tablespaces',
  'session_preload_libraries',
  'local_preload_libraries',
  'shared_preload_libraries',
])

/** `search_path="$user", public` -> `search_path TO '$user', 'public'`. */
export function settingClause(setting: string): string {
  const eq = setting.indexOf('=')
  const name = setting.slice(0, eq)
  const value = setting.slice(eq + 1)
  if (!LIST_SETTINGS.has(name.toLowerCase())) return `${name} TO ${literal(value)}`
  const items: string[] = []
  for (const match of value.matchAll(/\s*(?:"((?:[^"]|"")*)"|([^,]*[^,\s]))\s*(?:,|$)/g)) {
    const item = match[1] !== undefined ? match[1].replaceAll('""', '"') : match[2]
    if (item !== undefined) items.push(literal(item))
  }
  return `${name} TO ${items.length > 0 ? items.join(', ') : "''"}`
}

/** Powers no restore hands out (each reaches beyond the restored objects): named in a comment. */
function powers(role: RoleEntry): string[] {
  return [
    ...(role.superuser ? ['SUPERUSER'] : []),
    ...(role.bypassRls ? ['BYPASSRLS'] : []),
    ...(role.replication ? ['REPLICATION'] : []),
    ...(role.createRole ? ['CREATEROLE'] : []),
  ]
}

function attributes(role: RoleEntry): string {
  const words = [
    role.login ? 'LOGIN' : 'NOLOGIN',
    role.inherit ? 'INHERIT' : 'NOINHERIT',
    'NOCREATEROLE',
    role.createDb ? 'CREATEDB' : 'NOCREATEDB',
    'NOREPLICATION',
    'NOBYPASSRLS',
  ]
  if (role.connectionLimit !== -1) words.push(`CONNECTION LIMIT ${role.connectionLimit}`)
  if (role.validUntil !== null) words.push(`VALID UNTIL ${literal(role.validUntil)}`)
  return words.join(' ')
}

/** A DO block that creates the role (with its settings and comment) only where it does not exist. */
function createRole(role: RoleEntry): string {
  const name = sqlIdent(role.name)
  const inner = [`EXECUTE ${literal(`CREATE ROLE ${name} ${attributes(role)}`)};`]
  for (const s of role.settings) {
    const set = `SET ${settingClause(s.setting)}`
    // A setting for the backed-up database applies to the database restored into.
    inner.push(
      s.database === null
        ? `EXECUTE ${literal(`ALTER ROLE ${name} ${set}`)};`
        : `EXECUTE ${literal(`ALTER ROLE ${name} IN DATABASE `)} || quote_ident(current_database()) || ${literal(` ${set}`)};`,
    )
  }
  if (role.comment !== null)
    inner.push(`EXECUTE ${literal(`COMMENT ON ROLE ${name} IS ${literal(role.comment)}`)};`)
  const held = powers(role)
  const note = held.length > 0 ? ` -- ${held.join(', ')} in the source: not given here` : ''
  return `DO $lifeboat$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ${literal(role.name)}) THEN${note}
    ${inner.join('\n    ')}
  END IF;
END $lifeboat$;`
}

/**
 * One membership per role and member: the union of what the source's grants of it
 * allow (PostgreSQL 16+ keeps one per grantor; privileges add up across them).
 */
export function mergeMemberships(memberships: readonly RoleMembership[]): RoleMembership[] {
  const merged = new Map<string, RoleMembership>()
  const or = (a: boolean | null, b: boolean | null) =>
    a === null && b === null ? null : Boolean(a) || Boolean(b)
  for (const m of memberships) {
    const key = `${m.role}\u0000${m.member}`
    const seen = merged.get(key)
    merged.set(
      key,
      seen
        ? {
            ...seen,
            admin: seen.admin || m.admin,
            inherit: or(seen.inherit, m.inherit),
            set: or(seen.set, m.set),
          }
        : { ...m },
    )
  }
  return [...merged.values()]
}

/**
 * GRANT role TO member, unless memberships that exist already allow as much (16+
 * keeps one per grantor: a second grant would only add a row); INHERIT / SET options
 * only where the server has them.
 */
function grantMembership(m: RoleMembership): string {
  const base = `GRANT ${sqlIdent(m.role)} TO ${sqlIdent(m.member)}`
  const options = [
    ...(m.admin ? ['ADMIN TRUE'] : []),
    ...(m.inherit !== null ? [`INHERIT ${m.inherit ? 'TRUE' : 'FALSE'}`] : []),
    ...(m.set !== null ? [`SET ${m.set ? 'TRUE' : 'FALSE'}`] : []),
  ]
  const withOptions = (list: string[]) => (list.length > 0 ? `${base} WITH ${list.join(', ')}` : base)
  // A role that creates another holds ADMIN on it already (16+), and may not grant it to itself.
  const toSelf = withOptions(options.filter((o) => o !== 'ADMIN TRUE'))
  const legacy = m.admin ? `${base} WITH ADMIN OPTION` : base
  const pair = `roleid = ${literal(m.role)}::regrole AND member = ${literal(m.member)}::regrole`
  const wants = (column: string, wanted: boolean | null) => `(bool_or(${column}) OR NOT ${wanted === true})`
  return `DO $lifeboat$ BEGIN
  IF current_setting('server_version_num')::int < 160000 THEN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members WHERE ${pair} HAVING count(*) > 0 AND ${wants('admin_option', m.admin)}) THEN
      EXECUTE ${literal(legacy)};
    END IF;
  ELSIF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members WHERE ${pair}
      HAVING count(*) > 0 AND ${wants('admin_option', m.admin)} AND ${wants('inherit_option', m.inherit)} AND ${wants('set_option', m.set)}) THEN
    IF current_user = ${literal(m.member)} THEN EXECUTE ${literal(toSelf)};
    ELSE EXECUTE ${literal(withOptions(options))};
    END IF;
  END IF;
END $lifeboat$;`
}

export function renderRolesSql(roles: Omit<ManifestRoles, 'file' | 'version'>, source: string): string {
  const header = [
    '--',
    commentLine('Lifeboat roles.sql: the roles the backed-up objects name. Apply it before schema.sql,'),
    commentLine(
      'as a role that may create roles. No passwords: set them (ALTER ROLE … PASSWORD) where a role logs in.',
    ),
    commentLine(`Source: ${source}`),
    commentLine('Roles that exist already are left as they are.'),
    ...(roles.skipped.length > 0
      ? [
          commentLine('Not created as the backup’s own (the platform creates them):'),
          ...roles.skipped.map((s) => commentLine(`  ${s.name}: ${s.reason}`)),
        ]
      : []),
    '--',
  ]
  const parts = [header.join('\n'), 'SET client_min_messages = warning;']
  if (roles.roles.length > 0) parts.push(`-- Custom roles\n\n${roles.roles.map(createRole).join('\n\n')}`)
  if (roles.platform.length > 0) {
    const text = roles.platform.map((r) => createRole({ ...r, settings: [], comment: null })).join('\n\n')
    parts.push(
      `-- Platform roles the objects name, created only where missing (a plain PostgreSQL target)\n\n${text}`,
    )
  }
  if (roles.memberships.length > 0)
    parts.push(`-- Memberships\n\n${mergeMemberships(roles.memberships).map(grantMembership).join('\n\n')}`)
  return `${parts.join('\n\n')}\n`
}
