// The pure parts of the structure capture: schema.sql's access part (owners, absolute
// privileges, the sweep, default privileges, publications), roles.sql, CREATE AGGREGATE,
// the manifest's validation, and which pg_dump entries the access part replaces.
import { describe, expect, it } from 'vitest'
import { keepTocEntry } from '../../lib/adapters/postgres/pg-dump.ts'
import type { CatalogAggregate, CatalogFunction } from '../../lib/adapters/postgres/schema/catalog-types.ts'
import { renderAggregate } from '../../lib/adapters/postgres/schema/plan-routines.ts'
import {
  defaultAclStatements,
  ownerStatements,
  privilegeStatements,
  publicationStatements,
} from '../../lib/adapters/postgres/schema/render-access.ts'
import {
  mergeMemberships,
  renderRolesSql,
  settingClause,
} from '../../lib/adapters/postgres/schema/render-roles.ts'
import type { AccessObject, ManifestAccess, RoleEntry } from '../../lib/archive/access.ts'
import { parseManifest } from '../../lib/archive/manifest.ts'
import { platformRoleReason } from '../../lib/core/platform-roles.ts'

const PG15 = 150010
const table = (extra: Partial<AccessObject> = {}): AccessObject => ({
  kind: 'table',
  schema: 'public',
  name: 't',
  ident: 'public.t',
  owner: 'postgres',
  acl: null,
  ...extra,
})
const access = (objects: AccessObject[]): ManifestAccess => ({
  version: 1,
  serverVersionNum: PG15,
  objects,
  policies: [],
  defaultAcls: [],
  publications: [],
})

describe('owners', () => {
  it('sets every owner but public’s and a column’s sequence’s, aggregates by their argument list', () => {
    const statements = ownerStatements(
      access([
        { ...table(), kind: 'schema', name: 'public', ident: 'public' },
        { ...table(), kind: 'schema', name: 'app', ident: 'app', owner: 'app_owner' },
        table({ owner: 'Odd Owner' }),
        { ...table(), kind: 'sequence', ident: 'public.t_id_seq', ownedByColumn: true },
        { ...table(), kind: 'aggregate', name: 'cnt', arguments: '', ident: 'public.cnt()' },
        {
          ...table(),
          kind: 'aggregate',
          name: 'pct',
          arguments: 'double precision ORDER BY numeric',
          ident: 'public.pct(double precision,numeric)',
        },
        { ...table(), kind: 'materialized view', ident: 'public.mv' },
      ]),
    )
    expect(statements).toEqual([
      'ALTER SCHEMA app OWNER TO app_owner;',
      'ALTER TABLE public.t OWNER TO "Odd Owner";',
      'ALTER AGGREGATE public.cnt(*) OWNER TO postgres;',
      'ALTER AGGREGATE public.pct(double precision ORDER BY numeric) OWNER TO postgres;',
      'ALTER MATERIALIZED VIEW public.mv OWNER TO postgres;',
    ])
  })
})

describe('absolute privileges', () => {
  it('takes everything from PUBLIC, the candidates and the grantees, then grants the source’s ACL', () => {
    const t = table({
      acl: ['postgres=arwdDxt/postgres', 'anon=r/postgres', 'reader=r*/postgres', 'member=r/reader'],
    })
    expect(privilegeStatements(t, PG15, ['anon', 'authenticated'])).toEqual([
      'REVOKE ALL ON TABLE public.t FROM PUBLIC, anon, authenticated, reader, member CASCADE;',
      'GRANT SELECT ON TABLE public.t TO anon;',
      'GRANT SELECT ON TABLE public.t TO reader WITH GRANT OPTION;',
      '-- granted by reader (as that role): GRANT SELECT ON TABLE public.t TO member;',
    ])
  })

  it('gives PUBLIC back what the built-in default gives it, and revokes from an owner that held less', () => {
    const fn: AccessObject = { ...table(), kind: 'function', ident: 'public.f(integer)', acl: null }
    expect(privilegeStatements(fn, PG15, [])).toEqual([
      'REVOKE ALL ON FUNCTION public.f(integer) FROM PUBLIC CASCADE;',
      'GRANT ALL ON FUNCTION public.f(integer) TO PUBLIC;',
    ])
    expect(privilegeStatements(table({ acl: ['postgres=r/postgres'] }), PG15, [])).toEqual([
      'REVOKE ALL ON TABLE public.t FROM PUBLIC, postgres CASCADE;',
      'GRANT SELECT ON TABLE public.t TO postgres;',
    ])
  })

  it('grants column privileges after the table’s', () => {
    const t = table({ columns: [{ name: 'Email', acl: ['api=rw/postgres'] }] })
    expect(privilegeStatements(t, PG15, [])).toEqual([
      'REVOKE ALL ON TABLE public.t FROM PUBLIC, api CASCADE;',
      'GRANT SELECT ("Email"), UPDATE ("Email") ON TABLE public.t TO api;',
    ])
  })
})

