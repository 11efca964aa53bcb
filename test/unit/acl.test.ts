// aclitem text as data, acldefault, and the REVOKE/GRANT statements that make a
// target's ACL equal to the source's (the restore enforces access with them).
import { describe, expect, it } from 'vitest'
import { aclObjectOf } from '../../lib/archive/access.ts'
import {
  aclDefault,
  effectiveAcl,
  formatAclItem,
  parseAclItem,
  privilegeList,
  sqlIdent,
} from '../../lib/archive/acl.ts'
import { type AclObject, type AclSide, aclStatementsSql, diffAcl } from '../../lib/archive/acl-diff.ts'

const PG15 = 150010
const PG17 = 170002
const TABLE: AclObject = { kind: 'table', target: 'TABLE public.t' }
const FUNCTION: AclObject = { kind: 'function', target: 'FUNCTION public.f(integer)' }

const side = (owner: string, acl: string[] | null, extra: Partial<AclSide> = {}): AclSide => ({
  owner,
  acl,
  serverVersionNum: PG15,
  ...extra,
})
const sqlOf = (object: AclObject, wanted: AclSide, current: AclSide) =>
  diffAcl(object, wanted, current).map((s) => s.sql)

describe('aclitem text', () => {
  it('reads grantee, privileges, grant options and grantor', () => {
    expect(parseAclItem('anon=r*w/postgres')).toEqual({
      grantee: 'anon',
      grantor: 'postgres',
      privileges: 'rw',
      grantable: 'r',
    })
  })

  it('reads PUBLIC as an empty grantee', () => {
    expect(parseAclItem('=X/owner')).toEqual({
      grantee: '',
      grantor: 'owner',
      privileges: 'X',
      grantable: '',
    })
  })

  it('reads quoted names with quotes, equals signs and slashes inside', () => {
    expect(parseAclItem('"a ""b""=c/d"=U*C/"Own er"')).toEqual({
      grantee: 'a "b"=c/d',
      grantor: 'Own er',
      privileges: 'UC',
      grantable: 'U',
    })
  })

  it('prints what it reads, quoting as PostgreSQL does', () => {
    for (const text of ['anon=arwdDxt/postgres', '=X/postgres', '"my role"=r*/"Odd""One"', 'UPPER=U/x']) {
      expect(formatAclItem(parseAclItem(text))).toBe(text)
    }
  })

  it('orders privileges as PostgreSQL does, whatever the input order', () => {
    expect(parseAclItem('x=tra/y').privileges).toBe('art')
  })

  it('refuses malformed items', () => {
    for (const text of ['anon', 'anon=r', 'anon=q/x', '"open=r/x', 'anon=r/']) {
      expect(() => parseAclItem(text)).toThrow()
    }
  })
})

describe('acldefault', () => {
  it('gives the owner everything on tables, MAINTAIN from PostgreSQL 17', () => {
    expect(aclDefault('table', 'o', PG15).map(formatAclItem)).toEqual(['o=arwdDxt/o'])
    expect(aclDefault('table', 'o', PG17).map(formatAclItem)).toEqual(['o=arwdDxtm/o'])
  })

  it('gives PUBLIC EXECUTE on functions and USAGE on types', () => {
    expect(aclDefault('function', 'o', PG15).map(formatAclItem)).toEqual(['=X/o', 'o=X/o'])
    expect(aclDefault('type', 'o', PG15).map(formatAclItem)).toEqual(['=U/o', 'o=U/o'])
  })

  it('gives sequences and schemas to their owner only, columns nothing', () => {
    expect(aclDefault('sequence', 'o', PG15).map(formatAclItem)).toEqual(['o=rwU/o'])
    expect(aclDefault('schema', 'o', PG15).map(formatAclItem)).toEqual(['o=UC/o'])
    expect(aclDefault('column', 'o', PG15)).toEqual([])
  })

  it('is what a NULL ACL means; a stored one is read as it is', () => {
    expect(effectiveAcl('sequence', 'o', null, PG15).map(formatAclItem)).toEqual(['o=rwU/o'])
    expect(effectiveAcl('sequence', 'o', ['o=r/o'], PG15).map(formatAclItem)).toEqual(['o=r/o'])
  })
})

