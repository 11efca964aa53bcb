// The DR test's smoke-check file: split at the `;` that end statements (not those in
// quotes, comments or function bodies), named by the comment above, judged strictly.
import { describe, expect, it } from 'vitest'
import type { LifeboatError } from '../../lib/core/errors.ts'
import { judgeSmokeCheck, parseSmokeChecks } from '../../lib/drills/smoke-checks.ts'

const FILE = `-- Smoke checks for the DR test.

-- every organization has its settings row
SELECT NOT EXISTS (
  SELECT 1 FROM public.organizations o
  LEFT JOIN public.organization_settings s ON s.organization_id = o.id
  WHERE s.organization_id IS NULL
);

-- name: no message text contains a semicolon-like marker ';'
SELECT count(*) >= 0 FROM public.messages WHERE body <> 'a;b';

/* a block comment; with a semicolon */
SELECT $body$ ; $body$ = ' ; ';
SELECT "weird;name" IS NULL FROM (SELECT NULL AS "weird;name") t
`

describe('parseSmokeChecks', () => {
  it('splits statements and names them from the comment above', () => {
    const checks = parseSmokeChecks(FILE)
    expect(checks.map((c) => c.name)).toEqual([
      'every organization has its settings row',
      "no message text contains a semicolon-like marker ';'",
      '/* a block comment; with a semicolon */',
      'SELECT "weird;name" IS NULL FROM (SELECT NULL AS "weird;name") t',
    ])
    expect(checks[0]!.sql).toMatch(/^SELECT NOT EXISTS \(/)
    expect(checks[0]!.line).toBe(4)
    expect(checks[2]!.sql).toBe("/* a block comment; with a semicolon */\nSELECT $body$ ; $body$ = ' ; '")
  })

  it('the file header, separated by a blank line, names nothing', () => {
    expect(parseSmokeChecks('-- header\n\nSELECT true;')[0]!.name).toBe('SELECT true')
  })

  it('ignores empty statements and comment-only tails', () => {
    expect(parseSmokeChecks(';;\nSELECT true;\n-- the end\n')).toHaveLength(1)
  })

  it('refuses an unclosed quote, naming its line', () => {
    let error: LifeboatError | undefined
    try {
      parseSmokeChecks("SELECT true;\nSELECT 'oops;", 'checks.sql')
    } catch (e) {
      error = e as LifeboatError
    }
    expect(error?.code).toBe('CONFIG_INVALID')
    expect(error?.message).toBe("checks.sql: a ' quote opened on line 2 is never closed")
  })
})

describe('judgeSmokeCheck', () => {
  it('passes on exactly one true', () => {
    expect(judgeSmokeCheck([{ ok: true }])).toEqual({ ok: true, detail: 'true' })
  })
  it.each([
    [[{ ok: false }], 'returned false'],
    [[{ ok: null }], 'returned NULL, not a boolean'],
    [[{ ok: 't' }], 'returned "t", not a boolean'],
    [[], 'returned 0 rows; a check must return one boolean'],
    [[{ ok: true }, { ok: true }], 'returned 2 rows; a check must return one boolean'],
    [[{ a: true, b: true }], 'returned 2 columns; a check must return one boolean'],
  ])('fails on %j', (rows, detail) => {
    expect(judgeSmokeCheck(rows)).toEqual({ ok: false, detail })
  })
})
