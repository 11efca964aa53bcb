// The manifest's record of the structure around the rows (format v1 additions, each
// versioned): who owns what and who may do what (access), the roles those name
// (roles), and what schema.sql knowingly could not reproduce. Types and validation.
import { LifeboatError } from '../core/errors.ts'
import type { AclKind } from './acl.ts'
import { parseAclItem } from './acl.ts'
import type { AclObject, AclSide } from './acl-diff.ts'

/** Bumped when a field changes meaning; readers refuse a newer version rather than guess. */
export const ACCESS_VERSION = 1
export const ROLES_VERSION = 1

export type AccessObjectKind =
  | 'schema'
  | 'table'
  | 'view'
  | 'materialized view'
  | 'foreign table'
  | 'sequence'
  | 'function'
  | 'procedure'
  | 'aggregate'
  | 'type'
  | 'domain'

export interface AccessObject {
  kind: AccessObjectKind
  /** The schema the object lives in (a schema: its own name). */
  schema: string
  /** The object's name (a routine: without arguments). */
  name: string
  /** Routines: pg_get_function_identity_arguments(), `v integer, VARIADIC text[]` (ALTER AGGREGATE needs it). */
  arguments?: string
  /**
   * The name as SQL writes it, quoted where needed: `public.t`, `"My Schema".f(integer)`
   * (routines as regprocedure prints them, so to_regprocedure() finds them).
   */
  ident: string
  owner: string
  /** aclitem texts exactly as the source holds them; null = the built-in default (acldefault). */
  acl: string[] | null
  /** Column privileges, for the columns that have any. */
  columns?: { name: string; acl: string[] }[]
  /** Tables: row level security enabled / forced. */
  rowSecurity?: { enabled: boolean; forced: boolean }
  /** A sequence owned by a column (serial, identity): it follows its table's owner. */
  ownedByColumn?: boolean
}

export type PolicyCommand = 'ALL' | 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE'

export interface AccessPolicy {
  schema: string
  table: string
  name: string
  permissive: boolean
  command: PolicyCommand
  /** Role names as pg_policies shows them (`public` for PUBLIC). */
  roles: string[]
  using: string | null
  withCheck: string | null
}

export type DefaultAclObjectType = 'tables' | 'sequences' | 'functions' | 'types' | 'schemas'

export interface DefaultAclEntry {
  /** The role whose new objects get these privileges (FOR ROLE). */
  role: string
  /** IN SCHEMA; null for the role's defaults in every schema. */
  schema: string | null
  objectType: DefaultAclObjectType
  acl: string[]
}

export interface PublicationEntry {
  name: string
  owner: string
  /** FOR ALL TABLES: database-wide, recorded but not recreated. */
  allTables: boolean
  publish: { insert: boolean; update: boolean; delete: boolean; truncate: boolean }
  viaPartitionRoot: boolean
  /** Selected tables that are members, with their column list and row filter where set. */
  tables: { schema: string; table: string; columns: string[] | null; rowFilter: string | null }[]
  /** Selected schemas published as FOR TABLES IN SCHEMA. */
  schemas: string[]
}

export interface ManifestAccess {
  version: typeof ACCESS_VERSION
  /** The source's server_version_num: ACLs are read against its privilege set. */
  serverVersionNum: number
  objects: AccessObject[]
  policies: AccessPolicy[]
  defaultAcls: DefaultAclEntry[]
  publications: PublicationEntry[]
}

export interface RoleEntry {
  name: string
  /** Recorded, never recreated as such: roles.sql creates the role without it. */
  superuser: boolean
  inherit: boolean
  createRole: boolean
  createDb: boolean
  login: boolean
  replication: boolean
  bypassRls: boolean
  /** -1: no limit. */
  connectionLimit: number
  validUntil: string | null
  /** ALTER ROLE … SET, for every database (database null) or the backed-up one. */
  settings: { database: string | null; setting: string }[]
  comment: string | null
}

export interface RoleMembership {
  role: string
  member: string
  grantor: string
  admin: boolean
  /** PostgreSQL 16+: the membership's INHERIT and SET options (null on older servers). */
  inherit: boolean | null
  set: boolean | null
}

export interface ManifestRoles {
  version: typeof ROLES_VERSION
  /** roles.sql, applied before schema.sql; null when no custom role is named. */
  file: { name: 'roles.sql'; sha256: string; bytes: number } | null
  /** Custom roles the backed-up objects name (owners, grantees, policies), with their memberships' roles. */
  roles: RoleEntry[]
  memberships: RoleMembership[]
  /** Named roles PostgreSQL or Supabase create themselves: not the backup's to create. */
  skipped: { name: string; reason: string }[]
  /** Those of them the objects name (not pg_*), with their attributes: created only where missing (plain PostgreSQL). */
  platform: RoleEntry[]
}

export interface OmittedObject {
  kind: string
  name: string
  reason: string
}

/** A trigger on a table the platform owns (auth.users) whose function is backed up. */
export interface ManagedTableTrigger {
  schema: string
  table: string
  name: string
  /** The trigger function, `public.handle_new_user()`. */
  function: string
  /** CREATE OR REPLACE TRIGGER …: runs once the table exists, whether or not it has the trigger. */
  sql: string
  /**
   * true: the table is in the backup (auth.users of a default backup) and schema.sql creates
   * the trigger with it; false: schema.sql creates it on the target's own table.
   */
  tableBackedUp: boolean
}

