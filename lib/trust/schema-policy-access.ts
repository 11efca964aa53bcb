// The allowlist's second half: ALTER TABLE subcommands, ownership, comments, grants,
// default privileges, roles the backup declared, and the few session settings pg_dump
// writes (with the values it writes: a changed encoding would change how the rest parses).
import {
  constant,
  defElems,
  isSystemSchema,
  list,
  obj,
  objectWithArgs,
  type QualifiedName,
  qualified,
  rangeVar,
  roleName,
  str,
  stringList,
  stringNode,
  type Tree,
} from './parse-tree.ts'
import {
  allow,
  type Classification,
  type ObjectKind,
  type Phase,
  type PolicyOptions,
  refuse,
  type Verdict,
  within,
} from './schema-verdict.ts'

const anyValue = () => true
const bool = (v: string) => /^(on|off|true|false|0|1)$/i.test(v)

/** The settings pg_dump (and the catalog generator) write at the top of schema.sql, and the values allowed. */
export const SCHEMA_SETTINGS: Readonly<Record<string, (value: string) => boolean>> = {
  statement_timeout: anyValue,
  lock_timeout: anyValue,
  idle_in_transaction_session_timeout: anyValue,
  transaction_timeout: anyValue,
  client_encoding: (v) => /^utf-?8$/i.test(v),
  standard_conforming_strings: (v) => /^(on|true|1)$/i.test(v),
  check_function_bodies: bool,
  xmloption: (v) => /^(content|document)$/i.test(v),
  client_min_messages: (v) => /^[a-z0-9]+$/i.test(v),
  row_security: bool,
  default_tablespace: (v) => v === '',
  default_table_access_method: (v) => v === 'heap',
  search_path: anyValue,
  default_with_oids: (v) => /^(off|false|0)$/i.test(v),
}

function setting(name: string, value: string): Verdict {
  if (name === 'role' || name === 'session_authorization') {
    return refuse(`SET ${name.toUpperCase().replace('_', ' ')} changes who runs the statements that follow`)
  }
  const check = SCHEMA_SETTINGS[name]
  if (!check) return refuse(`setting ${name} is not one pg_dump writes`)
  if (!check(value)) return refuse(`setting ${name} to "${value.slice(0, 40)}" is not what pg_dump writes`)
  return allow({ kind: 'setting', action: 'set', object: { name }, roles: [], phase: 'any' })
}

function variableSet(node: Tree): Verdict {
  const name = str(node.name) ?? ''
  if (str(node.kind) !== 'VAR_SET_VALUE')
    return refuse(`${str(node.kind)} ${name} is not a setting pg_dump writes`)
  const value = list(node.args)
    .map((a) => String(constant(a) ?? ''))
    .join(', ')
  return setting(name.toLowerCase(), value)
}

/** Only `SELECT pg_catalog.set_config('name', 'value', false)`, as pg_dump writes for search_path. */
function selectSetConfig(node: Tree): Verdict {
  const no = refuse('SELECT runs a query; only pg_catalog.set_config(…) of a pg_dump setting is allowed')
  const extra = Object.keys(node).filter((k) => !['targetList', 'limitOption', 'op'].includes(k))
  const targets = list(node.targetList)
  if (extra.length > 0 || targets.length !== 1) return no
  const call = obj(obj(obj(obj(targets[0])?.ResTarget)?.val)?.FuncCall)
  const name = stringList(call?.funcname)
  const args = list(call?.args)
  const fn = name.join('.')
  if ((fn !== 'pg_catalog.set_config' && fn !== 'set_config') || args.length !== 3) return no
  if (args.some((a) => obj(a)?.A_Const === undefined)) return no
  return setting(String(constant(args[0])).toLowerCase(), String(constant(args[1])))
}

