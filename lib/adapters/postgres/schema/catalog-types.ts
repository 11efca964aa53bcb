// The catalog data schema.sql is planned from: plain rows read by schema-catalog.ts in
// the backup's snapshot, consumed by the pure planner (schema-from-catalog.ts).
/** The catalogs an object or a dependency lives in, as the planner distinguishes them. */
export type ObjectClass =
  | 'class'
  | 'type'
  | 'proc'
  | 'constraint'
  | 'attrdef'
  | 'rewrite'
  | 'trigger'
  | 'policy'
  | 'collation'
  | 'tsconfig'
  | 'tsdict'
  | 'other'

// Identifiers (`ident`) are quoted server side (quote_ident / format('%I')) and
// comments arrive as SQL literals (quote_literal), so the planner never quotes.

/** Who owns an object and its ACL exactly as stored (null: the built-in default). */
export interface Owned {
  owner: string
  acl: string[] | null
}

export interface CatalogSchema extends Owned {
  oid: number
  name: string
  ident: string
  comment: string | null
}

export interface CatalogExtension {
  oid: number
  name: string
  ident: string
  schema: string
  schemaIdent: string
  version: string
}

export interface CatalogType extends Owned {
  oid: number
  schema: string
  name: string
  /** e enum, d domain, c composite, r range, m multirange, b base, p pseudo */
  typtype: string
  ident: string
  typrelid: number
  /** Set when this is the array type of another type. */
  arrayOf: number | null
  /** relkind of typrelid (a table's row type has `r`, a composite type `c`). */
  relkind: string | null
  domainBase: string | null
  domainDefault: string | null
  domainNotNull: boolean
  collation: string | null
  enumLabels: string[] | null
  comment: string | null
}

export interface CatalogCollation {
  oid: number
  schema: string
  name: string
  ident: string
  owner: string
  /** c libc, i icu, b builtin (17+) */
  provider: string
  deterministic: boolean
  /** The provider's locale (icu, builtin), as an SQL literal; null for libc. */
  locale: string | null
  /** libc's LC_COLLATE and LC_CTYPE, as SQL literals; null for the other providers. */
  lcCollate: string | null
  lcCtype: string | null
  /** ICU tailoring rules (16+), as an SQL literal. */
  rules: string | null
  comment: string | null
}

/** A text search dictionary: what CREATE TEXT SEARCH DICTIONARY takes back. */
export interface CatalogTsDictionary {
  oid: number
  ident: string
  owner: string
  /** Schema-qualified: an extension's template (unaccent's) lives in the extension's schema. */
  template: string
  /** pg_ts_dict.dictinitoption, `name = 'value', …` as the server wrote it (SQL already). */
  options: string | null
  comment: string | null
}

/** A text search configuration: its parser, and per token type the dictionaries in order. */
export interface CatalogTsConfiguration {
  oid: number
  ident: string
  owner: string
  parser: string
  /** Token types (their parser's aliases, quoted) in token order, dictionaries in mapseqno order. */
  mappings: { token: string; dictionaries: string[] }[]
  comment: string | null
}

export interface CatalogDomainConstraint {
  oid: number
  typid: number
  ident: string
  def: string
  contype: string
}

export interface CatalogRange {
  typid: number
  subtype: string
  opclass: string | null
  collation: string | null
  canonical: string | null
  subdiff: string | null
  multirangeOid: number | null
  multirange: string | null
}

export interface CatalogFunction extends Owned {
  oid: number
  /** f function, p procedure, w window, a aggregate */
  prokind: string
  schema: string
  name: string
  /** pg_get_function_identity_arguments(): `integer, text`. */
  arguments: string
  /** Quoted and qualified, with the identity arguments (names too): `public.f(v integer)`. */
  signature: string
  /** The same as regprocedure prints it, argument types only: `public.f(integer)`. */
  regprocedure: string
  def: string | null
  comment: string | null
}

export interface CatalogSequence extends Owned {
  oid: number
  schema: string
  name: string
  ident: string
  persistence: string
  type: string
  start: string
  increment: string
  min: string
  max: string
  cache: string
  cycle: boolean
  /** `a` owned by a column (serial, OWNED BY), `i` an identity column's sequence. */
  ownerDeptype: string | null
  ownerRelid: number | null
  ownerColumn: string | null
  ownerAttnum: number | null
  comment: string | null
}

export interface CatalogRelation extends Owned {
  oid: number
  /** r table, p partitioned table, v view, m materialized view, f foreign table, c composite */
  relkind: string
  schema: string
  name: string
  ident: string
  persistence: string
  isPartition: boolean
  rowSecurity: boolean
  forceRowSecurity: boolean
  /** d default, n nothing, f full, i index (the index has `replicaIdentity`) */
  replicaIdentity: string
  reloptions: string[] | null
  accessMethod: string | null
  partitionKey: string | null
  partitionBound: string | null
  viewDef: string | null
  /** Materialized views: whether the source has them populated. */
  populated: boolean
  parents: number[]
  reltype: number
  comment: string | null
}