describe('default privileges', () => {
  it('replaces a role’s every-schema defaults, its own privileges included', () => {
    expect(
      defaultAclStatements(
        { role: 'owner', schema: null, objectType: 'functions', acl: ['owner=X/owner'] },
        PG15,
        ['anon'],
      ),
    ).toEqual(['ALTER DEFAULT PRIVILEGES FOR ROLE owner REVOKE ALL ON FUNCTIONS FROM PUBLIC, anon;'])
    expect(
      defaultAclStatements(
        { role: 'owner', schema: null, objectType: 'tables', acl: ['owner=r/owner'] },
        PG15,
        [],
      ),
    ).toEqual([
      'ALTER DEFAULT PRIVILEGES FOR ROLE owner REVOKE ALL ON TABLES FROM PUBLIC, owner;',
      'ALTER DEFAULT PRIVILEGES FOR ROLE owner GRANT SELECT ON TABLES TO owner;',
    ])
  })

  it('adds IN SCHEMA defaults with their grant options', () => {
    expect(
      defaultAclStatements(
        {
          role: 'postgres',
          schema: 'public',
          objectType: 'tables',
          acl: ['anon=arwdDxt/postgres', 'lead=r*/postgres'],
        },
        PG15,
        ['anon', 'authenticated'],
      ),
    ).toEqual([
      'ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public REVOKE ALL ON TABLES FROM PUBLIC, anon, authenticated, lead;',
      'ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON TABLES TO anon;',
      'ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT SELECT ON TABLES TO lead WITH GRANT OPTION;',
    ])
  })
})

describe('publications', () => {
  const publication = {
    name: 'supabase_realtime',
    owner: 'postgres',
    allTables: false,
    publish: { insert: true, update: true, delete: false, truncate: false },
    viaPartitionRoot: true,
    tables: [
      { schema: 'public', table: 'Devices', columns: ['id', 'kind'], rowFilter: "(kind <> 'x'::text)" },
    ],
    schemas: ['app'],
  }

  it('creates the publication and adds the backed-up tables; whole schemas stay a note', () => {
    const [create, add, schema] = publicationStatements(publication)
    expect(create).toBe(
      "CREATE PUBLICATION supabase_realtime WITH (publish = 'insert, update', publish_via_partition_root = true);",
    )
    expect(add).toBe(
      `ALTER PUBLICATION supabase_realtime ADD TABLE ONLY public."Devices" (id, kind) WHERE ((kind <> 'x'::text));`,
    )
    expect(schema).toBe(
      '-- not reproduced (whole schema): ALTER PUBLICATION supabase_realtime ADD TABLES IN SCHEMA app;',
    )
  })

  it('leaves FOR ALL TABLES publications alone (they are database-wide)', () => {
    expect(publicationStatements({ ...publication, allTables: true })).toEqual([])
  })
})

