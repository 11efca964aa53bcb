// The schema step's allowlist: which parsed statements schema.sql may hold (the DDL
// pg_dump --schema-only and the catalog generator write) and what each is about. Pure;
// anything not named here is refused, with a reason a person can act on.
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
  type Tree,
} from './parse-tree.ts'
import { classifyAccess } from './schema-policy-access.ts'
import { REFUSED } from './schema-refusals.ts'
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

function create(
  options: PolicyOptions,
  facts: Omit<Classification, 'action' | 'roles'> & { roles?: string[] },
): Verdict {
  const outside = within(options, facts.object ?? facts.table, facts.kind)
  return outside ? refuse(outside) : allow({ action: 'create', roles: [], ...facts })
}

function createFunction(node: Tree, options: PolicyOptions): Verdict {
  const object = qualified(stringList(node.funcname))
  const opts = defElems(node.options)
  const language = String(constant(opts.get('language')) ?? 'sql').toLowerCase()
  if (!options.languages.has(language)) {
    return refuse(
      `functions in language ${language} run server code that is not checked; allowed: ${[...options.languages].join(', ')}`,
    )
  }
  const kind = node.is_procedure === true ? 'procedure' : 'function'
  return create(options, {
    kind,
    object,
    phase: 'any',
    securityDefiner: constant(opts.get('security')) === true,
  })
}

function define(node: Tree, options: PolicyOptions): Verdict {
  const object = qualified(stringList(node.defnames))
  const kinds: Record<string, ObjectKind> = {
    OBJECT_AGGREGATE: 'aggregate',
    OBJECT_OPERATOR: 'operator',
    OBJECT_TYPE: 'type',
    OBJECT_COLLATION: 'collation',
    OBJECT_TSPARSER: 'text-search',
    OBJECT_TSDICTIONARY: 'text-search',
    OBJECT_TSTEMPLATE: 'text-search',
    OBJECT_TSCONFIGURATION: 'text-search',
  }
  const kind = kinds[str(node.kind) ?? '']
  if (!kind) return refuse(`CREATE ${str(node.kind)} is not written by pg_dump -n`)
  // A base type (CREATE TYPE … (INPUT = …)) needs C functions: refused with them.
  return create(options, { kind, object, phase: 'pre-data' })
}

/** ALTER TEXT SEARCH CONFIGURATION … ADD MAPPING, the only form pg_dump and the catalog path write. */
function alterTsConfiguration(node: Tree, options: PolicyOptions): Verdict {
  if (str(node.kind) !== 'ALTER_TSCONFIG_ADD_MAPPING')
    return refuse('ALTER TEXT SEARCH CONFIGURATION other than ADD MAPPING is not written by pg_dump')
  const object = qualified(stringList(node.cfgname))
  const outside = within(options, object, 'a text search configuration')
  if (outside) return refuse(outside)
  return allow({
    kind: 'text-search',
    action: 'alter',
    ...(object ? { object } : {}),
    roles: [],
    phase: 'pre-data',
  })
}

function createTableAs(node: Tree, options: PolicyOptions): Verdict {
  const into = obj(node.into)
  if (str(node.objtype) !== 'OBJECT_MATVIEW')
    return refuse('CREATE TABLE … AS runs a query and writes its rows')
  if (into?.skipData !== true)
    return refuse('a materialized view created WITH DATA runs its query now; pg_dump writes WITH NO DATA')
  return create(options, { kind: 'materialized-view', object: rangeVar(into.rel), phase: 'pre-data' })
}

function createSchema(node: Tree, options: PolicyOptions): Verdict {
  if (list(node.schemaElts).length > 0)
    return refuse('CREATE SCHEMA with elements inside is not written by pg_dump')
  const name = str(node.schemaname)
  const roles = node.authrole ? [roleName(node.authrole) ?? ''] : []
  if (name !== undefined && isSystemSchema(name)) return refuse(`it creates the system schema ${name}`)
  // An empty schema hurts nobody: extension schemas outside the backup's are created too.
  if (options.schemas && name !== undefined && !options.schemas.has(name) && node.if_not_exists !== true) {
    return refuse(`it creates schema ${name}, which the backup does not hold`)
  }
  return allow({
    kind: 'schema',
    action: 'create',
    object: name === undefined ? undefined : { name },
    roles,
    phase: 'pre-data',
  })
}

function createExtension(node: Tree, options: PolicyOptions): Verdict {
  const name = str(node.extname) ?? ''
  if (!options.extensions.has(name)) {
    return refuse(
      `extension ${name} is not among the allowed extensions (${[...options.extensions].sort().join(', ') || 'none'})`,
    )
  }
  const schema = str(constant(defElems(node.options).get('schema')))
  return allow({
    kind: 'extension',
    action: 'create',
    object: schema === undefined ? { name } : { schema, name },
    roles: [],
    phase: 'pre-data',
  })
}

