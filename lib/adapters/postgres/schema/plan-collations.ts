// Planning the selected schemas' own collations (CREATE COLLATION): columns, domains,
// ranges and indexes that use one depend on it through pg_depend, so without its node
// they would all be skipped.
import type { CatalogCollation } from './catalog-types.ts'
import { addNode, omit, PHASE, type PlanContext } from './plan-nodes.ts'

const PROVIDER: Record<string, string> = { c: 'libc', i: 'icu', b: 'builtin' }

/** CREATE COLLATION with the options the catalogs hold; null for a provider we do not know. */
export function renderCollation(collation: CatalogCollation): string | null {
  const provider = PROVIDER[collation.provider]
  if (!provider) return null
  const options = [`provider = ${provider}`]
  if (collation.provider === 'c') {
    // One `locale` when both categories agree, as CREATE COLLATION reads it back.
    if (collation.lcCollate === collation.lcCtype) options.push(`locale = ${collation.lcCollate}`)
    else options.push(`lc_collate = ${collation.lcCollate}`, `lc_ctype = ${collation.lcCtype}`)
  } else if (collation.locale !== null) options.push(`locale = ${collation.locale}`)
  if (collation.rules !== null) options.push(`rules = ${collation.rules}`)
  if (!collation.deterministic) options.push('deterministic = false')
  return `CREATE COLLATION ${collation.ident} (${options.join(', ')});`
}

export function planCollations(context: PlanContext): void {
  for (const collation of context.catalog.collations) {
    const statement = renderCollation(collation)
    if (statement === null) {
      omit(context, 'collation', collation.ident, `its provider (${collation.provider}) is not known`)
      continue
    }
    const key = `coll:${collation.oid}`
    addNode(context, {
      key,
      phase: PHASE.collation,
      order: collation.oid,
      kind: 'collation',
      name: collation.ident,
      statements: [statement],
    })
    context.maps.collation!.set(collation.oid, key)
  }
}

/**
 * Owners of the collations schema.sql creates. They hold no privileges, so the access
 * data (owners and ACLs, checked and re-applied by the restore) does not list them.
 */
export function collationOwners(
  context: PlanContext,
  emitted: Set<string>,
): { target: string; owner: string }[] {
  return context.catalog.collations
    .filter((c) => emitted.has(`coll:${c.oid}`))
    .map((c) => ({ target: `COLLATION ${c.ident}`, owner: c.owner }))
}