describe('roles.sql', () => {
  const role: RoleEntry = {
    name: 'app_login',
    superuser: true,
    inherit: false,
    createRole: false,
    createDb: true,
    login: true,
    replication: false,
    bypassRls: false,
    connectionLimit: 5,
    validUntil: '2030-01-01T00:00:00Z',
    settings: [
      { database: null, setting: 'search_path="$user", public' },
      { database: 'src', setting: 'statement_timeout=3s' },
    ],
    comment: "it's ours",
  }

  it('creates a missing role with its attributes, settings and comment, never SUPERUSER or a password', () => {
    const text = renderRolesSql({ roles: [role], memberships: [], skipped: [], platform: [] }, 'test')
    expect(text).toContain("IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'app_login')")
    expect(text).toContain(
      "EXECUTE 'CREATE ROLE app_login LOGIN NOINHERIT NOCREATEROLE CREATEDB NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 5 VALID UNTIL ''2030-01-01T00:00:00Z''';",
    )
    expect(text).toContain(`EXECUTE 'ALTER ROLE app_login SET search_path TO ''$user'', ''public''';`)
    expect(text).toContain(
      "EXECUTE 'ALTER ROLE app_login IN DATABASE ' || quote_ident(current_database()) || ' SET statement_timeout TO ''3s''';",
    )
    expect(text).toContain("COMMENT ON ROLE app_login IS ''it''''s ours''")
    expect(text).toContain('SUPERUSER in the source: not given here')
    expect(text).not.toMatch(/\bSUPERUSER\b(?! in the source)/)
    expect(text).not.toMatch(/PASSWORD\s+'/)
  })

  it('lists the skipped roles with their reasons, and creates named platform roles only where missing', () => {
    const text = renderRolesSql(
      {
        roles: [],
        memberships: [],
        skipped: [{ name: 'anon', reason: 'created by Supabase in every project' }],
        platform: [{ ...role, name: 'anon', login: false, superuser: false }],
      },
      'test',
    )
    expect(text).toContain('--   anon: created by Supabase in every project')
    expect(text).toContain("WHERE rolname = 'anon'")
    expect(text).toContain('CREATE ROLE anon NOLOGIN')
    expect(text).not.toContain('SET search_path')
  })

  it('grants memberships where missing, with 16+ options, never ADMIN to oneself', () => {
    const text = renderRolesSql(
      {
        roles: [],
        memberships: [
          { role: 'reader', member: 'writer', grantor: 'postgres', admin: true, inherit: false, set: true },
        ],
        skipped: [],
        platform: [],
      },
      'test',
    )
    expect(text).toContain("THEN\n      EXECUTE 'GRANT reader TO writer WITH ADMIN OPTION';")
    expect(text).toContain(
      "IF current_user = 'writer' THEN EXECUTE 'GRANT reader TO writer WITH INHERIT FALSE, SET TRUE';",
    )
    expect(text).toContain("ELSE EXECUTE 'GRANT reader TO writer WITH ADMIN TRUE, INHERIT FALSE, SET TRUE';")
    expect(text).toContain('HAVING count(*) > 0 AND (bool_or(admin_option) OR NOT true)')
  })

  it('merges a membership granted by several grantors into what they allow together', () => {
    const m = { role: 'r', member: 'm', grantor: 'a', admin: true, inherit: false, set: false }
    expect(mergeMemberships([m, { ...m, grantor: 'b', admin: false, inherit: true, set: true }])).toEqual([
      { ...m, admin: true, inherit: true, set: true },
    ])
    expect(mergeMemberships([{ ...m, inherit: null, set: null }])[0]).toMatchObject({
      inherit: null,
      set: null,
    })
  })

  it('quotes list settings element by element', () => {
    expect(settingClause('search_path=public, extensions')).toBe("search_path TO 'public', 'extensions'")
    expect(settingClause('search_path=""')).toBe("search_path TO ''")
    expect(settingClause('log_statement=all')).toBe("log_statement TO 'all'")
  })

  it('knows the roles the platform creates', () => {
    expect(platformRoleReason('pg_read_all_data', 'postgres')).toBe('predefined by PostgreSQL')
    expect(platformRoleReason('authenticator', 'postgres')).toBe('created by Supabase in every project')
    expect(platformRoleReason('admin', 'admin')).toContain('bootstrap superuser')
    expect(platformRoleReason('app_owner', 'postgres')).toBeUndefined()
  })
})

describe('CREATE AGGREGATE', () => {
  const fn = { signature: 'public.agg(v numeric)', arguments: 'v numeric' } as CatalogFunction
  const base: CatalogAggregate = {
    oid: 1,
    kind: 'n',
    transfn: 'pg_catalog.numeric_add',
    finalfn: null,
    combinefn: null,
    serialfn: null,
    deserialfn: null,
    mtransfn: null,
    minvtransfn: null,
    mfinalfn: null,
    finalExtra: false,
    mfinalExtra: false,
    finalModify: 'r',
    mfinalModify: 'r',
    sortop: null,
    transtype: 'numeric',
    transspace: 0,
    mtranstype: null,
    mtransspace: 0,
    initval: "'0'",
    minitval: null,
    parallel: 'u',
  }

  it('writes the options the aggregate has', () => {
    expect(renderAggregate(fn, base)).toBe(
      "CREATE AGGREGATE public.agg(v numeric) (\n    SFUNC = pg_catalog.numeric_add,\n    STYPE = numeric,\n    INITCOND = '0'\n);",
    )
    const full = renderAggregate(fn, {
      ...base,
      finalfn: 'public.fin',
      finalModify: 'w',
      combinefn: 'public.comb',
      sortop: 'pg_catalog.>(numeric,numeric)',
      parallel: 's',
      mtransfn: 'public.mt',
      minvtransfn: 'public.mi',
      mtranstype: 'numeric',
    })
    expect(full).toContain('FINALFUNC = public.fin,\n    FINALFUNC_MODIFY = READ_WRITE')
    expect(full).toContain('COMBINEFUNC = public.comb')
    expect(full).toContain('MSFUNC = public.mt,\n    MINVFUNC = public.mi,\n    MSTYPE = numeric')
    expect(full).toContain('SORTOP = OPERATOR(pg_catalog.>)')
    expect(full).toContain('PARALLEL = SAFE')
  })

  it('writes (*) for an aggregate without arguments and HYPOTHETICAL for hypothetical-set ones', () => {
    const none = { signature: 'public.cnt()', arguments: '' } as CatalogFunction
    expect(renderAggregate(none, base)).toMatch(/^CREATE AGGREGATE public\.cnt\(\*\)/)
    expect(renderAggregate(fn, { ...base, kind: 'h' })).toContain('HYPOTHETICAL')
  })
})

describe('the manifest’s access and roles blocks', () => {
  const manifest = (extra: object) =>
    JSON.stringify({ format: 1, id: 'x', tables: [], restoreOrder: [], ...extra })

  it('accepts archives without them (made before them) and with well-formed ones', () => {
    expect(parseManifest(manifest({}), 'old').access).toBeUndefined()
    const ok = parseManifest(manifest({ access: access([table({ acl: ['anon=r/postgres'] })]) }), 'new')
    expect(ok.access?.objects).toHaveLength(1)
  })

  it('refuses a malformed aclitem or object, naming it', () => {
    expect(() =>
      parseManifest(manifest({ access: access([table({ acl: ['anon=q/postgres'] })]) }), 'x'),
    ).toThrow(/malformed ACL for public\.t/)
    expect(() =>
      parseManifest(manifest({ access: { ...access([]), objects: [{ kind: 'index' }] } }), 'x'),
    ).toThrow(/malformed access object/)
    expect(() => parseManifest(manifest({ roles: { version: 1, roles: [] } }), 'x')).toThrow(/roles block/)
  })

  it('refuses a newer version of either block rather than guess what it means', () => {
    expect(() => parseManifest(manifest({ access: { ...access([]), version: 2 } }), 'x')).toThrow(
      expect.objectContaining({ code: 'ARCHIVE_FORMAT' }),
    )
    expect(() =>
      parseManifest(manifest({ roles: { version: 9, roles: [], memberships: [], skipped: [] } }), 'x'),
    ).toThrow(expect.objectContaining({ code: 'ARCHIVE_FORMAT' }))
  })
})

describe('pg_dump’s table of contents', () => {
  it('drops privileges and default privileges, keeps everything else', () => {
    expect(keepTocEntry('4321; 0 0 ACL public TABLE t postgres')).toBe(false)
    expect(keepTocEntry('4322; 826 16401 DEFAULT ACL public DEFAULT PRIVILEGES FOR TABLES postgres')).toBe(
      false,
    )
    expect(keepTocEntry('215; 1259 16392 TABLE public t postgres')).toBe(true)
    expect(keepTocEntry('216; 1259 16393 TABLE public ACL postgres')).toBe(true)
    expect(keepTocEntry('; Archive created at 2026-12-05')).toBe(true)
  })
})
