// The grants an application gave its own roles on objects a platform manages (on a
// Supabase project, `GRANT SELECT ON auth.users TO reporting`). A restore leaves those
// objects' privileges the target's, but these grants are the app's: they are made the
// source's where the target lets the restoring role, and whatever still differs is named.
// Compared grantee by grantee, whoever granted: the target's grantor is the restoring
// role, the source's may have been one the target does not let it act as. Pure.
import {
  type AclItem,
  effectiveAcl,
  granteeSql,
  parseAclItem,
  privilegeNames,
  privilegeSet,
  sortLetters,
  sqlIdent,
} from '../archive/acl.ts'
import type { AclObject, AclSide } from '../archive/acl-diff.ts'

/** How one grantee's privileges on an object (or one of its columns) differ from the source's. */
export interface GrantGap {
  grantee: string
  column?: string
  /** Letters the source's grantee held that the target's does not. */
  missing: string
  /** Letters it held WITH GRANT OPTION that the target's does not hold so. */
  missingOption: string
  /** Letters the target's grantee holds that the source's did not. */
  extra: string
  /** Letters held WITH GRANT OPTION on the target, without it at the source. */
  extraOption: string
}

interface Holding {
  privileges: string
  grantable: string
}

function holdings(items: readonly AclItem[], grantees: ReadonlySet<string>, allowed: string) {
  const out = new Map<string, Holding>()
  for (const item of items) {
    if (!grantees.has(item.grantee)) continue
    const held = out.get(item.grantee) ?? { privileges: '', grantable: '' }
    const keep = (letters: string) => [...letters].filter((l) => allowed.includes(l)).join('')
    out.set(item.grantee, {
      privileges: sortLetters(held.privileges + keep(item.privileges)),
      grantable: sortLetters(held.grantable + keep(item.grantable)),
    })
  }
  return out
}

const minus = (a: string, b: string) => [...a].filter((l) => !b.includes(l)).join('')

function gapsOf(wanted: Map<string, Holding>, current: Map<string, Holding>, column?: string): GrantGap[] {
  const none = { privileges: '', grantable: '' }
  const gaps: GrantGap[] = []
  for (const grantee of [...new Set([...wanted.keys(), ...current.keys()])].sort()) {
    const want = wanted.get(grantee) ?? none
    const have = current.get(grantee) ?? none
    const gap: GrantGap = {
      grantee,
      ...(column === undefined ? {} : { column }),
      missing: minus(want.privileges, have.privileges),
      missingOption: minus(want.grantable, have.grantable),
      extra: minus(have.privileges, want.privileges),
      extraOption: minus(minus(have.grantable, want.grantable), minus(have.privileges, want.privileges)),
    }
    if (gap.missing || gap.missingOption || gap.extra || gap.extraOption) gaps.push(gap)
  }
  return gaps
}

/**
 * Where `grantees` hold other privileges on the target than at the source, on the object
 * and on each of its columns. The objects' owners are never compared: what an owner
 * holds is the platform's.
 */
export function grantGaps(
  object: AclObject,
  wanted: AclSide,
  current: AclSide,
  grantees: ReadonlySet<string>,
): GrantGap[] {
  const who = new Set([...grantees].filter((g) => g !== wanted.owner && g !== current.owner))
  if (who.size === 0) return []
  const allowed = privilegeSet(object.kind, current.serverVersionNum)
  const items = (side: AclSide) => effectiveAcl(object.kind, side.owner, side.acl, side.serverVersionNum)
  const gaps = gapsOf(holdings(items(wanted), who, allowed), holdings(items(current), who, allowed))
  if (object.kind !== 'table') return gaps
  const columnSet = privilegeSet('column', current.serverVersionNum)
  const columnItems = (side: AclSide, name: string) => (side.columns?.[name] ?? []).map(parseAclItem)
  const names = [...new Set([...Object.keys(wanted.columns ?? {}), ...Object.keys(current.columns ?? {})])]
  for (const name of names.sort()) {
    const want = holdings(columnItems(wanted, name), who, columnSet)
    gaps.push(...gapsOf(want, holdings(columnItems(current, name), who, columnSet), name))
  }
  return gaps
}

function privilegesOn(object: AclObject, letters: string, column?: string): string {
  const names = privilegeNames(letters).split(', ')
  const list = column === undefined ? names : names.map((p) => `${p} (${sqlIdent(column)})`)
  return `${list.join(', ')} ON ${object.target}`
}

/**
 * The REVOKEs and GRANTs that close the gaps, run as the restoring role: revokes first,
 * as a table-level REVOKE also takes the privilege off every column.
 */
export function closingStatements(object: AclObject, gaps: readonly GrantGap[]): string[] {
  const revokes: string[] = []
  const grants: string[] = []
  for (const gap of [...gaps].sort(
    (a, b) => Number(a.column !== undefined) - Number(b.column !== undefined),
  )) {
    const on = (letters: string) => privilegesOn(object, letters, gap.column)
    const to = granteeSql(gap.grantee)
    if (gap.extra) revokes.push(`REVOKE ${on(gap.extra)} FROM ${to} CASCADE;`)
    if (gap.extraOption) revokes.push(`REVOKE GRANT OPTION FOR ${on(gap.extraOption)} FROM ${to} CASCADE;`)
    const plain = minus(gap.missing, gap.missingOption)
    if (plain) grants.push(`GRANT ${on(plain)} TO ${to};`)
    if (gap.missingOption) grants.push(`GRANT ${on(gap.missingOption)} TO ${to} WITH GRANT OPTION;`)
  }
  return [...revokes, ...grants]
}

/** One `not reproduced:` line per gap left; `role` is the one the restore ran as. */
export function describeGaps(object: AclObject, gaps: readonly GrantGap[], role: string): string[] {
  return gaps.flatMap((gap) => {
    const where = `${object.target}${gap.column === undefined ? '' : ` column ${sqlIdent(gap.column)}`}`
    const names = (letters: string) => privilegeNames(letters)
    const lines: string[] = []
    if (gap.missing)
      lines.push(
        `${where}: ${gap.grantee} lacks ${names(gap.missing)} (the target does not let ${role} grant it)`,
      )
    else if (gap.missingOption)
      lines.push(
        `${where}: ${gap.grantee} holds ${names(gap.missingOption)} without the grant option the source gave (the target does not let ${role} grant it)`,
      )
    if (gap.extra || gap.extraOption)
      lines.push(
        `${where}: ${gap.grantee} holds ${names(gap.extra || gap.extraOption)}${gap.extra ? '' : ' WITH GRANT OPTION'}, which the source did not grant (the target does not let ${role} revoke it)`,
      )
    return lines
  })
}
