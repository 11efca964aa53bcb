// The roles a --create-schema restore creates, from the manifest's roles block: missing
// ones without any power, existing ones untouched, memberships that cannot widen an
// existing role's access, and roles.sql held to exactly what the block renders.
import { describe, expect, it } from 'vitest'
import { renderRolesSql } from '../../lib/adapters/postgres/schema/render-roles.ts'
import type { ManifestRoles, RoleEntry } from '../../lib/archive/access.ts'
import { isLifeboatError } from '../../lib/core/errors.ts'
import { assertRolesSqlMatches, planRoles, type RoleTargetState } from '../../lib/restore/role-plan.ts'

const role = (name: string, extra: Partial<RoleEntry> = {}): RoleEntry => ({
  name,
  superuser: false,
  inherit: true,
  createRole: false,
  createDb: false,
  login: false,
  replication: false,
  bypassRls: false,
  connectionLimit: -1,
  validUntil: null,
  settings: [],
  comment: null,
  ...extra,
})

const roles = (extra: Partial<ManifestRoles> = {}): ManifestRoles => ({
  version: 1,
  file: { name: 'roles.sql', sha256: 'x', bytes: 1 },
  roles: [],
  memberships: [],
  skipped: [],
  platform: [],
  ...extra,
})

const target = (existing: string[], extra: Partial<RoleTargetState> = {}): RoleTargetState => ({
  roles: new Set(existing),
  memberships: new Set(),
  serverVersionNum: 150010,
  currentUser: 'postgres',
  ...extra,
})

const membership = (r: string, member: string, admin = false) => ({
  role: r,
  member,
  grantor: 'postgres',
  admin,
  inherit: null,
  set: null,
})

describe('planRoles', () => {
  it('creates the missing roles without SUPERUSER, BYPASSRLS, REPLICATION or CREATEROLE, and says so', () => {
    const plan = planRoles(
      roles({
        roles: [
          role('app_admin', { superuser: true, bypassRls: true, replication: true, createRole: true }),
          role('app_login', { login: true, connectionLimit: 5 }),
        ],
      }),
      target([]),
      'db',
    )
    expect(plan.created).toEqual(['app_admin', 'app_login'])
    expect(plan.statements).toEqual([
      'CREATE ROLE app_admin NOLOGIN INHERIT NOCREATEDB NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS',
      'CREATE ROLE app_login LOGIN INHERIT NOCREATEDB NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 5',
    ])
    expect(plan.notGiven).toEqual([
      'role app_admin: SUPERUSER, BYPASSRLS, REPLICATION, CREATEROLE of the source not given',
    ])
  })

  it('leaves an existing role exactly as it is', () => {
    const plan = planRoles(
      roles({ roles: [role('app_reader', { comment: 'reads' })], platform: [role('anon')] }),
      target(['app_reader', 'anon']),
      'db',
    )
    expect(plan.statements).toEqual([])
    expect(plan.existing).toEqual(['app_reader', 'anon'])
  })

  it('sets safe role settings (this database by name) and its comment, never a setting that loads code', () => {
    const plan = planRoles(
      roles({
        roles: [
          role('api', {
            comment: "the API's role",
            settings: [
              { database: null, setting: 'statement_timeout=8s' },
              { database: 'src', setting: 'search_path=app, public' },
              { database: null, setting: 'session_preload_libraries=evil' },
              { database: null, setting: "x TO 'a'; DROP TABLE t; --=1" },
            ],
          }),
        ],
      }),
      target([]),
      'restored',
    )
    expect(plan.statements.slice(1)).toEqual([
      "ALTER ROLE api SET statement_timeout TO '8s'",
      "ALTER ROLE api IN DATABASE restored SET search_path TO 'app', 'public'",
      `COMMENT ON ROLE api IS 'the API''s role'`,
    ])
    expect(plan.notGiven).toHaveLength(2)
  })

  it('grants memberships where it created a side, never one between roles that existed, never pg_*', () => {
    const plan = planRoles(
      roles({
        roles: [role('app_reader'), role('app_writer')],
        platform: [role('authenticated'), role('service_role')],
        memberships: [
          membership('app_reader', 'authenticated'),
          membership('app_reader', 'app_writer', true),
          membership('service_role', 'authenticated'),
          membership('pg_read_server_files', 'app_writer'),
        ],
      }),
      target(['authenticated', 'service_role', 'pg_read_server_files']),
      'db',
    )
    expect(plan.statements.filter((s) => s.startsWith('GRANT'))).toEqual([
      'GRANT app_reader TO authenticated',
      'GRANT app_reader TO app_writer WITH ADMIN OPTION',
    ])
    expect(plan.notGiven.join('\n')).toContain('membership of authenticated in service_role: not granted')
    expect(plan.notGiven.join('\n')).toContain(
      'membership of app_writer in pg_read_server_files: not granted',
    )
  })

  it('writes 16+ membership options, without ADMIN to the restoring role itself', () => {
    const plan = planRoles(
      roles({
        roles: [role('app_reader')],
        memberships: [{ ...membership('app_reader', 'postgres', true), inherit: true, set: false }],
      }),
      target(['postgres'], { serverVersionNum: 170002 }),
      'db',
    )
    expect(plan.statements.at(-1)).toBe('GRANT app_reader TO postgres WITH INHERIT TRUE, SET FALSE')
  })

  it('skips a membership the target has already', () => {
    const plan = planRoles(
      roles({ roles: [role('app_reader')], memberships: [membership('app_reader', 'anon')] }),
      target(['app_reader', 'anon'], { memberships: new Set(['app_reader\u0000anon']) }),
      'db',
    )
    expect(plan.statements).toEqual([])
    expect(plan.notGiven).toEqual([])
  })
})

describe('assertRolesSqlMatches', () => {
  const block = roles({
    roles: [role('app_reader', { bypassRls: true })],
    memberships: [membership('app_reader', 'authenticated')],
  })
  const refused = (text: string | undefined) => {
    try {
      assertRolesSqlMatches(text, block)
      return undefined
    } catch (error) {
      return isLifeboatError(error) ? error.code : 'other'
    }
  }

  it('accepts roles.sql as the backup wrote it, whatever its comments say', () => {
    expect(refused(renderRolesSql(block, 'PostgreSQL 15.8, database roles'))).toBeUndefined()
    expect(renderRolesSql(block, '')).toContain(
      'CREATE ROLE app_reader NOLOGIN INHERIT NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS',
    )
  })

  it.each([
    ['a superuser', 'ALTER ROLE app_reader SUPERUSER;'],
    ['a password', "ALTER ROLE app_reader PASSWORD 'x';"],
    ['a membership the manifest does not hold', 'GRANT service_role TO anon;'],
  ])('refuses roles.sql that adds %s', (_what, line) => {
    expect(refused(`${renderRolesSql(block, '')}${line}\n`)).toBe('SCHEMA_SQL_REFUSED')
  })

  it('refuses a manifest with roles but no roles.sql', () => {
    expect(refused(undefined)).toBe('SCHEMA_SQL_REFUSED')
  })
})
