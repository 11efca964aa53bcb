// The catalog queries behind SchemaCatalog's objects, one per kind, for a server
// version (columns added in later releases are read only where they exist).
import type { ObjectClass } from './catalog-types.ts'

/** Member of an extension: the extension owns it and recreates it. */
export function notExtensionMember(catalog: string, oidExpr: string): string {
  return `NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend xm WHERE xm.classid = 'pg_catalog.${catalog}'::pg_catalog.regclass AND xm.objid = ${oidExpr} AND xm.deptype = 'e')`
}

export function collationIdent(oidExpr: string): string {
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
    WHEN ${c('pg_ts_template')} THEN (SELECT tmplnamespace FROM pg_catalog.pg_ts_template WHERE oid = ${oidExpr})
    WHEN ${c('pg_ts_parser')} THEN (SELECT prsnamespace FROM pg_catalog.pg_ts_parser WHERE oid = ${oidExpr})
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
    ['pg_collation', 'collation'],
    ['pg_ts_config', 'tsconfig'],
    ['pg_ts_dict', 'tsdict'],
  ]
  const whens = pairs.map(([name, label]) => `WHEN 'pg_catalog.${name}'::pg_catalog.regclass THEN '${label}'`)
  return `CASE ${classExpr} ${whens.join(' ')} ELSE 'other' END`
}

/**
 * The selected schemas' collations. The provider's locale moved: colliculocale (15, 16,
 * ICU only), colllocale (17+, ICU and builtin); before 15 an ICU locale sat in collcollate.
 */
function collationQuery(v: number): string {
  const locale = v >= 170000 ? 'co.colllocale' : v >= 150000 ? 'co.colliculocale' : 'co.collcollate'
  const rules = v >= 160000 ? 'co.collicurules' : 'NULL::text'
  return `
      SELECT co.oid, n.nspname AS schema, co.collname AS name, format('%I.%I', n.nspname, co.collname) AS ident,
        pg_get_userbyid(co.collowner) AS owner, co.collprovider::text AS provider,
        co.collisdeterministic AS deterministic,
        CASE WHEN co.collprovider <> 'c' THEN quote_literal(${locale}) END AS locale,
        CASE WHEN co.collprovider = 'c' THEN quote_literal(co.collcollate) END AS "lcCollate",
        CASE WHEN co.collprovider = 'c' THEN quote_literal(co.collctype) END AS "lcCtype",
        quote_literal(${rules}) AS rules,
        quote_literal(obj_description(co.oid, 'pg_collation')) AS comment
      FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace n ON n.oid = co.collnamespace
      WHERE n.nspname = ANY($1::text[]) AND ${notExtensionMember('pg_collation', 'co.oid')}
      ORDER BY co.oid`
}

/** Schemas, extensions, collations and the types of the selected schemas. */
function typeQueries(v: number) {
  const rngmulti = v >= 140000 ? 'r.rngmultitypid' : '0'
  return {
    collations: collationQuery(v),
    schemas: `
      SELECT n.oid, n.nspname AS name, quote_ident(n.nspname) AS ident,
        pg_get_userbyid(n.nspowner) AS owner, n.nspacl::text[] AS acl,
        quote_literal(obj_description(n.oid, 'pg_namespace')) AS comment
      FROM pg_catalog.pg_namespace n WHERE n.nspname = ANY($1::text[]) ORDER BY n.nspname`,
    extensions: `
      SELECT x.oid, x.extname AS name, quote_ident(x.extname) AS ident, n.nspname AS schema,
        quote_ident(n.nspname) AS "schemaIdent", x.extversion AS version
      FROM pg_catalog.pg_extension x JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace ORDER BY x.oid`,
    types: `
      SELECT t.oid, t.typtype, n.nspname AS schema, t.typname AS name,
        format('%I.%I', n.nspname, t.typname) AS ident, t.typrelid,
        pg_get_userbyid(t.typowner) AS owner, t.typacl::text[] AS acl,
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
  }
}

/** Functions and sequences. */
function routineQueries() {
  return {
    functions: `
      SELECT p.oid, p.prokind, n.nspname AS schema, p.proname AS name,
        pg_get_function_identity_arguments(p.oid) AS arguments,
        format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) AS signature,
        p.oid::pg_catalog.regprocedure::text AS regprocedure,
        pg_get_userbyid(p.proowner) AS owner, p.proacl::text[] AS acl,
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
        pg_get_userbyid(c.relowner) AS owner, c.relacl::text[] AS acl,
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
  }
}

