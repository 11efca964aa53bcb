// Catalog queries for what schema.sql recreates beyond tables and their columns:
// text search dictionaries and configurations, aggregates, extended statistics, triggers
// the selected functions put on other tables, default privileges and publications.
import { notExtensionMember } from './catalog-queries.ts'

/**
 * The selected schemas' own text search dictionaries and configurations. Every name
 * comes qualified (format('%I.%I')): a template or dictionary of an extension lives in
 * the extension's schema, which need not be on any search_path at restore.
 */
function textSearchQueries() {
  const qualified = (ns: string, name: string) => `format('%I.%I', ${ns}.nspname, ${name})`
  return {
    tsDictionaries: `
      SELECT d.oid, ${qualified('n', 'd.dictname')} AS ident, pg_get_userbyid(d.dictowner) AS owner,
        ${qualified('tn', 't.tmplname')} AS template, d.dictinitoption AS options,
        quote_literal(obj_description(d.oid, 'pg_ts_dict')) AS comment
      FROM pg_catalog.pg_ts_dict d
      JOIN pg_catalog.pg_namespace n ON n.oid = d.dictnamespace
      JOIN pg_catalog.pg_ts_template t ON t.oid = d.dicttemplate
      JOIN pg_catalog.pg_namespace tn ON tn.oid = t.tmplnamespace
      WHERE n.nspname = ANY($1::text[]) AND ${notExtensionMember('pg_ts_dict', 'd.oid')}
      ORDER BY d.oid`,
    // Token types are stored as numbers; ts_token_type() gives the parser's alias for each.
    tsConfigurations: `
      SELECT c.oid, ${qualified('n', 'c.cfgname')} AS ident, pg_get_userbyid(c.cfgowner) AS owner,
        ${qualified('pn', 'p.prsname')} AS parser,
        COALESCE((SELECT json_agg(json_build_object('token', quote_ident(m.alias), 'dictionaries', m.dictionaries)
            ORDER BY m.tokid)
          FROM (SELECT cm.maptokentype AS tokid, tt.alias,
              array_agg(${qualified('dn', 'dd.dictname')} ORDER BY cm.mapseqno) AS dictionaries
            FROM pg_catalog.pg_ts_config_map cm
            JOIN pg_catalog.ts_token_type(c.cfgparser) tt ON tt.tokid = cm.maptokentype
            JOIN pg_catalog.pg_ts_dict dd ON dd.oid = cm.mapdict
            JOIN pg_catalog.pg_namespace dn ON dn.oid = dd.dictnamespace
            WHERE cm.mapcfg = c.oid GROUP BY cm.maptokentype, tt.alias) m), '[]') AS mappings,
        quote_literal(obj_description(c.oid, 'pg_ts_config')) AS comment
      FROM pg_catalog.pg_ts_config c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.cfgnamespace
      JOIN pg_catalog.pg_ts_parser p ON p.oid = c.cfgparser
      JOIN pg_catalog.pg_namespace pn ON pn.oid = p.prsnamespace
      WHERE n.nspname = ANY($1::text[]) AND ${notExtensionMember('pg_ts_config', 'c.oid')}
      ORDER BY c.oid`,
  }
}

/** Aggregates, extended statistics, and triggers on tables outside the selected schemas. */
function objectMoreQueries(v: number) {
  const finalModify = v >= 110000 ? 'a.aggfinalmodify::text' : "'r'"
  const mfinalModify = v >= 110000 ? 'a.aggmfinalmodify::text' : "'r'"
  // A function's name as CREATE AGGREGATE takes it: qualified, no arguments.
  const fn = (column: string) =>
    `(SELECT format('%I.%I', fn.nspname, fp.proname) FROM pg_catalog.pg_proc fp
       JOIN pg_catalog.pg_namespace fn ON fn.oid = fp.pronamespace WHERE fp.oid = ${column} AND ${column} <> 0)`
  return {
    aggregates: `
      SELECT a.aggfnoid::oid AS oid, a.aggkind::text AS kind,
        ${fn('a.aggtransfn')} AS transfn, ${fn('a.aggfinalfn')} AS finalfn, ${fn('a.aggcombinefn')} AS combinefn,
        ${fn('a.aggserialfn')} AS serialfn, ${fn('a.aggdeserialfn')} AS deserialfn,
        ${fn('a.aggmtransfn')} AS mtransfn, ${fn('a.aggminvtransfn')} AS minvtransfn, ${fn('a.aggmfinalfn')} AS mfinalfn,
        a.aggfinalextra AS "finalExtra", a.aggmfinalextra AS "mfinalExtra",
        ${finalModify} AS "finalModify", ${mfinalModify} AS "mfinalModify",
        CASE WHEN a.aggsortop <> 0 THEN a.aggsortop::pg_catalog.regoperator::text END AS sortop,
        format_type(a.aggtranstype, NULL) AS transtype, a.aggtransspace AS transspace,
        CASE WHEN a.aggmtranstype <> 0 THEN format_type(a.aggmtranstype, NULL) END AS mtranstype,
        a.aggmtransspace AS mtransspace,
        quote_literal(a.agginitval) AS initval, quote_literal(a.aggminitval) AS minitval,
        p.proparallel::text AS parallel
      FROM pg_catalog.pg_aggregate a
      JOIN pg_catalog.pg_proc p ON p.oid = a.aggfnoid
      JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = ANY($1::text[]) AND ${notExtensionMember('pg_proc', 'p.oid')}
      ORDER BY a.aggfnoid`,
    statistics: `
      SELECT s.oid, s.stxrelid AS relid, format('%I.%I', n.nspname, s.stxname) AS ident,
        pg_get_statisticsobjdef(s.oid) AS def,
        quote_literal(obj_description(s.oid, 'pg_statistic_ext')) AS comment
      FROM pg_catalog.pg_statistic_ext s
      JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace
      WHERE n.nspname = ANY($1::text[])
      ORDER BY s.oid`,
    outsideTriggers: `
      SELECT t.oid, n.nspname AS schema, c.relname AS table, format('%I.%I', n.nspname, c.relname) AS "tableIdent",
        t.tgname AS name, quote_ident(t.tgname) AS ident, pg_get_triggerdef(t.oid) AS def,
        t.tgenabled::text AS enabled, t.tgfoid AS "functionOid",
        format('%I.%I()', fn.nspname, p.proname) AS "functionSignature",
        quote_literal(obj_description(t.oid, 'pg_trigger')) AS comment
      FROM pg_catalog.pg_trigger t
      JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
      JOIN pg_catalog.pg_namespace fn ON fn.oid = p.pronamespace
      WHERE NOT t.tgisinternal AND fn.nspname = ANY($1::text[]) AND NOT n.nspname = ANY($1::text[])
        AND ${notExtensionMember('pg_class', 'c.oid')}
      ORDER BY t.oid`,
  }
}

