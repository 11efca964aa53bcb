// Which roles and memberships a --create-schema restore creates, from the manifest's
// typed roles block (never from roles.sql's text): missing roles are created without
// any power the restore may not hand out, existing ones are left exactly as they are,
// and a membership is granted only where it cannot widen an existing role's access. Pure.

import { mergeMemberships, renderRolesSql, settingClause } from '../adapters/postgres/schema/render-roles.ts'
import type { ManifestRoles, RoleEntry, RoleMembership } from '../archive/access.ts'
import { sqlIdent } from '../archive/acl.ts'
import { LifeboatError } from '../core/errors.ts'

export interface RoleTargetState {
  /** Roles that exist on the target. */
  roles: ReadonlySet<string>
  /** Memberships the target has, `role\u0000member`. */
  memberships: ReadonlySet<string>
  serverVersionNum: number
  /** The role the restore runs as (16+: it holds ADMIN on what it creates, and may not grant itself). */
  currentUser: string
}

export interface RolePlan {
  statements: string[]
  created: string[]
  /** Roles the backup names that the target has already: left as they are. */
  existing: string[]
  /** What the restore knowingly did not give (a power, a setting, a membership), one line each. */
  notGiven: string[]
}

/** Powers a restore never hands out: each reaches beyond the restored objects. */
const POWERS: readonly { field: keyof RoleEntry; word: string }[] = [
  { field: 'superuser', word: 'SUPERUSER' },
  { field: 'bypassRls', word: 'BYPASSRLS' },
  { field: 'replication', word: 'REPLICATION' },
  { field: 'createRole', word: 'CREATEROLE' },
]

/** Settings that load code or change what the server does for the role: never set by a restore. */
const UNSAFE_SETTING = /preload|librar|^session_replication_role$|^role$|^session_authorization$/i

const literal = (text: string) => `'${text.replaceAll("'", "''")}'`

function createRole(role: RoleEntry, database: string, withExtras: boolean, notGiven: string[]): string[] {
  const name = sqlIdent(role.name)
  const words = [
    role.login ? 'LOGIN' : 'NOLOGIN',
    role.inherit ? 'INHERIT' : 'NOINHERIT',
    role.createDb ? 'CREATEDB' : 'NOCREATEDB',
    'NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS',
  ]
  if (role.connectionLimit !== -1) words.push(`CONNECTION LIMIT ${Math.trunc(role.connectionLimit)}`)
  if (role.validUntil !== null) words.push(`VALID UNTIL ${literal(role.validUntil)}`)
  const powers = POWERS.filter((p) => role[p.field] === true).map((p) => p.word)
  if (powers.length > 0) notGiven.push(`role ${role.name}: ${powers.join(', ')} of the source not given`)
  const out = [`CREATE ROLE ${name} ${words.join(' ')}`]
  if (!withExtras) return out
  for (const s of role.settings) {
    const settingName = s.setting.slice(0, s.setting.indexOf('='))
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(settingName) || UNSAFE_SETTING.test(settingName)) {
      notGiven.push(`role ${role.name}: setting ${settingName} not set`)
      continue
    }
    const scope = s.database === null ? '' : ` IN DATABASE ${sqlIdent(database)}`
    out.push(`ALTER ROLE ${name}${scope} SET ${settingClause(s.setting)}`)
  }
  if (role.comment !== null) out.push(`COMMENT ON ROLE ${name} IS ${literal(role.comment)}`)
  return out
}

function grantMembership(m: RoleMembership, target: RoleTargetState): string {
  const base = `GRANT ${sqlIdent(m.role)} TO ${sqlIdent(m.member)}`
  if (target.serverVersionNum < 160000) return m.admin ? `${base} WITH ADMIN OPTION` : base
  const options = [
    ...(m.admin && m.member !== target.currentUser ? ['ADMIN TRUE'] : []),
    ...(m.inherit !== null ? [`INHERIT ${m.inherit ? 'TRUE' : 'FALSE'}`] : []),
    ...(m.set !== null ? [`SET ${m.set ? 'TRUE' : 'FALSE'}`] : []),
  ]
  return options.length > 0 ? `${base} WITH ${options.join(', ')}` : base
}

/**
 * The statements that give the target the backup's roles: custom roles with their
 * settings and comments, platform roles bare (a plain PostgreSQL target lacks them),
 * then memberships. A membership is granted only where this restore created the
 * granted role or the member (never a predefined pg_* role): a role that existed
 * already gains nothing it did not have.
 */
export function planRoles(roles: ManifestRoles, target: RoleTargetState, database: string): RolePlan {
  const plan: RolePlan = { statements: [], created: [], existing: [], notGiven: [] }
  const all: [RoleEntry, boolean][] = [
    ...roles.roles.map((r): [RoleEntry, boolean] => [r, true]),
    ...roles.platform.map((r): [RoleEntry, boolean] => [r, false]),
  ]
  for (const [role, withExtras] of all) {
    if (target.roles.has(role.name)) {
      if (!plan.existing.includes(role.name)) plan.existing.push(role.name)
      continue
    }
    if (plan.created.includes(role.name)) continue
    plan.statements.push(...createRole(role, database, withExtras, plan.notGiven))
    plan.created.push(role.name)
  }
  const created = new Set(plan.created)
  const exists = (name: string) => target.roles.has(name) || created.has(name)
  for (const m of mergeMemberships(roles.memberships)) {
    if (target.memberships.has(`${m.role}\u0000${m.member}`)) continue
    if (!exists(m.role) || !exists(m.member)) {
      plan.notGiven.push(`membership of ${m.member} in ${m.role}: a role is missing on the target`)
      continue
    }
    if (m.role.startsWith('pg_') || !(created.has(m.role) || created.has(m.member))) {
      plan.notGiven.push(
        `membership of ${m.member} in ${m.role}: not granted (both roles existed already, or ${m.role} is predefined)`,
      )
      continue
    }
    plan.statements.push(grantMembership(m, target))
  }
  return plan
}

const statementsOf = (text: string) =>
  text
    .split('\n')
    .filter((line) => !line.startsWith('--'))
    .join('\n')
    .trim()

/**
 * roles.sql is never run by the restore, but a person may run it by hand: it must be
 * exactly what the manifest's roles block renders to (comments aside), so it can hold
 * no power, password or statement the manifest does not declare.
 */
export function assertRolesSqlMatches(rolesSql: string | undefined, roles: ManifestRoles): void {
  const expected = statementsOf(renderRolesSql(roles, ''))
  if (rolesSql !== undefined && statementsOf(rolesSql) === expected) return
  throw new LifeboatError(
    'SCHEMA_SQL_REFUSED',
    rolesSql === undefined
      ? 'the manifest declares roles but the archive holds no roles.sql; nothing was written'
      : 'roles.sql holds statements the manifest’s roles do not declare; nothing was written',
  )
}
