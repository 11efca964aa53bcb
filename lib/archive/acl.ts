// PostgreSQL access control lists as data: aclitem text parsed and printed, the
// built-in defaults (acldefault) and privilege letters per kind of object and server
// version. Pure: the manifest's access data, schema.sql and the restore share it.

/** The kinds of object an ACL belongs to, as GRANT distinguishes them. */
export type AclKind = 'table' | 'sequence' | 'function' | 'type' | 'schema' | 'column'

/** One aclitem: `grantee=privileges/grantor`; an empty grantee is PUBLIC. */
export interface AclItem {
  grantee: string
  grantor: string
  /** Privilege letters held (`r`, `w`, …), in PostgreSQL's order. */
  privileges: string
  /** The subset of `privileges` held WITH GRANT OPTION. */
  grantable: string
}

/** PostgreSQL's letters in the order aclitemout prints them. */
const LETTER_ORDER = 'arwdDxtXUCTcsAm'

const NAMES: Record<string, string> = {
  a: 'INSERT',
  r: 'SELECT',
  w: 'UPDATE',
  d: 'DELETE',
  D: 'TRUNCATE',
  x: 'REFERENCES',
  t: 'TRIGGER',
  X: 'EXECUTE',
  U: 'USAGE',
  C: 'CREATE',
  T: 'TEMPORARY',
  c: 'CONNECT',
  s: 'SET',
  A: 'ALTER SYSTEM',
  m: 'MAINTAIN',
}

/** The privileges an object of this kind can hold on a server of this version. */
export function privilegeSet(kind: AclKind, serverVersionNum: number): string {
  switch (kind) {
    case 'table':
      // MAINTAIN arrived in PostgreSQL 17.
      return serverVersionNum >= 170000 ? 'arwdDxtm' : 'arwdDxt'
    case 'sequence':
      return 'rwU'
    case 'function':
      return 'X'
    case 'type':
      return 'U'
    case 'schema':
      return 'UC'
    case 'column':
      return 'arwx'
  }
}

export function privilegeName(letter: string): string {
  const name = NAMES[letter]
  if (!name) throw new Error(`unknown privilege letter "${letter}"`)
  return name
}

/** Letters in PostgreSQL's order, each once. */
export function sortLetters(letters: string): string {
  return [...new Set(letters)].sort((a, b) => LETTER_ORDER.indexOf(a) - LETTER_ORDER.indexOf(b)).join('')
}

function readName(text: string, start: number, stop: string): { name: string; end: number } {
  if (text[start] !== '"') {
    let end = start
    while (end < text.length && !stop.includes(text[end]!)) end++
    return { name: text.slice(start, end), end }
  }
  let name = ''
  let i = start + 1
  for (;;) {
    if (i >= text.length) throw new Error(`unterminated quoted name in aclitem "${text}"`)
    if (text[i] === '"') {
      if (text[i + 1] === '"') {
        name += '"'
        i += 2
        continue
      }
      return { name, end: i + 1 }
    }
    name += text[i]
    i++
  }
}

/** Parses aclitem output (`anon=r*w/postgres`, `=X/"Odd Owner"`). */
export function parseAclItem(text: string): AclItem {
  const grantee = readName(text, 0, '=')
  if (text[grantee.end] !== '=') throw new Error(`malformed aclitem "${text}"`)
  let i = grantee.end + 1
  let privileges = ''
  let grantable = ''
  while (i < text.length && text[i] !== '/') {
    const letter = text[i]!
    if (!NAMES[letter]) throw new Error(`unknown privilege "${letter}" in aclitem "${text}"`)
    privileges += letter
    if (text[i + 1] === '*') {
      grantable += letter
      i++
    }
    i++
  }
  if (text[i] !== '/') throw new Error(`aclitem "${text}" has no grantor`)
  const grantor = readName(text, i + 1, '')
  if (grantor.end !== text.length || grantor.name === '')
    throw new Error(`malformed grantor in aclitem "${text}"`)
  return {
    grantee: grantee.name,
    grantor: grantor.name,
    privileges: sortLetters(privileges),
    grantable: sortLetters(grantable),
  }
}

