// Reads what schema.sql needs from the system catalogs, in the caller's transaction
// (the backup's snapshot), as plain data for the pure planner in schema-from-catalog.ts.
import type pg from 'pg'
import { LifeboatError } from '../../core/errors.ts'

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
  | 'other'

// Identifiers (`ident`) are quoted server side (quote_ident / format('%I')) and
// comments arrive as SQL literals (quote_literal), so the planner never quotes.

export interface CatalogSchema {
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
}

export interface CatalogType {
  oid: number
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

export interface CatalogFunction {
  oid: number
  /** f function, p procedure, w window, a aggregate (aggregates are not recreated) */
  prokind: string
  signature: string
  def: string | null
  comment: string | null
}

export interface CatalogSequence {
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

export interface CatalogRelation {
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
  parents: number[]
  reltype: number
  comment: string | null
}

export interface CatalogColumn {
  relid: number
  attnum: number
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
  ident: string
  def: string
  enabled: string
  parentRelid: number | null
  comment: string | null
}

export interface CatalogPolicy {
  oid: number
  relid: number
  ident: string
  permissive: boolean
  command: string
  roles: string[]
  roleNames: string[]
  using: string | null
  withCheck: string | null
  comment: string | null
}

export interface CatalogRule {
  oid: number
  relid: number
  name: string
  isViewRule: boolean
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
  dependencies: CatalogDependency[]
  /** Objects in the selected schemas no path recreates, by kind (operators, collations…). */
  unsupported: { kind: string; names: string[] }[]
  eventTriggers: string[]
  publications: string[]
  hasPrivileges: boolean
}

// The settings pg_dump pins before deparsing: an empty search_path makes every
// pg_get_*def() and format_type() qualify names; ISO dates and exact floats make
// literals in defaults and checks read back identically on any target.
const PINNED_SETTINGS: Record<string, string> = {
  search_path: '',
  DateStyle: 'ISO',
  IntervalStyle: 'postgres',
  extra_float_digits: '3',
  standard_conforming_strings: 'on',
}

/** Member of an extension: the extension owns it and recreates it. */
function notExtensionMember(catalog: string, oidExpr: string): string {
  return `NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend xm WHERE xm.classid = 'pg_catalog.${catalog}'::pg_catalog.regclass AND xm.objid = ${oidExpr} AND xm.deptype = 'e')`
}

function collationIdent(oidExpr: string): string {
  return `(SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = ${oidExpr})`
}

/** The namespace an object of any class we care about lives in (NULL for others). */
function namespaceOf(classExpr: string, oidExpr: string): string {
  const c = (name: string) => `'pg_catalog.${name}'::pg_catalog.regclass`
  return `CASE ${classExpr}
    WHEN ${c('pg_class')} THEN (SELECT relnamespace FROM pg_catalog.pg_class WHERE oid = ${oidExpr})
    WHEN ${c('pg_type')} THEN (SELECT typnamespace FROM pg_catalog.pg_type WHERE oid = ${oidExpr})
    WHEN ${c('pg_proc')} THEN (SELECT pronamespace FROM pg_catalog.pg_proc WHERE oid = ${oidExpr})
    WHEN ${c('pg_constraint')} THEN (SELECT connamespace FROM pg_catalog.pg_constraint WHERE oid = ${oidExpr})
    WHEN ${c('pg_attrdef')} THEN (SELECT r.relnamespace FROM pg_catalog.pg_attrdef a JOIN pg_catalog.pg_class r ON r.oid = a.adrelid WHERE a.oid = ${oidExpr})
    WHEN ${c('pg_rewrite')} THEN (SELECT r.relnamespace FROM pg_catalog.pg_rewrite w JOIN pg_catalog.pg_class r ON r.oid = w.ev_class WHERE w.oid = ${oidExpr})
    WHEN ${c('pg_trigger')} THEN (SELECT r.relnamespace FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class r ON r.oid = t.tgrelid WHERE t.oid = ${oidExpr})
    WHEN ${c('pg_policy')} THEN (SELECT r.relnamespace FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class r ON r.oid = p.polrelid WHERE p.oid = ${oidExpr})
    WHEN ${c('pg_collation')} THEN (SELECT collnamespace FROM pg_catalog.pg_collation WHERE oid = ${oidExpr})
    WHEN ${c('pg_operator')} THEN (SELECT oprnamespace FROM pg_catalog.pg_operator WHERE oid = ${oidExpr})
    WHEN ${c('pg_opclass')} THEN (SELECT opcnamespace FROM pg_catalog.pg_opclass WHERE oid = ${oidExpr})
    WHEN ${c('pg_opfamily')} THEN (SELECT opfnamespace FROM pg_catalog.pg_opfamily WHERE oid = ${oidExpr})
    WHEN ${c('pg_ts_config')} THEN (SELECT cfgnamespace FROM pg_catalog.pg_ts_config WHERE oid = ${oidExpr})
    WHEN ${c('pg_ts_dict')} THEN (SELECT dictnamespace FROM pg_catalog.pg_ts_dict WHERE oid = ${oidExpr})
    WHEN ${c('pg_statistic_ext')} THEN (SELECT stxnamespace FROM pg_catalog.pg_statistic_ext WHERE oid = ${oidExpr})
  END`
}

function classLabel(classExpr: string): string {
  const pairs: [string, ObjectClass][] = [
    ['pg_class', 'class'],
    ['pg_type', 'type'],
    ['pg_proc', 'proc'],
    ['pg_constraint', 'constraint'],
    ['pg_attrdef', 'attrdef'],
    ['pg_rewrite', 'rewrite'],
    ['pg_trigger', 'trigger'],
    ['pg_policy', 'policy'],
  ]
  const whens = pairs.map(([name, label]) => `WHEN 'pg_catalog.${name}'::pg_catalog.regclass THEN '${label}'`)
  return `CASE ${classExpr} ${whens.join(' ')} ELSE 'other' END`
}

function queries(v: number) {
  // Columns added in later releases are read only where they exist.
  const attgenerated = v >= 120000 ? 'a.attgenerated' : "''"
  const tgparent = v >= 130000 ? 't.tgparentid' : '0'
  const rngmulti = v >= 140000 ? 'r.rngmultitypid' : '0'
  const conparent = v >= 110000 ? 'co.conparentid' : '0'
  return {
    schemas: `
      SELECT n.oid, n.nspname AS name, quote_ident(n.nspname) AS ident,
        quote_literal(obj_description(n.oid, 'pg_namespace')) AS comment
      FROM pg_catalog.pg_namespace n WHERE n.nspname = ANY($1::text[]) ORDER BY n.nspname`,
    extensions: `
      SELECT x.oid, x.extname AS name, quote_ident(x.extname) AS ident, n.nspname AS schema,
        quote_ident(n.nspname) AS "schemaIdent"
      FROM pg_catalog.pg_extension x JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace ORDER BY x.oid`,
    types: `
      SELECT t.oid, t.typtype, format('%I.%I', n.nspname, t.typname) AS ident, t.typrelid,
        ae.oid AS "arrayOf", rc.relkind,
        CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS "domainBase",
        CASE WHEN t.typtype = 'd' THEN pg_get_expr(t.typdefaultbin, 0) END AS "domainDefault",
        t.typnotnull AS "domainNotNull",
        CASE WHEN t.typtype = 'd' AND t.typcollation <> 0 AND t.typcollation <> bt.typcollation
          THEN ${collationIdent('t.typcollation')} END AS collation,
        CASE WHEN t.typtype = 'e' THEN ARRAY(SELECT quote_literal(en.enumlabel) FROM pg_catalog.pg_enum en
          WHERE en.enumtypid = t.oid ORDER BY en.enumsortorder) END AS "enumLabels",
        quote_literal(obj_description(t.oid, 'pg_type')) AS comment
      FROM pg_catalog.pg_type t
      JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
      LEFT JOIN pg_catalog.pg_type ae ON ae.typarray = t.oid
      LEFT JOIN pg_catalog.pg_class rc ON rc.oid = t.typrelid
      LEFT JOIN pg_catalog.pg_type bt ON bt.oid = t.typbasetype
      WHERE n.nspname = ANY($1::text[]) AND ${notExtensionMember('pg_type', 't.oid')}
      ORDER BY t.oid`,
    domainConstraints: `
      SELECT co.oid, co.contypid AS typid, quote_ident(co.conname) AS ident, pg_get_constraintdef(co.oid) AS def, co.contype
      FROM pg_catalog.pg_constraint co JOIN pg_catalog.pg_type t ON t.oid = co.contypid
      JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = ANY($1::text[]) ORDER BY co.contypid, co.conname`,
    ranges: `
      SELECT r.rngtypid AS typid, format_type(r.rngsubtype, NULL) AS subtype,
        CASE WHEN NOT opc.opcdefault THEN format('%I.%I', opn.nspname, opc.opcname) END AS opclass,
        CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation
          THEN ${collationIdent('r.rngcollation')} END AS collation,
        CASE WHEN r.rngcanonical <> 0 THEN r.rngcanonical::pg_catalog.regproc::text END AS canonical,
        CASE WHEN r.rngsubdiff <> 0 THEN r.rngsubdiff::pg_catalog.regproc::text END AS subdiff,
        NULLIF(${rngmulti}, 0)::oid AS "multirangeOid",
        (SELECT format('%I.%I', mn.nspname, mt.typname) FROM pg_catalog.pg_type mt
          JOIN pg_catalog.pg_namespace mn ON mn.oid = mt.typnamespace WHERE mt.oid = ${rngmulti}) AS multirange
      FROM pg_catalog.pg_range r
      JOIN pg_catalog.pg_type t ON t.oid = r.rngtypid
      JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
      JOIN pg_catalog.pg_type st ON st.oid = r.rngsubtype
      JOIN pg_catalog.pg_opclass opc ON opc.oid = r.rngsubopc
      JOIN pg_catalog.pg_namespace opn ON opn.oid = opc.opcnamespace
      WHERE n.nspname = ANY($1::text[])`,
    functions: `
      SELECT p.oid, p.prokind,
        format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) AS signature,
        CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END AS def,
        quote_literal(obj_description(p.oid, 'pg_proc')) AS comment
      FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = ANY($1::text[]) AND ${notExtensionMember('pg_proc', 'p.oid')}
        -- Range and multirange constructors come with their type.
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend i WHERE i.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
          AND i.objid = p.oid AND i.deptype = 'i')
      ORDER BY p.oid`,
    sequences: `
      SELECT c.oid, n.nspname AS schema, c.relname AS name, format('%I.%I', n.nspname, c.relname) AS ident,
        c.relpersistence AS persistence, format_type(s.seqtypid, NULL) AS type,
        s.seqstart::text AS start, s.seqincrement::text AS increment, s.seqmin::text AS min,
        s.seqmax::text AS max, s.seqcache::text AS cache, s.seqcycle AS cycle,
        own.deptype AS "ownerDeptype", own.refobjid AS "ownerRelid", own.refobjsubid AS "ownerAttnum",
        (SELECT quote_ident(a.attname) FROM pg_catalog.pg_attribute a
          WHERE a.attrelid = own.refobjid AND a.attnum = own.refobjsubid) AS "ownerColumn",
        quote_literal(obj_description(c.oid, 'pg_class')) AS comment
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
      LEFT JOIN pg_catalog.pg_depend own ON own.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
        AND own.objid = c.oid AND own.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
        AND own.deptype IN ('a', 'i')
      WHERE c.relkind = 'S' AND n.nspname = ANY($1::text[]) AND ${notExtensionMember('pg_class', 'c.oid')}
      ORDER BY c.oid`,
    relations: `
      SELECT c.oid, c.relkind, n.nspname AS schema, c.relname AS name, format('%I.%I', n.nspname, c.relname) AS ident,
        c.relpersistence AS persistence, c.relispartition AS "isPartition",
        c.relrowsecurity AS "rowSecurity", c.relforcerowsecurity AS "forceRowSecurity",
        c.relreplident::text AS "replicaIdentity",
        c.reloptions, CASE WHEN c.relam <> 0 THEN quote_ident(am.amname) END AS "accessMethod",
        CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS "partitionKey",
        CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS "partitionBound",
        CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS "viewDef",
        ARRAY(SELECT i.inhparent FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid ORDER BY i.inhseqno) AS parents,
        c.reltype,
        quote_literal(obj_description(c.oid, 'pg_class')) AS comment
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c') AND n.nspname = ANY($1::text[])
        AND ${notExtensionMember('pg_class', 'c.oid')}
      ORDER BY c.oid`,
    columns: `
      SELECT a.attrelid AS relid, a.attnum, quote_ident(a.attname) AS ident,
        format_type(a.atttypid, a.atttypmod) AS type,
        CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
          THEN ${collationIdent('a.attcollation')} END AS collation,
        a.attnotnull AS "notNull", a.attidentity AS identity, ${attgenerated} AS generated,
        a.attislocal AS "isLocal", d.oid AS "defaultOid", pg_get_expr(d.adbin, d.adrelid) AS default,
        quote_literal(col_description(a.attrelid, a.attnum)) AS comment
      FROM pg_catalog.pg_attribute a
      JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c') AND n.nspname = ANY($1::text[])
        AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attrelid, a.attnum`,
    constraints: `
      SELECT co.oid, co.conrelid AS relid, co.contype, quote_ident(co.conname) AS ident,
        pg_get_constraintdef(co.oid) AS def, co.conislocal AS "isLocal", NULLIF(co.conindid, 0) AS "indexOid",
        pco.conrelid AS "parentRelid",
        quote_literal(obj_description(co.oid, 'pg_constraint')) AS comment
      FROM pg_catalog.pg_constraint co
      JOIN pg_catalog.pg_class c ON c.oid = co.conrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_catalog.pg_constraint pco ON pco.oid = ${conparent}
      WHERE co.contype IN ('p', 'u', 'c', 'f', 'x') AND n.nspname = ANY($1::text[])
      ORDER BY co.oid`,
    indexes: `
      SELECT i.indexrelid AS oid, i.indrelid AS relid, format('%I.%I', n.nspname, ic.relname) AS ident,
        quote_ident(ic.relname) AS name,
        pg_get_indexdef(i.indexrelid) AS def,
        (SELECT inh.inhparent FROM pg_catalog.pg_inherits inh WHERE inh.inhrelid = i.indexrelid LIMIT 1) AS "parentIndex",
        (SELECT co.oid FROM pg_catalog.pg_constraint co WHERE co.conindid = i.indexrelid
          AND co.conrelid = i.indrelid AND co.contype IN ('p', 'u', 'x') LIMIT 1) AS "constraintOid",
        i.indisclustered AS clustered, i.indisreplident AS "replicaIdentity",
        quote_literal(obj_description(i.indexrelid, 'pg_class')) AS comment
      FROM pg_catalog.pg_index i
      JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
      JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1::text[]) AND ${notExtensionMember('pg_class', 'i.indexrelid')}
      ORDER BY i.indexrelid`,
    triggers: `
      SELECT t.oid, t.tgrelid AS relid, quote_ident(t.tgname) AS ident, pg_get_triggerdef(t.oid) AS def,
        t.tgenabled::text AS enabled,
        (SELECT pt.tgrelid FROM pg_catalog.pg_trigger pt WHERE pt.oid = ${tgparent}) AS "parentRelid",
        quote_literal(obj_description(t.oid, 'pg_trigger')) AS comment
      FROM pg_catalog.pg_trigger t
      JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT t.tgisinternal AND n.nspname = ANY($1::text[])
      ORDER BY t.oid`,
    policies: `
      SELECT p.oid, p.polrelid AS relid, quote_ident(p.polname) AS ident, p.polpermissive AS permissive,
        p.polcmd::text AS command,
        CASE WHEN 0 = ANY(p.polroles) THEN ARRAY['PUBLIC']
          ELSE ARRAY(SELECT quote_ident(r.rolname) FROM pg_catalog.pg_roles r WHERE r.oid = ANY(p.polroles) ORDER BY r.rolname)
        END AS roles,
        ARRAY(SELECT r.rolname::text FROM pg_catalog.pg_roles r WHERE r.oid = ANY(p.polroles) ORDER BY r.rolname) AS "roleNames",
        pg_get_expr(p.polqual, p.polrelid) AS using, pg_get_expr(p.polwithcheck, p.polrelid) AS "withCheck",
        quote_literal(obj_description(p.oid, 'pg_policy')) AS comment
      FROM pg_catalog.pg_policy p
      JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1::text[])
      ORDER BY p.oid`,
    rules: `
      SELECT w.oid, w.ev_class AS relid, w.rulename AS name, (w.rulename = '_RETURN' AND c.relkind IN ('v', 'm')) AS "isViewRule"
      FROM pg_catalog.pg_rewrite w
      JOIN pg_catalog.pg_class c ON c.oid = w.ev_class
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1::text[])
      ORDER BY w.oid`,
    dependencies: `
      WITH sel AS (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = ANY($1::text[])),
      members AS (
        SELECT m.classid, m.objid, m.refobjid AS ext FROM pg_catalog.pg_depend m
        WHERE m.deptype = 'e' AND m.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
        UNION ALL
        SELECT m.classid, t.typarray, m.refobjid FROM pg_catalog.pg_depend m
        JOIN pg_catalog.pg_type t ON t.oid = m.objid
        WHERE m.deptype = 'e' AND m.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND t.typarray <> 0
      ),
      d AS (
        SELECT d.classid, d.objid, d.refclassid, d.refobjid, d.refobjsubid, d.deptype,
          ${namespaceOf('d.classid', 'd.objid')} AS nsp,
          ${namespaceOf('d.refclassid', 'd.refobjid')} AS refnsp
        FROM pg_catalog.pg_depend d
        WHERE d.deptype IN ('n', 'a', 'i', 'P', 'S') AND d.objid >= 16384 AND d.refobjid >= 16384
      )
      SELECT ${classLabel('d.classid')} AS "objClass", d.objid, ${classLabel('d.refclassid')} AS "refClass",
        d.refobjid AS "refObjid", d.deptype::text AS deptype,
        COALESCE(d.refnsp IN (SELECT oid FROM sel), false) AS "refSelected",
        (SELECT mb.ext FROM members mb WHERE mb.classid = d.refclassid AND mb.objid = d.refobjid LIMIT 1) AS "refExtension",
        CASE WHEN d.refnsp IS NOT NULL THEN pg_describe_object(d.refclassid, d.refobjid, 0) END AS "refDescription"
      FROM d WHERE d.nsp IN (SELECT oid FROM sel)`,
    unsupported: `
      WITH sel AS (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = ANY($1::text[]))
      SELECT kind, array_agg(name ORDER BY name) AS names FROM (
        SELECT 'operator' AS kind, pg_describe_object('pg_catalog.pg_operator'::pg_catalog.regclass, o.oid, 0) AS name
          FROM pg_catalog.pg_operator o WHERE o.oprnamespace IN (SELECT oid FROM sel) AND ${notExtensionMember('pg_operator', 'o.oid')}
        UNION ALL SELECT 'operator class', format('%I.%I', n.nspname, o.opcname) FROM pg_catalog.pg_opclass o
          JOIN pg_catalog.pg_namespace n ON n.oid = o.opcnamespace WHERE n.oid IN (SELECT oid FROM sel) AND ${notExtensionMember('pg_opclass', 'o.oid')}
        UNION ALL SELECT 'operator family', format('%I.%I', n.nspname, o.opfname) FROM pg_catalog.pg_opfamily o
          JOIN pg_catalog.pg_namespace n ON n.oid = o.opfnamespace WHERE n.oid IN (SELECT oid FROM sel) AND ${notExtensionMember('pg_opfamily', 'o.oid')}
        UNION ALL SELECT 'collation', format('%I.%I', n.nspname, o.collname) FROM pg_catalog.pg_collation o
          JOIN pg_catalog.pg_namespace n ON n.oid = o.collnamespace WHERE n.oid IN (SELECT oid FROM sel) AND ${notExtensionMember('pg_collation', 'o.oid')}
        UNION ALL SELECT 'text search configuration', format('%I.%I', n.nspname, o.cfgname) FROM pg_catalog.pg_ts_config o
          JOIN pg_catalog.pg_namespace n ON n.oid = o.cfgnamespace WHERE n.oid IN (SELECT oid FROM sel) AND ${notExtensionMember('pg_ts_config', 'o.oid')}
        UNION ALL SELECT 'text search dictionary', format('%I.%I', n.nspname, o.dictname) FROM pg_catalog.pg_ts_dict o
          JOIN pg_catalog.pg_namespace n ON n.oid = o.dictnamespace WHERE n.oid IN (SELECT oid FROM sel) AND ${notExtensionMember('pg_ts_dict', 'o.oid')}
        UNION ALL SELECT 'conversion', format('%I.%I', n.nspname, o.conname) FROM pg_catalog.pg_conversion o
          JOIN pg_catalog.pg_namespace n ON n.oid = o.connamespace WHERE n.oid IN (SELECT oid FROM sel) AND ${notExtensionMember('pg_conversion', 'o.oid')}
        UNION ALL SELECT 'statistics object', format('%I.%I', n.nspname, o.stxname) FROM pg_catalog.pg_statistic_ext o
          JOIN pg_catalog.pg_namespace n ON n.oid = o.stxnamespace WHERE n.oid IN (SELECT oid FROM sel)
      ) x GROUP BY kind ORDER BY kind`,
    eventTriggers: `
      SELECT quote_ident(evtname) AS name FROM pg_catalog.pg_event_trigger e
      WHERE ${notExtensionMember('pg_event_trigger', 'e.oid')} ORDER BY evtname`,
    publications: `
      SELECT DISTINCT quote_ident(pubname) AS name FROM pg_catalog.pg_publication_tables
      WHERE schemaname = ANY($1::text[]) ORDER BY 1`,
    privileges: `
      WITH sel AS (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = ANY($1::text[]))
      SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE relnamespace IN (SELECT oid FROM sel)
          AND relacl IS DISTINCT FROM NULL AND relacl <> acldefault((CASE relkind WHEN 'S' THEN 's' ELSE 'r' END)::"char", relowner))
        OR EXISTS (SELECT 1 FROM pg_catalog.pg_proc WHERE pronamespace IN (SELECT oid FROM sel)
          AND proacl IS DISTINCT FROM NULL AND proacl <> acldefault('f'::"char", proowner))
        OR EXISTS (SELECT 1 FROM pg_catalog.pg_type WHERE typnamespace IN (SELECT oid FROM sel)
          AND typacl IS DISTINCT FROM NULL AND typacl <> acldefault('T'::"char", typowner))
        -- public's own grants are the database's default, not something the backup changed.
        OR EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE oid IN (SELECT oid FROM sel) AND nspname <> 'public'
          AND nspacl IS DISTINCT FROM NULL AND nspacl <> acldefault('n'::"char", nspowner))
        OR EXISTS (SELECT 1 FROM pg_catalog.pg_default_acl WHERE defaclnamespace IN (SELECT oid FROM sel))
        AS "hasPrivileges"`,
  }
}

async function withPinnedSettings<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T> {
  const names = Object.keys(PINNED_SETTINGS)
  const saved = await client.query<{ name: string; value: string }>(
    'SELECT n AS name, current_setting(n) AS value FROM unnest($1::text[]) AS n',
    [names],
  )
  // Session-level, restored afterwards: works with or without the caller's transaction
  // (a transaction that aborts takes the change back with it anyway).
  const pin = 'SELECT set_config(n, v, false) FROM unnest($1::text[], $2::text[]) AS s(n, v)'
  await client.query(pin, [names, names.map((n) => PINNED_SETTINGS[n])])
  try {
    return await work()
  } finally {
    await client
      .query(pin, [saved.rows.map((r) => r.name), saved.rows.map((r) => r.value)])
      .catch(() => undefined)
  }
}

/**
 * Reads the selected schemas' objects. Runs only SELECTs and transaction-local
 * settings, so it is safe inside a REPEATABLE READ READ ONLY snapshot transaction.
 * (As with pg_dump, the pg_get_*def() functions read the current catalogs, not the
 * snapshot: DDL committed during the backup may show.)
 */
export async function readSchemaCatalog(
  client: pg.ClientBase,
  schemas: readonly string[],
): Promise<SchemaCatalog> {
  try {
    return await withPinnedSettings(client, async () => {
      const version = await client.query<{ v: string; n: string }>(
        "SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n",
      )
      const serverVersion = version.rows[0]!.v
      const serverVersionNum = Number(version.rows[0]!.n)
      const q = queries(serverVersionNum)
      const args = [schemas]
      const rows = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = args) =>
        (await client.query<T>(text, values)).rows
      // One statement at a time: a client runs queries sequentially anyway.
      const catalog: SchemaCatalog = {
        serverVersion,
        serverVersionNum,
        schemas: await rows<CatalogSchema>(q.schemas),
        extensions: await rows<CatalogExtension>(q.extensions, []),
        types: await rows<CatalogType>(q.types),
        domainConstraints: await rows<CatalogDomainConstraint>(q.domainConstraints),
        ranges: await rows<CatalogRange>(q.ranges),
        functions: await rows<CatalogFunction>(q.functions),
        sequences: await rows<CatalogSequence>(q.sequences),
        relations: await rows<CatalogRelation>(q.relations),
        columns: await rows<CatalogColumn>(q.columns),
        constraints: await rows<CatalogConstraint>(q.constraints),
        indexes: await rows<CatalogIndex>(q.indexes),
        triggers: await rows<CatalogTrigger>(q.triggers),
        policies: await rows<CatalogPolicy>(q.policies),
        rules: await rows<CatalogRule>(q.rules),
        dependencies: await rows<CatalogDependency>(q.dependencies),
        unsupported: await rows<{ kind: string; names: string[] }>(q.unsupported),
        eventTriggers: (await rows<{ name: string }>(q.eventTriggers, [])).map((r) => r.name),
        publications: (await rows<{ name: string }>(q.publications)).map((r) => r.name),
        hasPrivileges: (await rows<{ hasPrivileges: boolean }>(q.privileges))[0]?.hasPrivileges ?? false,
      }
      return catalog
    })
  } catch (error) {
    throw new LifeboatError(
      'DB_QUERY',
      `reading the catalogs for schema.sql failed: ${(error as Error).message}`,
      {
        cause: error,
      },
    )
  }
}
