// The app's grants to its own roles on a platform's objects (GRANT SELECT ON auth.users
// TO reporting): compared grantee by grantee whoever granted, closed with statements the
// restoring role runs, and what stays different named.
import { describe, expect, it } from 'vitest'
import type { AclObject, AclSide } from '../../lib/archive/acl-diff.ts'
import { closingStatements, describeGaps, grantGaps } from '../../lib/restore/app-grants.ts'

const users: AclObject = { kind: 'table', target: 'TABLE auth.users' }
const uid: AclObject = { kind: 'function', target: 'FUNCTION auth.uid()' }
const APP_ROLES = new Set(['reporting', 'analyst'])

/** auth.users as a project has it: its owner, postgres with SELECT to pass on, the API roles. */
const PLATFORM = [
  'supabase_auth_admin=arwdDxt/supabase_auth_admin',
  'postgres=r*awdDxt/supabase_auth_admin',
  'dashboard_user=arwdDxt/supabase_auth_admin',
]
const side = (acl: string[] | null, columns: Record<string, string[]> = {}, version = 150000): AclSide => ({
  owner: 'supabase_auth_admin',
  acl,
  columns,
  serverVersionNum: version,
})

describe('grantGaps', () => {
  it('finds nothing when the app gave its roles nothing', () => {
    expect(grantGaps(users, side(PLATFORM), side(PLATFORM), APP_ROLES)).toEqual([])
  })

  it("finds the app role's SELECT the new project lacks", () => {
    const source = side([...PLATFORM, 'reporting=r/postgres'])
    expect(grantGaps(users, source, side(PLATFORM), APP_ROLES)).toEqual([
      { grantee: 'reporting', missing: 'r', missingOption: '', extra: '', extraOption: '' },
    ])
  })

  it('counts a privilege as held whoever granted it', () => {
    const source = side([...PLATFORM, 'reporting=r/supabase_auth_admin'])
    expect(grantGaps(users, source, side([...PLATFORM, 'reporting=r/postgres']), APP_ROLES)).toEqual([])
  })

  it('never compares the platform roles, whatever they hold', () => {
    const source = side(['supabase_auth_admin=arwdDxt/supabase_auth_admin'])
    expect(grantGaps(users, source, side([...PLATFORM, 'anon=r/supabase_auth_admin']), APP_ROLES)).toEqual([])
  })

  it('finds what the target gives an app role beyond the source', () => {
    const target = side([...PLATFORM, 'reporting=rw/postgres'])
    expect(grantGaps(users, side([...PLATFORM, 'reporting=r/postgres']), target, APP_ROLES)).toEqual([
      { grantee: 'reporting', missing: '', missingOption: '', extra: 'w', extraOption: '' },
    ])
  })

  it('finds a grant option held at the source and not on the target, and the reverse', () => {
    const withOption = side([...PLATFORM, 'reporting=r*/postgres'])
    const without = side([...PLATFORM, 'reporting=r/postgres'])
    expect(grantGaps(users, withOption, without, APP_ROLES)[0]).toMatchObject({
      missingOption: 'r',
      missing: '',
    })
    expect(grantGaps(users, without, withOption, APP_ROLES)[0]).toMatchObject({ extraOption: 'r', extra: '' })
  })

  it('compares column privileges column by column', () => {
    const source = side(PLATFORM, { email: ['reporting=r/postgres'], id: ['reporting=r/postgres'] })
    const target = side(PLATFORM, { id: ['reporting=r/postgres', 'analyst=r/postgres'] })
    expect(grantGaps(users, source, target, APP_ROLES)).toEqual([
      { grantee: 'reporting', column: 'email', missing: 'r', missingOption: '', extra: '', extraOption: '' },
      { grantee: 'analyst', column: 'id', missing: '', missingOption: '', extra: 'r', extraOption: '' },
    ])
  })

  it('reads a built-in default ACL (null) as the owner alone, not as grants to app roles', () => {
    expect(grantGaps(uid, { ...side(null) }, side(null), APP_ROLES)).toEqual([])
    expect(
      grantGaps(
        uid,
        side(['supabase_auth_admin=X/supabase_auth_admin', 'reporting=X/postgres']),
        side(null),
        APP_ROLES,
      ),
    ).toEqual([{ grantee: 'reporting', missing: 'X', missingOption: '', extra: '', extraOption: '' }])
  })

  it('never gives an app role a privilege the target server lacks (MAINTAIN from 17 into 15)', () => {
    const source = side([...PLATFORM, 'reporting=rm/postgres'], {}, 170000)
    expect(grantGaps(users, source, side(PLATFORM), APP_ROLES)).toEqual([
      { grantee: 'reporting', missing: 'r', missingOption: '', extra: '', extraOption: '' },
    ])
  })

  it('leaves out a grantee that owns the object', () => {
    const own = { ...side(['reporting=arwdDxt/reporting']), owner: 'reporting' }
    expect(grantGaps(users, own, { ...side([]), owner: 'reporting' }, APP_ROLES)).toEqual([])
  })
})