/** Tables, views and what hangs on them. */
function relationQueries(v: number) {
  const attgenerated = v >= 120000 ? 'a.attgenerated' : "''"
  const conparent = v >= 110000 ? 'co.conparentid' : '0'
  return {
    relations: `
      SELECT c.oid, c.relkind, n.nspname AS schema, c.relname AS name, format('%I.%I', n.nspname, c.relname) AS ident,
        c.relpersistence AS persistence, c.relispartition AS "isPartition",
        pg_get_userbyid(c.relowner) AS owner, c.relacl::text[] AS acl, c.relispopulated AS populated,
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
      SELECT a.attrelid AS relid, a.attnum, a.attname AS name, quote_ident(a.attname) AS ident,
        a.attacl::text[] AS acl,
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
  }
}

/** Triggers, policies and rules. */
function behaviourQueries(v: number) {
  const tgparent = v >= 130000 ? 't.tgparentid' : '0'
  return {
    triggers: `
      SELECT t.oid, t.tgrelid AS relid, t.tgname AS name, quote_ident(t.tgname) AS ident,
        pg_get_triggerdef(t.oid) AS def, t.tgenabled::text AS enabled, t.tgfoid AS "functionOid",
        (SELECT fn.nspname FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace fn ON fn.oid = p.pronamespace
          WHERE p.oid = t.tgfoid) AS "functionSchema",
        t.tgfoid::pg_catalog.regprocedure::text AS "functionSignature",
        (SELECT pt.tgrelid FROM pg_catalog.pg_trigger pt WHERE pt.oid = ${tgparent}) AS "parentRelid",
        quote_literal(obj_description(t.oid, 'pg_trigger')) AS comment
      FROM pg_catalog.pg_trigger t
      JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT t.tgisinternal AND n.nspname = ANY($1::text[])
      ORDER BY t.oid`,
    policies: `
      SELECT p.oid, p.polrelid AS relid, p.polname AS name, quote_ident(p.polname) AS ident, p.polpermissive AS permissive,
        p.polcmd::text AS command,
        CASE WHEN 0 = ANY(p.polroles) THEN ARRAY['PUBLIC']
          ELSE ARRAY(SELECT quote_ident(r.rolname) FROM pg_catalog.pg_roles r WHERE r.oid = ANY(p.polroles) ORDER BY r.rolname)
        END AS roles,
        ARRAY(SELECT r.rolname::text FROM pg_catalog.pg_roles r WHERE r.oid = ANY(p.polroles) ORDER BY r.rolname) AS "roleNames",
        ARRAY(SELECT CASE WHEN g = 0 THEN 'public' ELSE pg_get_userbyid(g)::text END
          FROM unnest(p.polroles) AS g ORDER BY 1) AS grantees,
        pg_get_expr(p.polqual, p.polrelid) AS using, pg_get_expr(p.polwithcheck, p.polrelid) AS "withCheck",
        quote_literal(obj_description(p.oid, 'pg_policy')) AS comment
      FROM pg_catalog.pg_policy p
      JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1::text[])
      ORDER BY p.oid`,
    rules: `
      SELECT w.oid, w.ev_class AS relid, w.rulename AS name, quote_ident(w.rulename) AS ident,
        (w.rulename = '_RETURN' AND c.relkind IN ('v', 'm')) AS "isViewRule",
        pg_get_ruledef(w.oid) AS def, w.ev_enabled::text AS enabled,
        quote_literal(obj_description(w.oid, 'pg_rewrite')) AS comment
      FROM pg_catalog.pg_rewrite w
      JOIN pg_catalog.pg_class c ON c.oid = w.ev_class
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1::text[])
      ORDER BY w.oid`,
  }
}

/** pg_depend between the selected objects, and what no path recreates. */
function dependencyQueries() {
  return {
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
        SELECT 'operator' AS kind, o.oid::pg_catalog.regoperator::text AS name
          FROM pg_catalog.pg_operator o WHERE o.oprnamespace IN (SELECT oid FROM sel) AND ${notExtensionMember('pg_operator', 'o.oid')}
        UNION ALL SELECT 'operator class', format('%I.%I', n.nspname, o.opcname) FROM pg_catalog.pg_opclass o
          JOIN pg_catalog.pg_namespace n ON n.oid = o.opcnamespace WHERE n.oid IN (SELECT oid FROM sel) AND ${notExtensionMember('pg_opclass', 'o.oid')}
        UNION ALL SELECT 'operator family', format('%I.%I', n.nspname, o.opfname) FROM pg_catalog.pg_opfamily o
          JOIN pg_catalog.pg_namespace n ON n.oid = o.opfnamespace WHERE n.oid IN (SELECT oid FROM sel) AND ${notExtensionMember('pg_opfamily', 'o.oid')}
        UNION ALL SELECT 'text search parser', format('%I.%I', n.nspname, o.prsname) FROM pg_catalog.pg_ts_parser o
          JOIN pg_catalog.pg_namespace n ON n.oid = o.prsnamespace WHERE n.oid IN (SELECT oid FROM sel) AND ${notExtensionMember('pg_ts_parser', 'o.oid')}
        UNION ALL SELECT 'text search template', format('%I.%I', n.nspname, o.tmplname) FROM pg_catalog.pg_ts_template o
          JOIN pg_catalog.pg_namespace n ON n.oid = o.tmplnamespace WHERE n.oid IN (SELECT oid FROM sel) AND ${notExtensionMember('pg_ts_template', 'o.oid')}
        UNION ALL SELECT 'conversion', format('%I.%I', n.nspname, o.conname) FROM pg_catalog.pg_conversion o
          JOIN pg_catalog.pg_namespace n ON n.oid = o.connamespace WHERE n.oid IN (SELECT oid FROM sel) AND ${notExtensionMember('pg_conversion', 'o.oid')}
      ) x GROUP BY kind ORDER BY kind`,
    eventTriggers: `
      SELECT quote_ident(evtname) AS name, pg_get_userbyid(e.evtowner) AS owner FROM pg_catalog.pg_event_trigger e
      WHERE ${notExtensionMember('pg_event_trigger', 'e.oid')} ORDER BY evtname`,
  }
}

/** Every object query, for a server version (columns added later are read only where they exist). */
export function objectQueries(v: number) {
  return {
    ...typeQueries(v),
    ...routineQueries(),
    ...relationQueries(v),
    ...behaviourQueries(v),
    ...dependencyQueries(),
  }
}
