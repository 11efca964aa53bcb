// CREATE COLLATION from a pg_collation row (pure): each provider's options as
// CREATE COLLATION takes them back, so the catalog path's collation is the source's.
import { describe, expect, it } from 'vitest'
import type { CatalogCollation } from '../../lib/adapters/postgres/schema/catalog-types.ts'
import { renderCollation } from '../../lib/adapters/postgres/schema/plan-collations.ts'

const base: CatalogCollation = {
  oid: 16400,
  schema: 'public',
  name: 'c1',
  ident: 'public.c1',
  owner: 'postgres',
  provider: 'i',
  deterministic: true,
  locale: "'und'",
  lcCollate: null,
  lcCtype: null,
  rules: null,
  comment: null,
}

describe('renderCollation', () => {
  it('writes an ICU collation with its locale, and deterministic = false only when it is not', () => {
    expect(renderCollation({ ...base, deterministic: false, locale: "'und-u-ks-level2'" })).toBe(
      "CREATE COLLATION public.c1 (provider = icu, locale = 'und-u-ks-level2', deterministic = false);",
    )
    expect(renderCollation(base)).toBe("CREATE COLLATION public.c1 (provider = icu, locale = 'und');")
  })

  it('writes ICU tailoring rules (PostgreSQL 16+)', () => {
    expect(renderCollation({ ...base, rules: "'&a < g'" })).toBe(
      "CREATE COLLATION public.c1 (provider = icu, locale = 'und', rules = '&a < g');",
    )
  })

  it('writes a libc collation as one locale when both categories agree, as two when not', () => {
    const libc = { ...base, provider: 'c', locale: null }
    expect(renderCollation({ ...libc, lcCollate: "'C'", lcCtype: "'C'" })).toBe(
      "CREATE COLLATION public.c1 (provider = libc, locale = 'C');",
    )
    expect(renderCollation({ ...libc, lcCollate: "'C'", lcCtype: "'en_US.utf8'" })).toBe(
      "CREATE COLLATION public.c1 (provider = libc, lc_collate = 'C', lc_ctype = 'en_US.utf8');",
    )
  })

  it("writes PostgreSQL 17's builtin provider with its locale", () => {
    expect(renderCollation({ ...base, provider: 'b', locale: "'C.UTF-8'" })).toBe(
      "CREATE COLLATION public.c1 (provider = builtin, locale = 'C.UTF-8');",
    )
  })

  it('refuses a provider it does not know rather than guess', () => {
    expect(renderCollation({ ...base, provider: 'x' })).toBeNull()
  })
})