function createTrigger(node: Tree, options: PolicyOptions): Verdict {
  const table = rangeVar(node.relation)
  const outside = within(options, table, 'a trigger')
  if (outside) return refuse(outside)
  const name = str(node.trigname) ?? ''
  return allow({
    kind: 'trigger',
    action: 'create',
    object: { ...(table?.schema === undefined ? {} : { schema: table.schema }), name },
    ...(table ? { table } : {}),
    roles: [],
    phase: 'post-data',
  })
}

function onTable(
  kind: ObjectKind,
  table: QualifiedName | undefined,
  name: string | undefined,
  phase: Phase,
  options: PolicyOptions,
  roles: string[] = [],
): Verdict {
  const outside = within(options, table, `a ${kind}`)
  if (outside) return refuse(outside)
  const object =
    name === undefined
      ? undefined
      : { ...(table?.schema === undefined ? {} : { schema: table.schema }), name }
  return allow({
    kind,
    action: 'create',
    ...(object ? { object } : {}),
    ...(table ? { table } : {}),
    roles,
    phase,
  })
}

type Handler = (node: Tree, options: PolicyOptions) => Verdict

const HANDLERS: Record<string, Handler> = {
  CreateSchemaStmt: createSchema,
  CreateExtensionStmt: createExtension,
  CreateFunctionStmt: createFunction,
  DefineStmt: define,
  AlterTSConfigurationStmt: alterTsConfiguration,
  CreateTableAsStmt: createTableAs,
  CreateTrigStmt: createTrigger,
  CreateStmt: (n, o) => create(o, { kind: 'table', object: rangeVar(n.relation), phase: 'pre-data' }),
  CreateSeqStmt: (n, o) => create(o, { kind: 'sequence', object: rangeVar(n.sequence), phase: 'pre-data' }),
  CompositeTypeStmt: (n, o) => create(o, { kind: 'type', object: rangeVar(n.typevar), phase: 'pre-data' }),
  CreateEnumStmt: (n, o) =>
    create(o, { kind: 'type', object: qualified(stringList(n.typeName)), phase: 'pre-data' }),
  CreateRangeStmt: (n, o) =>
    create(o, { kind: 'type', object: qualified(stringList(n.typeName)), phase: 'pre-data' }),
  CreateDomainStmt: (n, o) =>
    create(o, { kind: 'domain', object: qualified(stringList(n.domainname)), phase: 'pre-data' }),
  CreateOpClassStmt: (n, o) =>
    create(o, { kind: 'operator-class', object: qualified(stringList(n.opclassname)), phase: 'pre-data' }),
  CreateOpFamilyStmt: (n, o) =>
    create(o, { kind: 'operator-family', object: qualified(stringList(n.opfamilyname)), phase: 'pre-data' }),
  AlterOpFamilyStmt: (n, o) =>
    create(o, { kind: 'operator-family', object: qualified(stringList(n.opfamilyname)), phase: 'pre-data' }),
  ViewStmt: (n, o) => create(o, { kind: 'view', object: rangeVar(n.view), phase: 'any' }),
  IndexStmt: (n, o) =>
    n.concurrent === true
      ? refuse('CREATE INDEX CONCURRENTLY cannot run inside the restore’s transaction')
      : onTable('index', rangeVar(n.relation), str(n.idxname), 'post-data', o),
  RuleStmt: (n, o) => onTable('rule', rangeVar(n.relation), str(n.rulename), 'post-data', o),
  CreatePolicyStmt: (n, o) =>
    onTable(
      'policy',
      rangeVar(n.table),
      str(n.policy_name),
      'post-data',
      o,
      list(n.roles).map((r) => roleName(r) ?? ''),
    ),
  AlterPolicyStmt: (n, o) =>
    onTable(
      'policy',
      rangeVar(n.table),
      str(n.policy_name),
      'post-data',
      o,
      list(n.roles).map((r) => roleName(r) ?? ''),
    ),
  CreateStatsStmt: (n, o) => {
    const table = rangeVar(list(n.relations)[0])
    const verdict = onTable('statistics', table, qualified(stringList(n.defnames))?.name, 'post-data', o)
    return verdict
  },
  AlterSeqStmt: (n, o) => {
    const options = defElems(n.options)
    if ([...options.keys()].some((k) => k !== 'owned_by'))
      return refuse('ALTER SEQUENCE other than OWNED BY is not written by pg_dump -n')
    const owner = stringList(
      obj(options.get('owned_by'))?.List ? obj(obj(options.get('owned_by'))?.List)?.items : [],
    )
    const sequence = rangeVar(n.sequence)
    const outside = within(o, sequence, 'a sequence')
    if (outside) return refuse(outside)
    const table = owner.length >= 2 ? qualified(owner.slice(0, -1)) : undefined
    return allow({
      kind: 'sequence',
      action: 'alter',
      ...(sequence ? { object: sequence } : {}),
      ...(table ? { table } : {}),
      roles: [],
      phase: 'any',
    })
  },
  AlterDomainStmt: (n, o) => {
    const domain = qualified(stringList(n.typeName))
    if (str(n.subtype) !== 'C' && str(n.subtype) !== 'V')
      return refuse('ALTER DOMAIN other than ADD or VALIDATE CONSTRAINT is not written by pg_dump')
    const outside = within(o, domain, 'a domain')
    return outside
      ? refuse(outside)
      : allow({
          kind: 'domain',
          action: 'alter',
          ...(domain ? { object: domain } : {}),
          roles: [],
          phase: 'any',
        })
  },
  AlterEnumStmt: (n, o) => {
    if (str(n.oldVal) !== undefined) return refuse('renaming an enum value is not written by pg_dump')
    const type = qualified(stringList(n.typeName))
    const outside = within(o, type, 'a type')
    return outside
      ? refuse(outside)
      : allow({
          kind: 'type',
          action: 'alter',
          ...(type ? { object: type } : {}),
          roles: [],
          phase: 'pre-data',
        })
  },
  CreatePublicationStmt: (n, o) => {
    if (n.for_all_tables === true)
      return refuse('a publication FOR ALL TABLES publishes every table of the database')
    const name = str(n.pubname)
    const tables = list(n.pubobjects).map((p) =>
      rangeVar(obj(obj(obj(p)?.PublicationObjSpec)?.pubtable)?.relation),
    )
    for (const table of tables) {
      const outside = within(o, table, 'a publication')
      if (outside) return refuse(outside)
    }
    return allow({
      kind: 'publication',
      action: 'create',
      ...(name ? { object: { name } } : {}),
      roles: [],
      phase: 'post-data',
    })
  },
  AlterPublicationStmt: (n, o) => {
    if (str(n.action) !== 'AP_AddObjects') return refuse('only ALTER PUBLICATION … ADD is written by pg_dump')
    const specs = list(n.pubobjects).map((p) => obj(obj(p)?.PublicationObjSpec))
    if (specs.some((s) => str(s?.pubobjtype) !== 'PUBLICATIONOBJ_TABLE')) {
      return refuse('a publication of whole schemas is not written by pg_dump -n')
    }
    const table = rangeVar(obj(specs[0]?.pubtable)?.relation)
    const outside = within(o, table, 'a publication')
    if (outside) return refuse(outside)
    const name = str(n.pubname)
    return allow({
      kind: 'publication',
      action: 'alter',
      ...(name ? { object: { name } } : {}),
      ...(table ? { table } : {}),
      roles: [],
      phase: 'post-data',
    })
  },
  AlterObjectDependsStmt: (n, o) => {
    const target = objectWithArgs(n.object) ?? qualified(stringList(obj(obj(n.object)?.List)?.items))
    const outside = within(o, target, 'an object')
    return outside
      ? refuse(outside)
      : allow({
          kind: 'function',
          action: 'alter',
          ...(target ? { object: target } : {}),
          roles: [],
          phase: 'any',
        })
  },
}

/**
 * Decides one parsed statement: allowed (with what it is about) or refused (with why).
 * The statement's node type is the parse tree's, e.g. `CreateStmt` for CREATE TABLE.
 */
export function classifyStatement(type: string, node: Tree, options: PolicyOptions): Verdict {
  const refusedWhy = REFUSED[type]
  if (refusedWhy) return refuse(refinedReason(type, node) ?? refusedWhy)
  const handler = HANDLERS[type]
  if (handler) return handler(node, options)
  return classifyAccess(type, node, options) ?? refuse(`${type} is not a statement the schema step runs`)
}

/** A sharper reason where the node says more (COPY … PROGRAM, ROLLBACK TO SAVEPOINT). */
function refinedReason(type: string, node: Tree): string | undefined {
  if (type === 'CopyStmt' && node.is_program === true)
    return 'COPY … PROGRAM runs a shell command on the database server'
  if (type === 'TransactionStmt') {
    const kind = str(node.kind)
      ?.replace(/^TRANS_STMT_/, '')
      .replaceAll('_', ' ')
    return `transaction control (${kind}${node.chain === true ? ' AND CHAIN' : ''}) would end or split the restore’s transaction`
  }
  return undefined
}