export interface ExtensionEntry {
  name: string
  schema: string
  version: string
  /** Backed-up objects use it: schema.sql fails without it. Otherwise created where available. */
  required: boolean
}

/** What `schemaSql` says beyond its file, in archives that have it. */
export interface SchemaCapture {
  omitted: OmittedObject[]
  /** Materialized views in refresh order (dependencies first); `populated` as in the source. */
  materializedViews: { schema: string; name: string; populated: boolean }[]
  managedTableTriggers: ManagedTableTrigger[]
  extensions: ExtensionEntry[]
}

const ACL_KIND: Record<AccessObjectKind, Exclude<AclKind, 'column'>> = {
  schema: 'schema',
  table: 'table',
  view: 'table',
  'materialized view': 'table',
  'foreign table': 'table',
  sequence: 'sequence',
  function: 'function',
  procedure: 'function',
  aggregate: 'function',
  type: 'type',
  domain: 'type',
}

const GRANT_WORD: Record<AccessObjectKind, string> = {
  schema: 'SCHEMA',
  table: 'TABLE',
  view: 'TABLE',
  'materialized view': 'TABLE',
  'foreign table': 'TABLE',
  sequence: 'SEQUENCE',
  function: 'FUNCTION',
  procedure: 'PROCEDURE',
  aggregate: 'FUNCTION',
  type: 'TYPE',
  domain: 'DOMAIN',
}

/** How GRANT names the object, and which privileges it has. */
export function aclObjectOf(object: Pick<AccessObject, 'kind' | 'ident'>): AclObject {
  return { kind: ACL_KIND[object.kind], target: `${GRANT_WORD[object.kind]} ${object.ident}` }
}

/** The manifest's side of diffAcl for one object: its owner, ACL and column ACLs on the source. */
export function aclSideOf(object: AccessObject, access: Pick<ManifestAccess, 'serverVersionNum'>): AclSide {
  return {
    owner: object.owner,
    acl: object.acl,
    columns: Object.fromEntries((object.columns ?? []).map((c) => [c.name, c.acl])),
    serverVersionNum: access.serverVersionNum,
  }
}

/** The restore's refresh statements, dependencies first, for views the source had populated. */
export function refreshStatements(
  capture: Pick<SchemaCapture, 'materializedViews'>,
  quote: (name: string) => string,
): string[] {
  return capture.materializedViews
    .filter((v) => v.populated)
    .map((v) => `REFRESH MATERIALIZED VIEW ${quote(v.schema)}.${quote(v.name)};`)
}

function bad(where: string, what: string): never {
  throw new LifeboatError('ARCHIVE_CORRUPT', `${where}: manifest.json ${what}`)
}

function checkAcl(where: string, acl: unknown, what: string): void {
  if (acl === null) return
  if (!Array.isArray(acl)) bad(where, `has a malformed ACL for ${what}`)
  for (const item of acl) {
    try {
      parseAclItem(String(item))
    } catch (error) {
      bad(where, `has a malformed ACL for ${what}: ${(error as Error).message}`)
    }
  }
}

function checkVersion(where: string, block: string, version: unknown, known: number): void {
  if (typeof version !== 'number') bad(where, `has ${block} without a version`)
  if (version > known) {
    throw new LifeboatError(
      'ARCHIVE_FORMAT',
      `${where}: the manifest's ${block} data is version ${version}, this Lifeboat reads up to ${known}; use a newer Lifeboat`,
    )
  }
}

/** Checks the optional access block: shapes, kinds and every aclitem. */
export function validateAccess(value: unknown, where: string): void {
  if (value === undefined) return
  const access = value as Partial<ManifestAccess>
  if (typeof access !== 'object' || access === null) bad(where, 'has a malformed access block')
  checkVersion(where, 'access', access.version, ACCESS_VERSION)
  for (const field of ['objects', 'policies', 'defaultAcls', 'publications'] as const) {
    if (!Array.isArray(access[field])) bad(where, `has an access block without ${field}`)
  }
  for (const o of access.objects!) {
    if (!(o.kind in ACL_KIND) || typeof o.ident !== 'string' || typeof o.owner !== 'string')
      bad(where, `has a malformed access object (${String(o.ident)})`)
    checkAcl(where, o.acl, o.ident)
    for (const c of o.columns ?? []) checkAcl(where, c.acl, `${o.ident}.${c.name}`)
  }
  for (const d of access.defaultAcls!) checkAcl(where, d.acl, `default privileges of ${d.role}`)
}

export function validateRoles(value: unknown, where: string): void {
  if (value === undefined) return
  const roles = value as Partial<ManifestRoles>
  if (typeof roles !== 'object' || roles === null) bad(where, 'has a malformed roles block')
  checkVersion(where, 'roles', roles.version, ROLES_VERSION)
  if (!Array.isArray(roles.roles) || !Array.isArray(roles.memberships) || !Array.isArray(roles.skipped))
    bad(where, 'has a roles block without roles, memberships or skipped')
  for (const r of roles.roles) if (typeof r.name !== 'string') bad(where, 'has a role without a name')
}

/** What a backup's schema step captured next to schema.sql: the manifest's fields and roles.sql. */
export interface StructureCapture {
  schema: SchemaCapture
  access: ManifestAccess
  roles: Omit<ManifestRoles, 'file'>
  rolesSql: string
}
