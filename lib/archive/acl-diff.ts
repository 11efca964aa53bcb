// The REVOKE and GRANT statements that make an object's ACL on the target equal to the
// source's, whatever default privileges the target applied when the object was created.
// Pure: the restore reads the target's ACL, calls this, and runs the statements.
import {
  type AclItem,
  type AclKind,
  effectiveAcl,
  granteeSql,
  privilegeNames,
  privilegeSet,
  sortLetters,
  sqlIdent,
} from './acl.ts'

/** The object the statements name. */
export interface AclObject {
  kind: Exclude<AclKind, 'column'>
  /** GRANT's object clause: `TABLE public.t`, `FUNCTION public.f(integer)`, `SCHEMA app`. */
  target: string
}

/** One side of the comparison: an object's owner and ACLs on one server. */
export interface AclSide {
  owner: string
  /** aclitem texts; null is the built-in default (acldefault). */
  acl: readonly string[] | null
  /** Column privileges (attacl) by column name; null or absent = none. */
  columns?: Readonly<Record<string, readonly string[] | null>>
  serverVersionNum: number
}

export interface AclStatement {
  sql: string
  /** The role the statement runs as: the owner for its own grants, else the recorded grantor. */
  grantor: string
  /** The grantor is the object's owner: its owner (or a member, or a superuser) runs it as is; other grantors need SET ROLE. */
  byOwner: boolean
}

export interface AclDiffOptions {
  /** Maps a source role to the target's (owners restored under another name); PUBLIC is never mapped. */
  mapRole?: (role: string) => string
}

type Holding = Map<string, boolean> // letter -> grantable
type AclMap = Map<string, Holding> // `${grantor}\u0000${grantee}` -> holding

const key = (grantor: string, grantee: string) => `${grantor}\u0000${grantee}`
const split = (k: string) => k.split('\u0000') as [string, string]

function toMap(items: readonly AclItem[], allowed: string): AclMap {
  const map: AclMap = new Map()
  for (const item of items) {
    const holding = map.get(key(item.grantor, item.grantee)) ?? new Map<string, boolean>()
    for (const letter of item.privileges) {
      if (!allowed.includes(letter)) continue
      holding.set(letter, (holding.get(letter) ?? false) || item.grantable.includes(letter))
    }
    if (holding.size > 0) map.set(key(item.grantor, item.grantee), holding)
  }
  return map
}

/**
 * The source's ACL read for the target's server: names mapped, privileges the target
 * lacks dropped. Only the owner, who holds everything by default, keeps "all" on a newer
 * server; any other grantee gets exactly the letters it held, so a 15 source's GRANT ALL
 * to anon never becomes MAINTAIN on 17 (pg_dump's GRANT ALL would widen it).
 */
function wantedItems(
  kind: AclKind,
  side: AclSide,
  acl: readonly string[] | null,
  targetVersion: number,
  map: (r: string) => string,
): AclItem[] {
  const sourceAll = privilegeSet(kind, side.serverVersionNum)
  const targetAll = privilegeSet(kind, targetVersion)
  return effectiveAcl(kind, side.owner, acl, side.serverVersionNum).map((item) => {
    const full =
      kind !== 'column' &&
      item.grantee === side.owner &&
      [...sourceAll].every((l) => item.privileges.includes(l))
    const allGrantable = full && [...sourceAll].every((l) => item.grantable.includes(l))
    const privileges = full ? targetAll : item.privileges
    return {
      grantee: item.grantee === '' ? '' : map(item.grantee),
      grantor: map(item.grantor),
      privileges: sortLetters(privileges),
      grantable: sortLetters(allGrantable ? targetAll : item.grantable),
    }
  })
}

interface Change {
  grantor: string
  grantee: string
  letters: string
}

interface Changes {
  grant: Change[]
  grantWithOption: Change[]
  revoke: Change[]
  revokeOption: Change[]
}

function compare(wanted: AclMap, current: AclMap): Changes {
  const changes: Changes = { grant: [], grantWithOption: [], revoke: [], revokeOption: [] }
  const add = (list: Change[], k: string, letters: string[]) => {
    if (letters.length === 0) return
    const [grantor, grantee] = split(k)
    list.push({ grantor, grantee, letters: sortLetters(letters.join('')) })
  }
  for (const [k, want] of wanted) {
    const have = current.get(k) ?? new Map<string, boolean>()
    const plain: string[] = []
    const withOption: string[] = []
    for (const [letter, grantable] of want) {
      if (grantable && have.get(letter) !== true) withOption.push(letter)
      else if (!grantable && !have.has(letter)) plain.push(letter)
    }
    add(changes.grant, k, plain)
    add(changes.grantWithOption, k, withOption)
  }
  for (const [k, have] of current) {
    const want = wanted.get(k) ?? new Map<string, boolean>()
    const gone: string[] = []
    const optionGone: string[] = []
    for (const [letter, grantable] of have) {
      if (!want.has(letter)) gone.push(letter)
      else if (grantable && !want.get(letter)) optionGone.push(letter)
    }
    add(changes.revoke, k, gone)
    add(changes.revokeOption, k, optionGone)
  }
  return changes
}

/**
 * How far each grantor is from the owner along grant options. Grants run nearest
 * first (a grantor's option exists before it grants), revokes farthest first (no
 * REVOKE meets grants that still depend on it).
 */