/** A role name as aclitemout writes it: quoted unless it is letters, digits and `_`. */
function aclName(name: string): string {
  return /^[A-Za-z0-9_]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`
}

export function formatAclItem(item: AclItem): string {
  const letters = [...item.privileges].map((l) => (item.grantable.includes(l) ? `${l}*` : l)).join('')
  return `${aclName(item.grantee)}=${letters}/${aclName(item.grantor)}`
}

/** acldefault(): what an object holds while its ACL is NULL. */
export function aclDefault(kind: AclKind, owner: string, serverVersionNum: number): AclItem[] {
  const own = (privileges: string): AclItem => ({ grantee: owner, grantor: owner, privileges, grantable: '' })
  const pub = (privileges: string): AclItem => ({ grantee: '', grantor: owner, privileges, grantable: '' })
  switch (kind) {
    case 'table':
    case 'sequence':
    case 'schema':
      return [own(privilegeSet(kind, serverVersionNum))]
    case 'function':
      return [pub('X'), own('X')]
    case 'type':
      return [pub('U'), own('U')]
    case 'column':
      return []
  }
}

/** The ACL in effect: the stored one, or the built-in default when it is NULL. */
export function effectiveAcl(
  kind: AclKind,
  owner: string,
  acl: readonly string[] | null,
  serverVersionNum: number,
): AclItem[] {
  return acl === null ? aclDefault(kind, owner, serverVersionNum) : acl.map(parseAclItem)
}

// Words quote_ident() quotes (PostgreSQL 15 to 17's non-unreserved keywords): a name
// that is one of them must be quoted in SQL even when it is lower case.
const KEYWORDS = new Set(
  `all analyse analyze and any array as asc asymmetric authorization between bigint binary bit boolean both
  case cast char character check coalesce collate collation column concurrently constraint create cross
  current_catalog current_date current_role current_schema current_time current_timestamp current_user dec
  decimal default deferrable desc distinct do else end except exists extract false fetch float for foreign
  freeze from full grant greatest group grouping having ilike in initially inner inout int integer intersect
  interval into is isnull join json json_array json_arrayagg json_exists json_object json_objectagg
  json_query json_scalar json_serialize json_table json_value lateral leading least left like limit
  localtime localtimestamp merge_action national natural nchar none normalize not notnull null nullif
  numeric offset on only or order out outer overlaps overlay placing position precision primary real
  references returning right row select session_user setof similar smallint some substring symmetric
  system_user table tablesample then time timestamp to trailing treat trim true union unique user using
  values varchar variadic verbose when where window with xmlattributes xmlconcat xmlelement xmlexists
  xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable`.split(/\s+/),
)

/** quote_ident(): quotes a name only when SQL needs it. */
export function sqlIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) && !KEYWORDS.has(name) ? name : `"${name.replaceAll('"', '""')}"`
}

/** A grantee in GRANT / REVOKE: PUBLIC or the quoted role name. */
export function granteeSql(grantee: string): string {
  return grantee === '' ? 'PUBLIC' : sqlIdent(grantee)
}

/** `INSERT, SELECT`: each privilege by name, in PostgreSQL's order. */
export function privilegeNames(letters: string): string {
  return [...sortLetters(letters)].map(privilegeName).join(', ')
}

/** `ALL` when the letters are every privilege of the kind, as pg_dump writes it; names otherwise. */
export function privilegeList(letters: string, kind: AclKind, serverVersionNum: number): string {
  const all = privilegeSet(kind, serverVersionNum)
  if (kind !== 'column' && [...all].every((l) => letters.includes(l))) return 'ALL'
  return privilegeNames(letters)
}
