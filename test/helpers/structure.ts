// Catalog facts about the structure around the rows, one line each, to compare a source
// with what schema.sql recreated: owners, ACLs (aclexplode, NULL read as acldefault),
// column privileges, default privileges, policies and RLS, publication membership,
// comments, aggregates, views and materialized views, triggers, rules, roles.
import { withClient } from './database.ts'

const OBJECTS = `
WITH sel AS (SELECT oid, nspname FROM pg_namespace WHERE nspname = ANY($1::text[])),
objs AS (
  SELECT 'schema' AS kind, n.oid::regnamespace::text AS name, n.nspowner AS owner,
    COALESCE(n.nspacl, acldefault('n', n.nspowner)) AS acl
  FROM pg_namespace n WHERE n.oid IN (SELECT oid FROM sel)
  UNION ALL
  SELECT CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'matview' ELSE 'table' END,
    c.oid::regclass::text, c.relowner,
    COALESCE(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner))
  FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM sel) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  UNION ALL
  SELECT CASE p.prokind WHEN 'a' THEN 'aggregate' WHEN 'p' THEN 'procedure' ELSE 'function' END,
    p.oid::regprocedure::text, p.proowner, COALESCE(p.proacl, acldefault('f', p.proowner))
  FROM pg_proc p WHERE p.pronamespace IN (SELECT oid FROM sel)
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype IN ('e', 'i'))
  UNION ALL
  SELECT 'type', t.oid::regtype::text, t.typowner, COALESCE(t.typacl, acldefault('T', t.typowner))
  FROM pg_type t WHERE t.typnamespace IN (SELECT oid FROM sel) AND t.typtype IN ('e', 'd', 'r', 'c')
    AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
)
SELECT line FROM (
  SELECT format('owner %s %s %s', kind, name, pg_get_userbyid(owner)) AS line FROM objs
  UNION ALL
  SELECT format('acl %s %s grantor=%s grantee=%s %s grantable=%s', o.kind, o.name, pg_get_userbyid(a.grantor),
      CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, a.privilege_type, a.is_grantable)
    FROM objs o CROSS JOIN LATERAL aclexplode(o.acl) a
  UNION ALL
  SELECT format('column acl %s.%I grantor=%s grantee=%s %s grantable=%s', c.oid::regclass, att.attname,
      pg_get_userbyid(a.grantor), CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
      a.privilege_type, a.is_grantable)
    FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid
    CROSS JOIN LATERAL aclexplode(att.attacl) a
    WHERE c.relnamespace IN (SELECT oid FROM sel) AND att.attnum > 0 AND NOT att.attisdropped
  UNION ALL
  SELECT format('default acl role=%s schema=%s type=%s grantee=%s %s grantable=%s', pg_get_userbyid(d.defaclrole),
      COALESCE(n.nspname, '*'), d.defaclobjtype, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
      a.privilege_type, a.is_grantable)
    FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
    CROSS JOIN LATERAL aclexplode(d.defaclacl) a
    WHERE (d.defaclnamespace IN (SELECT oid FROM sel) OR d.defaclnamespace = 0)
      AND pg_get_userbyid(d.defaclrole) = ANY($2::text[])
  UNION ALL
  SELECT format('rls %s enabled=%s forced=%s', c.oid::regclass, c.relrowsecurity, c.relforcerowsecurity)
    FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM sel) AND c.relkind IN ('r', 'p')
  UNION ALL
  SELECT format('policy %I.%I %I %s %s %s %s %s', schemaname, tablename, policyname, permissive, roles, cmd, qual, with_check)
    FROM pg_policies WHERE schemaname IN (SELECT nspname FROM sel)
  UNION ALL
  SELECT format('publication %s %s.%s', pubname, schemaname, tablename) FROM pg_publication_tables
    WHERE schemaname IN (SELECT nspname FROM sel)
  UNION ALL
  SELECT format('publication rel %s %s %s', p.pubname, pr.prrelid::regclass, pg_get_expr(pr.prqual, pr.prrelid))
    FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
  UNION ALL
  SELECT format('comment %s %s', pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description)
    FROM pg_description d
    WHERE (d.classoid = 'pg_class'::regclass AND d.objoid IN (SELECT oid FROM pg_class WHERE relnamespace IN (SELECT oid FROM sel)))
       OR (d.classoid = 'pg_proc'::regclass AND d.objoid IN (SELECT oid FROM pg_proc WHERE pronamespace IN (SELECT oid FROM sel)))
       OR (d.classoid = 'pg_namespace'::regclass AND d.objoid IN (SELECT oid FROM sel) AND d.objoid <> 'public'::regnamespace)
  UNION ALL
  SELECT format('aggregate %s %s %s %s %s', a.aggfnoid::regprocedure, a.aggtransfn, a.aggtranstype::regtype, a.agginitval,
      a.aggkind)
    FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid WHERE p.pronamespace IN (SELECT oid FROM sel)
  UNION ALL
  SELECT format('view %s %s populated=%s %s', c.relkind, c.oid::regclass, c.relispopulated, pg_get_viewdef(c.oid))
    FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM sel) AND c.relkind IN ('v', 'm')
  UNION ALL
  SELECT format('trigger %s %s', pg_get_triggerdef(t.oid), t.tgenabled) FROM pg_trigger t
    JOIN pg_proc p ON p.oid = t.tgfoid
    WHERE NOT t.tgisinternal AND p.pronamespace IN (SELECT oid FROM sel)
  UNION ALL
  SELECT format('rule %s', pg_get_ruledef(r.oid)) FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
    WHERE c.relnamespace IN (SELECT oid FROM sel) AND r.rulename <> '_RETURN'
  UNION ALL
  SELECT format('statistics %s %s', pg_get_statisticsobjdef(s.oid), obj_description(s.oid, 'pg_statistic_ext'))
    FROM pg_statistic_ext s WHERE s.stxnamespace IN (SELECT oid FROM sel)  UNION ALL
  SELECT format('sequence %s', s.seqrelid::regclass) FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
    WHERE c.relnamespace IN (SELECT oid FROM sel)
  UNION ALL
  SELECT format('role %s login=%s inherit=%s createrole=%s createdb=%s replication=%s bypassrls=%s limit=%s until=%s config=%s',
      r.rolname, r.rolcanlogin, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls,
      r.rolconnlimit, r.rolvaliduntil, (SELECT setconfig FROM pg_db_role_setting WHERE setrole = r.oid AND setdatabase = 0))
    FROM pg_roles r WHERE r.rolname = ANY($2::text[])
  UNION ALL
  SELECT format('member %s in %s admin=%s', pg_get_userbyid(m.member), pg_get_userbyid(m.roleid), m.admin_option)
    FROM pg_auth_members m WHERE pg_get_userbyid(m.roleid) = ANY($2::text[]) OR pg_get_userbyid(m.member) = ANY($2::text[])
) x ORDER BY line`

/** One line per fact, sorted; `roles` limits role, membership and default-privilege facts. */
export async function describeStructure(
  url: string,
  schemas: readonly string[],
  roles: readonly string[],
): Promise<string[]> {
  return withClient(url, async (client) => {
    // Every name qualified, whatever the session's search_path.
    await client.query("SET search_path TO ''")
    const result = await client.query(OBJECTS, [schemas, roles])
    return result.rows.map((r) => r.line as string)
  })
}

/** Every privilege `role` holds on objects of these schemas, directly (not through PUBLIC). */
export async function privilegesOf(url: string, schemas: readonly string[], role: string): Promise<string[]> {
  const lines = await describeStructure(url, schemas, [])
  return lines.filter((l) => l.includes(`grantee=${role} `))
}