/** Default privileges and publications. */
function accessQueries(v: number) {
  const pubRoot = v >= 130000 ? 'p.pubviaroot' : 'false'
  const prattrs =
    v >= 150000
      ? `CASE WHEN pr.prattrs IS NOT NULL THEN ARRAY(SELECT a.attname::text FROM unnest(pr.prattrs::int2[]) WITH ORDINALITY k(n, i)
           JOIN pg_catalog.pg_attribute a ON a.attrelid = pr.prrelid AND a.attnum = k.n ORDER BY k.i) END`
      : 'NULL::text[]'
  const prqual = v >= 150000 ? 'pg_get_expr(pr.prqual, pr.prrelid)' : 'NULL::text'
  const pubSchemas =
    v >= 150000
      ? `ARRAY(SELECT n.nspname::text FROM pg_catalog.pg_publication_namespace pn
           JOIN pg_catalog.pg_namespace n ON n.oid = pn.pnnspid WHERE pn.pnpubid = p.oid AND n.nspname = ANY($1::text[]) ORDER BY 1)`
      : 'ARRAY[]::text[]'
  return {
    defaultAcls: `
      WITH sel AS (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = ANY($1::text[])),
      owners AS (
        SELECT relowner AS r FROM pg_catalog.pg_class WHERE relnamespace IN (SELECT oid FROM sel)
        UNION SELECT proowner FROM pg_catalog.pg_proc WHERE pronamespace IN (SELECT oid FROM sel)
        UNION SELECT typowner FROM pg_catalog.pg_type WHERE typnamespace IN (SELECT oid FROM sel)
        UNION SELECT nspowner FROM pg_catalog.pg_namespace WHERE oid IN (SELECT oid FROM sel)
        UNION SELECT defaclrole FROM pg_catalog.pg_default_acl WHERE defaclnamespace IN (SELECT oid FROM sel)
      )
      SELECT pg_get_userbyid(d.defaclrole) AS role, n.nspname AS schema, d.defaclobjtype::text AS objtype,
        d.defaclacl::text[] AS acl
      FROM pg_catalog.pg_default_acl d
      LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
      WHERE d.defaclnamespace IN (SELECT oid FROM sel)
         OR (d.defaclnamespace = 0 AND d.defaclrole IN (SELECT r FROM owners))
      ORDER BY 1, 2 NULLS FIRST, 3`,
    publications: `
      SELECT p.pubname AS name, pg_get_userbyid(p.pubowner) AS owner, p.puballtables AS "allTables",
        p.pubinsert AS insert, p.pubupdate AS update, p.pubdelete AS delete, p.pubtruncate AS truncate,
        ${pubRoot} AS "viaRoot",
        COALESCE((SELECT json_agg(json_build_object('relid', pr.prrelid::bigint, 'columns', ${prattrs}, 'rowFilter', ${prqual})
          ORDER BY pr.prrelid)
          FROM pg_catalog.pg_publication_rel pr JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE pr.prpubid = p.oid
            AND n.nspname = ANY($1::text[])), '[]') AS tables,
        ${pubSchemas} AS schemas
      FROM pg_catalog.pg_publication p
      ORDER BY p.pubname`,
  }
}

export function moreQueries(v: number) {
  return { ...textSearchQueries(), ...objectMoreQueries(v), ...accessQueries(v) }
}