/** ALTER TABLE subcommands pg_dump writes, and where each belongs. */
const TABLE_COMMANDS: Record<string, { phase: Phase; kind?: ObjectKind }> = {
  AT_AddConstraint: { phase: 'any', kind: 'constraint' },
  AT_ValidateConstraint: { phase: 'post-data', kind: 'constraint' },
  AT_AddIdentity: { phase: 'pre-data' },
  AT_SetIdentity: { phase: 'pre-data' },
  AT_ColumnDefault: { phase: 'any' },
  AT_SetNotNull: { phase: 'any' },
  AT_SetStatistics: { phase: 'any' },
  AT_SetStorage: { phase: 'any' },
  AT_SetCompression: { phase: 'any' },
  AT_SetOptions: { phase: 'any' },
  AT_SetRelOptions: { phase: 'any' },
  AT_ReplicaIdentity: { phase: 'any' },
  AT_ClusterOn: { phase: 'post-data' },
  AT_EnableRowSecurity: { phase: 'any', kind: 'policy' },
  AT_ForceRowSecurity: { phase: 'any', kind: 'policy' },
  AT_NoForceRowSecurity: { phase: 'any', kind: 'policy' },
  AT_ChangeOwner: { phase: 'any' },
  AT_AttachPartition: { phase: 'any' },
  AT_AddInherit: { phase: 'pre-data' },
  AT_EnableTrig: { phase: 'post-data', kind: 'trigger' },
  AT_DisableTrig: { phase: 'post-data', kind: 'trigger' },
  AT_EnableAlwaysTrig: { phase: 'post-data', kind: 'trigger' },
  AT_EnableReplicaTrig: { phase: 'post-data', kind: 'trigger' },
  AT_EnableRule: { phase: 'post-data', kind: 'rule' },
  AT_DisableRule: { phase: 'post-data', kind: 'rule' },
  AT_EnableAlwaysRule: { phase: 'post-data', kind: 'rule' },
  AT_EnableReplicaRule: { phase: 'post-data', kind: 'rule' },
}

const RELATION_KINDS: Record<string, ObjectKind> = {
  OBJECT_TABLE: 'table',
  OBJECT_SEQUENCE: 'sequence',
  OBJECT_VIEW: 'view',
  OBJECT_MATVIEW: 'materialized-view',
  OBJECT_INDEX: 'index',
}

const KEY_CONSTRAINTS = new Set(['CONSTR_PRIMARY', 'CONSTR_UNIQUE', 'CONSTR_EXCLUSION', 'CONSTR_FOREIGN'])

function alterTable(node: Tree, options: PolicyOptions): Verdict {
  const relationKind = RELATION_KINDS[str(node.objtype) ?? '']
  if (!relationKind)
    return refuse(
      `ALTER of a ${str(node.objtype)
        ?.replace(/^OBJECT_/, '')
        .toLowerCase()} is not written by pg_dump -n`,
    )
  const relation = rangeVar(node.relation)
  const outside = within(options, relation, `a ${relationKind}`)
  if (outside) return refuse(outside)
  const cmds = list(node.cmds).map((c) => obj(obj(c)?.AlterTableCmd) ?? {})
  const roles: string[] = []
  let facts: Classification | undefined
  for (const cmd of cmds) {
    const subtype = str(cmd.subtype) ?? ''
    const rule = TABLE_COMMANDS[subtype]
    if (!rule)
      return refuse(
        `ALTER ${relationKind.toUpperCase()} ${subtype.replace(/^AT_/, '')} is not written by pg_dump`,
      )
    let phase = rule.phase
    let object: QualifiedName | undefined
    if (subtype === 'AT_ChangeOwner') roles.push(roleName(cmd.newowner) ?? '')
    if (subtype === 'AT_AttachPartition') phase = relationKind === 'index' ? 'post-data' : 'pre-data'
    if (subtype === 'AT_AddConstraint') {
      const constraint = obj(obj(cmd.def)?.Constraint)
      if (KEY_CONSTRAINTS.has(str(constraint?.contype) ?? '')) phase = 'post-data'
      const name = str(constraint?.conname)
      if (name !== undefined)
        object = { ...(relation?.schema === undefined ? {} : { schema: relation.schema }), name }
    }
    const action =
      subtype === 'AT_ChangeOwner' ? 'owner' : subtype === 'AT_AddConstraint' ? 'create' : 'alter'
    facts ??= {
      kind: rule.kind ?? relationKind,
      action,
      ...(object ? { object } : relationKind === 'table' || !relation ? {} : { object: relation }),
      ...(relation && relationKind !== 'index' ? { table: relation } : {}),
      roles,
      phase,
    }
    if (phase === 'post-data') facts.phase = 'post-data'
  }
  return facts ? allow(facts) : refuse('ALTER TABLE without a command')
}

const GRANT_KINDS: Record<string, ObjectKind> = {
  OBJECT_TABLE: 'table',
  OBJECT_SEQUENCE: 'sequence',
  OBJECT_FUNCTION: 'function',
  OBJECT_PROCEDURE: 'procedure',
  OBJECT_ROUTINE: 'function',
  OBJECT_SCHEMA: 'schema',
  OBJECT_TYPE: 'type',
  OBJECT_DOMAIN: 'domain',
}