describe('SQL spelling', () => {
  it('quotes names only where SQL needs it', () => {
    expect(sqlIdent('anon')).toBe('anon')
    expect(sqlIdent('Admin')).toBe('"Admin"')
    expect(sqlIdent('my role')).toBe('"my role"')
    expect(sqlIdent('user')).toBe('"user"')
    expect(sqlIdent('a"b')).toBe('"a""b"')
  })

  it('writes ALL for every privilege of the kind, names otherwise', () => {
    expect(privilegeList('arwdDxt', 'table', PG15)).toBe('ALL')
    expect(privilegeList('arwdDxt', 'table', PG17)).toBe(
      'INSERT, SELECT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER',
    )
    expect(privilegeList('ra', 'column', PG15)).toBe('INSERT, SELECT')
  })

  it('names the object as GRANT does for every kind the manifest records', () => {
    expect(aclObjectOf({ kind: 'materialized view', ident: 'public.mv' })).toEqual({
      kind: 'table',
      target: 'TABLE public.mv',
    })
    expect(aclObjectOf({ kind: 'aggregate', ident: 'public.s(integer)' }).target).toBe(
      'FUNCTION public.s(integer)',
    )
    expect(aclObjectOf({ kind: 'procedure', ident: 'public.p()' }).target).toBe('PROCEDURE public.p()')
    expect(aclObjectOf({ kind: 'domain', ident: 'public.d' })).toEqual({
      kind: 'type',
      target: 'DOMAIN public.d',
    })
  })
})

