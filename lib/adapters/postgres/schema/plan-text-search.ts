// Planning the selected schemas' own text search dictionaries and configurations. A
// table, generated column, index or function that uses `'public.english_unaccent'::regconfig`
// depends on the configuration through pg_depend, the configuration on the dictionaries
// it maps to, a dictionary on its template: without their nodes all of it would be skipped.
import type { CatalogTsConfiguration, CatalogTsDictionary } from './catalog-types.ts'
import { addNode, PHASE, type PlanContext } from './plan-nodes.ts'

/** CREATE TEXT SEARCH DICTIONARY with its template and the options the source set. */
export function renderTsDictionary(dictionary: CatalogTsDictionary): string {
  // dictinitoption is the server's own rendering of the options, quoted as SQL already.
  const options = dictionary.options ? `, ${dictionary.options}` : ''
  return `CREATE TEXT SEARCH DICTIONARY ${dictionary.ident} (TEMPLATE = ${dictionary.template}${options});`
}

/**
 * CREATE TEXT SEARCH CONFIGURATION from its parser (which starts with no mappings, unlike
 * COPY = …), then one ADD MAPPING per token type, its dictionaries in the source's order.
 */
export function renderTsConfiguration(configuration: CatalogTsConfiguration): string[] {
  return [
    `CREATE TEXT SEARCH CONFIGURATION ${configuration.ident} (PARSER = ${configuration.parser});`,
    ...configuration.mappings.map(
      (m) =>
        `ALTER TEXT SEARCH CONFIGURATION ${configuration.ident} ADD MAPPING FOR ${m.token} WITH ${m.dictionaries.join(', ')};`,
    ),
  ]
}

export function planTextSearch(context: PlanContext): void {
  for (const dictionary of context.catalog.tsDictionaries) {
    const key = `tsdict:${dictionary.oid}`
    addNode(context, {
      key,
      phase: PHASE.textSearch,
      order: dictionary.oid,
      kind: 'text search dictionary',
      name: dictionary.ident,
      statements: [renderTsDictionary(dictionary)],
    })
    context.maps.tsdict!.set(dictionary.oid, key)
  }
  for (const configuration of context.catalog.tsConfigurations) {
    const key = `tscfg:${configuration.oid}`
    addNode(context, {
      key,
      phase: PHASE.textSearch,
      order: configuration.oid,
      kind: 'text search configuration',
      name: configuration.ident,
      statements: renderTsConfiguration(configuration),
    })
    context.maps.tsconfig!.set(configuration.oid, key)
  }
}

/** Owners of the dictionaries and configurations schema.sql creates (no ACLs: not in the access data). */
export function textSearchOwners(
  context: PlanContext,
  emitted: Set<string>,
): { target: string; owner: string }[] {
  const { tsDictionaries, tsConfigurations } = context.catalog
  return [
    ...tsDictionaries
      .filter((d) => emitted.has(`tsdict:${d.oid}`))
      .map((d) => ({ target: `TEXT SEARCH DICTIONARY ${d.ident}`, owner: d.owner })),
    ...tsConfigurations
      .filter((c) => emitted.has(`tscfg:${c.oid}`))
      .map((c) => ({ target: `TEXT SEARCH CONFIGURATION ${c.ident}`, owner: c.owner })),
  ]
}