/** Any of the shapes a statement names its object with. */
function anyName(value: unknown): QualifiedName | undefined {
  const node = obj(value)
  if (!node) return undefined
  if ('RangeVar' in node) return rangeVar(node)
  if ('ObjectWithArgs' in node) return objectWithArgs(node)
  if ('String' in node) return { name: stringNode(node)! }
  if ('List' in node) return qualified(stringList(obj(node.List)?.items))
  if ('TypeName' in node) return qualified(stringList(obj(node.TypeName)?.names))
  return undefined
}

function grant(node: Tree, options: PolicyOptions): Verdict {
  const action = node.is_grant === true ? 'grant' : 'revoke'
  const kind = GRANT_KINDS[str(node.objtype) ?? '']
  const on = str(node.objtype)
    ?.replace(/^OBJECT_/, '')
    .toLowerCase()
  if (!kind) return refuse(`${action.toUpperCase()} on a ${on} reaches beyond the backed-up schemas`)
  if (str(node.targtype) !== 'ACL_TARGET_OBJECT')
    return refuse(`${action.toUpperCase()} … ON ALL … IN SCHEMA is not written by pg_dump`)
  const objects = list(node.objects).map(anyName)
  for (const name of objects) {
    const schema = kind === 'schema' ? name?.name : name?.schema
    if (isSystemSchema(schema))
      return refuse(`${action.toUpperCase()} on ${schema} objects changes the server’s own access`)
    const outside = within(
      options,
      kind === 'schema' ? { schema: name?.name ?? '', name: '' } : name,
      `access to a ${kind}`,
    )
    if (outside) return refuse(outside)
  }
  const first = objects[0]
  const roles = list(node.grantees).map((g) => roleName(g) ?? '')
  return allow({
    kind,
    action,
    ...(first ? { object: first } : {}),
    ...(first && (kind === 'table' || kind === 'sequence') ? { table: first } : {}),
    roles,
    phase: 'any',
  })
}

function grantRole(node: Tree, options: PolicyOptions): Verdict {
  const granted = list(node.granted_roles).map((r) => str(obj(obj(r)?.AccessPriv)?.priv_name) ?? '')
  const grantees = list(node.grantee_roles).map((r) => roleName(r) ?? '')
  const undeclared = [...granted, ...grantees].filter((r) => !options.declaredRoles.has(r))
  if (undeclared.length > 0 || granted.some((r) => r.startsWith('pg_'))) {
    return refuse(
      `it changes role membership of ${[...granted, ...grantees].join(', ')}, which the backup did not declare`,
    )
  }
  return allow({
    kind: 'role',
    action: node.is_grant === true ? 'grant' : 'revoke',
    roles: [...granted, ...grantees],
    phase: 'any',
  })
}

function defaultPrivileges(node: Tree, options: PolicyOptions): Verdict {
  const opts = defElems(node.options)
  const forRoles = list(obj(obj(opts.get('roles'))?.List)?.items).map((r) => roleName(r) ?? '')
  const schemas = stringList(obj(obj(opts.get('schemas'))?.List)?.items)
  for (const schema of schemas) {
    if (isSystemSchema(schema))
      return refuse(`default privileges in ${schema} change the server’s own access`)
    if (options.schemas && !options.schemas.has(schema))
      return refuse(`it changes default privileges in schema ${schema}, which the backup does not hold`)
  }
  const action = obj(node.action)
  const grantees = list(action?.grantees).map((g) => roleName(g) ?? '')
  return allow({
    kind: 'default-privileges',
    action: action?.is_grant === true ? 'grant' : 'revoke',
    ...(schemas.length > 0 ? { object: { name: schemas[0]! } } : {}),
    roles: [...forRoles, ...grantees],
    phase: 'any',
  })
}

const OWNED_KINDS: Record<string, ObjectKind> = {
  ...GRANT_KINDS,
  OBJECT_AGGREGATE: 'aggregate',
  OBJECT_OPERATOR: 'operator',
  OBJECT_OPCLASS: 'operator-class',
  OBJECT_OPFAMILY: 'operator-family',
  OBJECT_PUBLICATION: 'publication',
  OBJECT_STATISTIC_EXT: 'statistics',
  OBJECT_COLLATION: 'collation',
  OBJECT_TSDICTIONARY: 'text-search',
  OBJECT_TSCONFIGURATION: 'text-search',
}