describe('diffAcl', () => {
  it('returns nothing when the ACLs are equal, NULL and its default included', () => {
    expect(sqlOf(TABLE, side('o', null), side('o', ['o=arwdDxt/o']))).toEqual([])
    expect(
      sqlOf(TABLE, side('o', ['anon=r/o', 'o=arwdDxt/o']), side('o', ['o=arwdDxt/o', 'anon=r/o'])),
    ).toEqual([])
  })

  it('takes back what the target default privileges granted (a revoked table stays revoked)', () => {
    const wanted = side('postgres', ['postgres=arwdDxt/postgres', 'authenticated=r/postgres'])
    const current = side('postgres', [
      'postgres=arwdDxt/postgres',
      'anon=arwdDxt/postgres',
      'authenticated=arwdDxt/postgres',
    ])
    expect(sqlOf(TABLE, wanted, current)).toEqual([
      'REVOKE INSERT, SELECT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON TABLE public.t FROM anon CASCADE;',
      'REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON TABLE public.t FROM authenticated CASCADE;',
    ])
  })

  it('grants what the source held and the target lacks', () => {
    expect(sqlOf(TABLE, side('o', ['o=arwdDxt/o', 'reader=rx/o']), side('o', null))).toEqual([
      'GRANT SELECT, REFERENCES ON TABLE public.t TO reader;',
    ])
  })

  it('adds and removes grant options alone', () => {
    expect(sqlOf(TABLE, side('o', ['o=arwdDxt/o', 'r=r*/o']), side('o', ['o=arwdDxt/o', 'r=r/o']))).toEqual([
      'GRANT SELECT ON TABLE public.t TO r WITH GRANT OPTION;',
    ])
    expect(sqlOf(TABLE, side('o', ['o=arwdDxt/o', 'r=r/o']), side('o', ['o=arwdDxt/o', 'r=r*/o']))).toEqual([
      'REVOKE GRANT OPTION FOR SELECT ON TABLE public.t FROM r CASCADE;',
    ])
  })

  it('treats PUBLIC as a grantee: a function the source took from PUBLIC stays taken', () => {
    expect(sqlOf(FUNCTION, side('o', ['o=X/o', 'app=X/o']), side('o', null))).toEqual([
      'GRANT EXECUTE ON FUNCTION public.f(integer) TO app;',
      'REVOKE EXECUTE ON FUNCTION public.f(integer) FROM PUBLIC CASCADE;',
    ])
    expect(sqlOf(FUNCTION, side('o', null), side('o', ['o=X/o']))).toEqual([
      'GRANT EXECUTE ON FUNCTION public.f(integer) TO PUBLIC;',
    ])
  })

  it('compares grants grantor by grantor: the same privilege from another grantor is another grant', () => {
    const wanted = side('o', ['o=arwdDxt/o', 'lead=r*/o', 'member=r/lead'])
    const current = side('o', ['o=arwdDxt/o', 'lead=r*/o', 'member=r/o'])
    const statements = diffAcl(TABLE, wanted, current)
    expect(statements).toEqual([
      { sql: 'GRANT SELECT ON TABLE public.t TO member;', grantor: 'lead', byOwner: false },
      { sql: 'REVOKE SELECT ON TABLE public.t FROM member CASCADE;', grantor: 'o', byOwner: true },
    ])
    expect(aclStatementsSql(statements, sqlIdent)).toEqual([
      'SET ROLE lead; GRANT SELECT ON TABLE public.t TO member; RESET ROLE;',
      'REVOKE SELECT ON TABLE public.t FROM member CASCADE;',
    ])
  })

  it('grants along grant-option chains from the owner outwards, revokes from the leaves inwards', () => {
    const chain = ['o=arwdDxt/o', 'a=r*/o', 'b=r*/a', 'c=r/b']
    const grants = diffAcl(TABLE, side('o', chain), side('o', null))
    expect(grants.map((s) => s.grantor)).toEqual(['o', 'a', 'b'])
    const revokes = diffAcl(TABLE, side('o', null), side('o', chain))
    expect(revokes.map((s) => s.grantor)).toEqual(['b', 'a', 'o'])
  })

  it('sets column privileges, grantee by grantee', () => {
    const wanted = side('o', null, { columns: { id: ['anon=r/o'], 'Secret Col': null } })
    const current = side('o', null, { columns: { id: ['anon=rw/o'], 'Secret Col': ['anon=r/o'] } })
    expect(sqlOf(TABLE, wanted, current)).toEqual([
      'REVOKE SELECT ("Secret Col") ON TABLE public.t FROM anon CASCADE;',
      'REVOKE UPDATE (id) ON TABLE public.t FROM anon CASCADE;',
    ])
    expect(sqlOf(TABLE, side('o', null, { columns: { id: ['anon=ra*/o'] } }), side('o', null))).toEqual([
      'GRANT SELECT (id) ON TABLE public.t TO anon;',
      'GRANT INSERT (id) ON TABLE public.t TO anon WITH GRANT OPTION;',
    ])
  })

  it('grants column privileges again after a table-level REVOKE took them', () => {
    // The target's default privileges gave anon SELECT on the table; the source gave it one column.
    const wanted = side('o', null, { columns: { id: ['anon=r/o'] } })
    const current = side('o', ['o=arwdDxt/o', 'anon=arwdDxt/o'], { columns: { id: ['anon=r/o'] } })
    expect(sqlOf(TABLE, wanted, current)).toEqual([
      'REVOKE INSERT, SELECT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON TABLE public.t FROM anon CASCADE;',
      'GRANT SELECT (id) ON TABLE public.t TO anon;',
    ])
  })

  it('reads a 15 source for a 17 target: a grantee never gains MAINTAIN it did not hold', () => {
    const wanted = side('o', ['o=arwdDxt/o', 'all_of_it=arwdDxt/o', 'partial=r/o'])
    const current = side('o', ['o=arwdDxtm/o', 'partial=arwdDxtm/o'], { serverVersionNum: PG17 })
    expect(sqlOf(TABLE, wanted, current)).toEqual([
      'GRANT INSERT, SELECT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON TABLE public.t TO all_of_it;',
      'REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER, MAINTAIN ON TABLE public.t FROM partial CASCADE;',
    ])
    // The owner holds everything by default, on 17 MAINTAIN included.
    const owned = side('o', ['o=arwdDxt/o'])
    expect(sqlOf(TABLE, owned, side('o', ['o=arwdDxtm/o'], { serverVersionNum: PG17 }))).toEqual([])
    // A NULL source ACL is the source's default: the owner keeps MAINTAIN on 17.
    expect(sqlOf(TABLE, side('o', null), side('o', null, { serverVersionNum: PG17 }))).toEqual([])
  })

  it('drops privileges the target does not know (a 17 source into 15)', () => {
    const wanted = side('o', ['o=arwdDxtm/o', 'vacuumer=m/o'], { serverVersionNum: PG17 })
    expect(sqlOf(TABLE, wanted, side('o', null))).toEqual([])
  })

  it('maps source roles to target roles, PUBLIC never', () => {
    const wanted = side('app_owner', ['app_owner=X/app_owner', 'api=X/app_owner'])
    const current = side('postgres', null)
    const map = (r: string) => (r === 'app_owner' ? 'postgres' : r)
    expect(diffAcl(FUNCTION, wanted, current, { mapRole: map }).map((s) => s.sql)).toEqual([
      'GRANT EXECUTE ON FUNCTION public.f(integer) TO api;',
      'REVOKE EXECUTE ON FUNCTION public.f(integer) FROM PUBLIC CASCADE;',
    ])
  })

  it('handles the owner like any grantee (a source owner that gave up its own privileges)', () => {
    expect(sqlOf(TABLE, side('o', ['o=r/o']), side('o', null))).toEqual([
      'REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON TABLE public.t FROM o CASCADE;',
    ])
  })

  it('covers sequences, types and schemas with their own privileges', () => {
    const seq: AclObject = { kind: 'sequence', target: 'SEQUENCE public.s' }
    expect(sqlOf(seq, side('o', ['o=rwU/o', 'app=U/o']), side('o', ['o=rwU/o', 'app=rwU/o']))).toEqual([
      'REVOKE SELECT, UPDATE ON SEQUENCE public.s FROM app CASCADE;',
    ])
    const type: AclObject = { kind: 'type', target: 'TYPE public.mood' }
    expect(sqlOf(type, side('o', ['o=U/o']), side('o', null))).toEqual([
      'REVOKE USAGE ON TYPE public.mood FROM PUBLIC CASCADE;',
    ])
    const schema: AclObject = { kind: 'schema', target: 'SCHEMA app' }
    expect(sqlOf(schema, side('o', ['o=UC/o', '=U/o', 'api=U*/o']), side('o', null))).toEqual([
      'GRANT USAGE ON SCHEMA app TO PUBLIC;',
      'GRANT USAGE ON SCHEMA app TO api WITH GRANT OPTION;',
    ])
  })
})