export interface CatalogColumn {
  relid: number
  attnum: number
  name: string
  ident: string
  type: string
  collation: string | null
  notNull: boolean
  /** `a` ALWAYS, `d` BY DEFAULT, `` none */
  identity: string
  /** `s` stored, `v` virtual (PostgreSQL 18), `` none */
  generated: string
  isLocal: boolean
  defaultOid: number | null
  default: string | null
  /** Column privileges (attacl), null when none. */
  acl: string[] | null
  comment: string | null
}

export interface CatalogConstraint {
  oid: number
  relid: number
  contype: string
  ident: string
  def: string
  isLocal: boolean
  indexOid: number | null
  parentRelid: number | null
  comment: string | null
}

export interface CatalogIndex {
  oid: number
  relid: number
  ident: string
  /** Unqualified, for the commands that take an index of the table's schema. */
  name: string
  def: string
  parentIndex: number | null
  constraintOid: number | null
  clustered: boolean
  replicaIdentity: boolean
  comment: string | null
}

export interface CatalogTrigger {
  oid: number
  relid: number
  name: string
  ident: string
  def: string
  enabled: string
  functionOid: number
  functionSchema: string
  functionSignature: string
  parentRelid: number | null
  comment: string | null
}

/** A trigger on a table outside the selected schemas whose function is inside them. */
export interface CatalogOutsideTrigger {
  oid: number
  schema: string
  table: string
  tableIdent: string
  name: string
  ident: string
  def: string
  enabled: string
  functionOid: number
  functionSignature: string
  comment: string | null
}

export interface CatalogPolicy {
  oid: number
  relid: number
  name: string
  ident: string
  permissive: boolean
  command: string
  roles: string[]
  roleNames: string[]
  /** Every role the policy applies to, by name, `public` for PUBLIC (as pg_policies shows). */
  grantees: string[]
  using: string | null
  withCheck: string | null
  comment: string | null
}

export interface CatalogRule {
  oid: number
  relid: number
  name: string
  ident: string
  isViewRule: boolean
  /** pg_get_ruledef(): `CREATE RULE … ;` */
  def: string
  /** O origin (default), D disabled, R replica, A always */
  enabled: string
  comment: string | null
}

/** pg_aggregate, as CREATE AGGREGATE needs it (function names already qualified). */
export interface CatalogAggregate {
  oid: number
  /** n normal, o ordered-set, h hypothetical-set */
  kind: string
  transfn: string
  finalfn: string | null
  combinefn: string | null
  serialfn: string | null
  deserialfn: string | null
  mtransfn: string | null
  minvtransfn: string | null
  mfinalfn: string | null
  finalExtra: boolean
  mfinalExtra: boolean
  /** r read-only, s shareable, w read-write (PostgreSQL 11+) */
  finalModify: string
  mfinalModify: string
  sortop: string | null
  transtype: string
  transspace: number
  mtranstype: string | null
  mtransspace: number
  /** SQL literals (quote_literal), or null. */
  initval: string | null
  minitval: string | null
  /** s safe, r restricted, u unsafe */
  parallel: string
}

export interface CatalogStatistics {
  oid: number
  relid: number
  ident: string
  def: string
  comment: string | null
}

export interface CatalogDefaultAcl {
  role: string
  /** null: the role's defaults in every schema. */
  schema: string | null
  /** r tables, S sequences, f functions, T types, n schemas */
  objtype: string
  acl: string[]
}

export interface CatalogPublication {
  name: string
  owner: string
  allTables: boolean
  insert: boolean
  update: boolean
  delete: boolean
  truncate: boolean
  viaRoot: boolean
  tables: { relid: number; columns: string[] | null; rowFilter: string | null }[]
  schemas: string[]
}

export interface CatalogDependency {
  objClass: ObjectClass
  objid: number
  refClass: ObjectClass
  refObjid: number
  deptype: string
  /** The referenced object lives in a selected schema. */
  refSelected: boolean
  /** The referenced object belongs to this extension. */
  refExtension: number | null
  /** pg_describe_object() of the referenced object, for objects that live in a schema. */
  refDescription: string | null
}

export interface SchemaCatalog {
  serverVersion: string
  serverVersionNum: number
  schemas: CatalogSchema[]
  extensions: CatalogExtension[]
  collations: CatalogCollation[]
  tsDictionaries: CatalogTsDictionary[]
  tsConfigurations: CatalogTsConfiguration[]
  types: CatalogType[]
  domainConstraints: CatalogDomainConstraint[]
  ranges: CatalogRange[]
  functions: CatalogFunction[]
  sequences: CatalogSequence[]
  relations: CatalogRelation[]
  columns: CatalogColumn[]
  constraints: CatalogConstraint[]
  indexes: CatalogIndex[]
  triggers: CatalogTrigger[]
  policies: CatalogPolicy[]
  rules: CatalogRule[]
  aggregates: CatalogAggregate[]
  statistics: CatalogStatistics[]
  outsideTriggers: CatalogOutsideTrigger[]
  dependencies: CatalogDependency[]
  /** Objects in the selected schemas the catalog path does not recreate, by kind (operators, conversions…). */
  unsupported: { kind: string; names: string[] }[]
  eventTriggers: { name: string; owner: string }[]
  /** Default privileges of the selected schemas, and the global ones of roles that own objects there. */
  defaultAcls: CatalogDefaultAcl[]
  /** Publications with a member (or schema) among the selected ones, or FOR ALL TABLES. */
  publications: CatalogPublication[]
}