function alterOwner(node: Tree, options: PolicyOptions): Verdict {
  const kind = OWNED_KINDS[str(node.objectType) ?? '']
  if (!kind)
    return refuse(
      `changing the owner of a ${str(node.objectType)
        ?.replace(/^OBJECT_/, '')
        .toLowerCase()} reaches beyond the backup`,
    )
  const object = anyName(node.object)
  const target = kind === 'schema' ? { schema: object?.name ?? '', name: '' } : object
  const outside = within(options, target, `the owner of a ${kind}`)
  if (outside) return refuse(outside)
  return allow({
    kind,
    action: 'owner',
    ...(object ? { object } : {}),
    roles: [roleName(node.newowner) ?? ''],
    phase: 'any',
  })
}

const COMMENT_ON_OTHERS = new Set(['OBJECT_DATABASE', 'OBJECT_ROLE', 'OBJECT_TABLESPACE'])
/** Comments on a part of a table: the object list is schema, table, part. */
const TABLE_PARTS = new Set([
  'OBJECT_COLUMN',
  'OBJECT_TABCONSTRAINT',
  'OBJECT_TRIGGER',
  'OBJECT_POLICY',
  'OBJECT_RULE',
])

function comment(node: Tree, options: PolicyOptions): Verdict {
  const type = str(node.objtype) ?? ''
  if (COMMENT_ON_OTHERS.has(type))
    return refuse(`a comment on a ${type.replace(/^OBJECT_/, '').toLowerCase()} is outside the backup`)
  const parts = stringList(obj(obj(node.object)?.List)?.items)
  const table = TABLE_PARTS.has(type) && parts.length >= 2 ? qualified(parts.slice(0, -1)) : undefined
  const object = table
    ? { ...(table.schema === undefined ? {} : { schema: table.schema }), name: parts.at(-1)! }
    : anyName(node.object)
  const target = type === 'OBJECT_SCHEMA' ? { schema: object?.name ?? '', name: '' } : (table ?? object)
  const outside = type === 'OBJECT_EXTENSION' ? undefined : within(options, target, 'a comment')
  if (outside) return refuse(outside)
  const kind = (OWNED_KINDS[type] ?? (type === 'OBJECT_EXTENSION' ? 'extension' : 'table')) as ObjectKind
  return allow({
    kind,
    action: 'comment',
    ...(object ? { object } : {}),
    ...(table ? { table } : {}),
    roles: [],
    phase: 'any',
  })
}

/** Role options that give no power: anything else (SUPERUSER, LOGIN, a password…) is refused. */
function harmlessRoleOptions(options: unknown): string | undefined {
  for (const [name, value] of defElems(options)) {
    if (name === 'inherit') continue
    if (
      ['superuser', 'createdb', 'createrole', 'canlogin', 'isreplication', 'bypassrls'].includes(name) &&
      value !== undefined &&
      constant(value) === false
    )
      continue
    return `it gives a role ${name === 'canlogin' ? 'LOGIN' : name.toUpperCase()}`
  }
  return undefined
}

function role(type: 'CreateRoleStmt' | 'AlterRoleStmt', node: Tree, options: PolicyOptions): Verdict {
  const name = type === 'CreateRoleStmt' ? str(node.role) : roleName(node.role)
  if (name === undefined || !options.declaredRoles.has(name)) {
    return refuse(
      `it ${type === 'CreateRoleStmt' ? 'creates' : 'changes'} role ${name ?? '?'}, which the backup did not declare`,
    )
  }
  if (type === 'CreateRoleStmt' && str(node.stmt_type) === 'ROLESTMT_USER')
    return refuse('CREATE USER creates a role that can log in')
  const power = harmlessRoleOptions(node.options)
  if (power) return refuse(power)
  return allow({
    kind: 'role',
    action: type === 'CreateRoleStmt' ? 'create' : 'alter',
    object: { name },
    roles: [name],
    phase: 'pre-data',
  })
}

/** The access and session statements; undefined for a node type this half does not know. */
export function classifyAccess(type: string, node: Tree, options: PolicyOptions): Verdict | undefined {
  switch (type) {
    case 'VariableSetStmt':
      return variableSet(node)
    case 'SelectStmt':
      return selectSetConfig(node)
    case 'AlterTableStmt':
      return alterTable(node, options)
    case 'GrantStmt':
      return grant(node, options)
    case 'GrantRoleStmt':
      return grantRole(node, options)
    case 'AlterDefaultPrivilegesStmt':
      return defaultPrivileges(node, options)
    case 'AlterOwnerStmt':
      return alterOwner(node, options)
    case 'CommentStmt':
      return comment(node, options)
    case 'CreateRoleStmt':
    case 'AlterRoleStmt':
      return role(type, node, options)
    default:
      return undefined
  }
}