describe('closingStatements', () => {
  it('grants what is missing by name, never ALL', () => {
    const gaps = grantGaps(
      users,
      side([...PLATFORM, 'reporting=arwdDxt/postgres']),
      side(PLATFORM),
      APP_ROLES,
    )
    expect(closingStatements(users, gaps)).toEqual([
      'GRANT INSERT, SELECT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON TABLE auth.users TO reporting;',
    ])
  })

  it('grants with grant option only the letters held so', () => {
    const gaps = grantGaps(users, side([...PLATFORM, 'reporting=r*w/postgres']), side(PLATFORM), APP_ROLES)
    expect(closingStatements(users, gaps)).toEqual([
      'GRANT UPDATE ON TABLE auth.users TO reporting;',
      'GRANT SELECT ON TABLE auth.users TO reporting WITH GRANT OPTION;',
    ])
  })

  it('revokes first, table before columns, then grants columns by name', () => {
    const source = side(PLATFORM, { email: ['reporting=r/postgres'] })
    const target = side([...PLATFORM, 'reporting=r/postgres'])
    expect(closingStatements(users, grantGaps(users, source, target, APP_ROLES))).toEqual([
      'REVOKE SELECT ON TABLE auth.users FROM reporting CASCADE;',
      'GRANT SELECT (email) ON TABLE auth.users TO reporting;',
    ])
  })

  it('takes back only the grant option where the privilege itself was the source’s', () => {
    const gaps = grantGaps(
      users,
      side([...PLATFORM, 'reporting=r/postgres']),
      side([...PLATFORM, 'reporting=r*/postgres']),
      APP_ROLES,
    )
    expect(closingStatements(users, gaps)).toEqual([
      'REVOKE GRANT OPTION FOR SELECT ON TABLE auth.users FROM reporting CASCADE;',
    ])
  })

  it('quotes a grantee and a column that need it', () => {
    const source = side(PLATFORM, { 'Email Address': ['"Read Only"=r/postgres'] })
    const gaps = grantGaps(users, source, side(PLATFORM), new Set(['Read Only']))
    expect(closingStatements(users, gaps)).toEqual([
      'GRANT SELECT ("Email Address") ON TABLE auth.users TO "Read Only";',
    ])
  })
})

describe('describeGaps', () => {
  it('names the object, the role, the privileges and who could not grant them', () => {
    const gaps = grantGaps(
      users,
      side([...PLATFORM, 'reporting=rw/supabase_auth_admin']),
      side(PLATFORM),
      APP_ROLES,
    )
    expect(describeGaps(users, gaps, 'postgres')).toEqual([
      'TABLE auth.users: reporting lacks SELECT, UPDATE (the target does not let postgres grant it)',
    ])
  })

  it('names a column and an excess the target keeps', () => {
    const gaps = grantGaps(
      users,
      side(PLATFORM),
      side(PLATFORM, { phone: ['analyst=w/supabase_auth_admin'] }),
      APP_ROLES,
    )
    expect(describeGaps(users, gaps, 'postgres')).toEqual([
      'TABLE auth.users column phone: analyst holds UPDATE, which the source did not grant (the target does not let postgres revoke it)',
    ])
  })
})