function grantorDepth(current: AclMap, owner: string): Map<string, number> {
  const depth = new Map<string, number>([[owner, 0]])
  for (let round = 0; round < current.size + 1; round++) {
    for (const [k, holding] of current) {
      const [grantor, grantee] = split(k)
      const d = depth.get(grantor)
      if (d === undefined || ![...holding.values()].some(Boolean)) continue
      if (!depth.has(grantee) || depth.get(grantee)! > d + 1) depth.set(grantee, d + 1)
    }
  }
  return depth
}

interface RenderContext {
  object: AclObject
  kind: AclKind
  owner: string
  version: number
  /** Grant-option chain depth of each grantor: in the wanted ACL (grants), the current one (revokes). */
  grantDepth: Map<string, number>
  revokeDepth: Map<string, number>
  column?: string
}

function render(changes: Changes, context: RenderContext): AclStatement[] {
  const { object, owner, column } = context
  const on = (letters: string) => {
    // Named one by one, never ALL: ALL means more on a newer server than on the source.
    const names = privilegeNames(letters).split(', ')
    const list = column ? names.map((p) => `${p} (${column})`).join(', ') : names.join(', ')
    return `${list} ON ${object.target}`
  }
  const to = (c: Change, sql: string) => ({
    change: c,
    statement: { sql, grantor: c.grantor, byOwner: c.grantor === owner },
  })
  const grants = [
    ...changes.grant.map((c) => to(c, `GRANT ${on(c.letters)} TO ${granteeSql(c.grantee)};`)),
    ...changes.grantWithOption.map((c) =>
      to(c, `GRANT ${on(c.letters)} TO ${granteeSql(c.grantee)} WITH GRANT OPTION;`),
    ),
  ]
  const revokes = [
    ...changes.revokeOption.map((c) =>
      to(c, `REVOKE GRANT OPTION FOR ${on(c.letters)} FROM ${granteeSql(c.grantee)} CASCADE;`),
    ),
    ...changes.revoke.map((c) => to(c, `REVOKE ${on(c.letters)} FROM ${granteeSql(c.grantee)} CASCADE;`)),
  ]
  const depthOf = (depth: Map<string, number>, grantor: string) => depth.get(grantor) ?? depth.size
  // Stable sorts: the owner's grants first, its revokes last.
  grants.sort(
    (a, b) => depthOf(context.grantDepth, a.change.grantor) - depthOf(context.grantDepth, b.change.grantor),
  )
  revokes.sort(
    (a, b) => depthOf(context.revokeDepth, b.change.grantor) - depthOf(context.revokeDepth, a.change.grantor),
  )
  return [...grants, ...revokes].map((r) => r.statement)
}

/** A table-level REVOKE also takes the same privilege (or its grant option) off every column. */
function afterTableRevokes(columns: AclMap, changes: Changes): AclMap {
  const out: AclMap = new Map([...columns].map(([k, h]) => [k, new Map(h)]))
  for (const c of changes.revoke) {
    const holding = out.get(key(c.grantor, c.grantee))
    for (const letter of c.letters) holding?.delete(letter)
  }
  for (const c of changes.revokeOption) {
    const holding = out.get(key(c.grantor, c.grantee))
    for (const letter of c.letters) if (holding?.has(letter)) holding.set(letter, false)
  }
  return out
}

/**
 * Statements that make the target's ACL (and column ACLs) of one object equal to the
 * source's, grantor by grantor and grant option by grant option. Call it once the
 * owner is the wanted one (ALTER … OWNER TO moves the old owner's grants). An empty
 * list means the two are equal.
 */
export function diffAcl(
  object: AclObject,
  wanted: AclSide,
  current: AclSide,
  options: AclDiffOptions = {},
): AclStatement[] {
  const map = options.mapRole ?? ((r: string) => r)
  const version = current.serverVersionNum
  const owner = current.owner
  const vocabulary = privilegeSet(object.kind, version)
  const wantedTable = toMap(wantedItems(object.kind, wanted, wanted.acl, version, map), vocabulary)
  const currentTable = toMap(effectiveAcl(object.kind, owner, current.acl, version), vocabulary)
  const tableChanges = compare(wantedTable, currentTable)
  const base = {
    object,
    owner,
    version,
    grantDepth: grantorDepth(wantedTable, owner),
    revokeDepth: grantorDepth(currentTable, owner),
  }
  const statements = render(tableChanges, { ...base, kind: object.kind })
  if (object.kind !== 'table') return statements

  const names = [
    ...new Set([...Object.keys(wanted.columns ?? {}), ...Object.keys(current.columns ?? {})]),
  ].sort()
  const columnSet = privilegeSet('column', version)
  for (const column of names) {
    const want = toMap(wantedItems('column', wanted, wanted.columns?.[column] ?? [], version, map), columnSet)
    const have = afterTableRevokes(
      toMap(effectiveAcl('column', owner, current.columns?.[column] ?? [], version), columnSet),
      tableChanges,
    )
    statements.push(...render(compare(want, have), { ...base, kind: 'column', column: sqlIdent(column) }))
  }
  return statements
}

/** Statements to run one by one: those of another grantor inside SET ROLE … RESET ROLE. */
export function aclStatementsSql(
  statements: readonly AclStatement[],
  quote: (role: string) => string,
): string[] {
  return statements.map((s) => (s.byOwner ? s.sql : `SET ROLE ${quote(s.grantor)}; ${s.sql} RESET ROLE;`))
}
