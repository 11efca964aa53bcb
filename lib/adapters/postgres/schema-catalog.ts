// Reads what schema.sql needs from the system catalogs, in the caller's transaction
// (the backup's snapshot), as plain data for the pure planner in schema-from-catalog.ts.
import type pg from 'pg'
import { LifeboatError } from '../../core/errors.ts'
import { moreQueries } from './schema/catalog-more-queries.ts'
import { objectQueries } from './schema/catalog-queries.ts'
import type {
  CatalogAggregate,
  CatalogCollation,
  CatalogColumn,
  CatalogConstraint,
  CatalogDefaultAcl,
  CatalogDependency,
  CatalogDomainConstraint,
  CatalogExtension,
  CatalogFunction,
  CatalogIndex,
  CatalogOutsideTrigger,
  CatalogPolicy,
  CatalogPublication,
  CatalogRange,
  CatalogRelation,
  CatalogRule,
  CatalogSchema,
  CatalogSequence,
  CatalogStatistics,
  CatalogTrigger,
  CatalogTsConfiguration,
  CatalogTsDictionary,
  CatalogType,
  SchemaCatalog,
} from './schema/catalog-types.ts'

export type * from './schema/catalog-types.ts'

// The settings pg_dump pins before deparsing: an empty search_path makes every
// pg_get_*def() and format_type() qualify names; ISO dates and exact floats make
// literals in defaults and checks read back identically on any target.
const PINNED_SETTINGS: Record<string, string> = {
  search_path: '',
  DateStyle: 'ISO',
  IntervalStyle: 'postgres',
  extra_float_digits: '3',
  standard_conforming_strings: 'on',
}

async function withPinnedSettings<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T> {
  const names = Object.keys(PINNED_SETTINGS)
  const saved = await client.query<{ name: string; value: string }>(
    'SELECT n AS name, current_setting(n) AS value FROM unnest($1::text[]) AS n',
    [names],
  )
  // Session-level, restored afterwards: works with or without the caller's transaction
  // (a transaction that aborts takes the change back with it anyway).
  const pin = 'SELECT set_config(n, v, false) FROM unnest($1::text[], $2::text[]) AS s(n, v)'
  await client.query(pin, [names, names.map((n) => PINNED_SETTINGS[n])])
  try {
    return await work()
  } finally {
    await client
      .query(pin, [saved.rows.map((r) => r.name), saved.rows.map((r) => r.value)])
      .catch(() => undefined)
  }
}

/**
 * Reads the selected schemas' objects. Runs only SELECTs and transaction-local
 * settings, so it is safe inside a REPEATABLE READ READ ONLY snapshot transaction.
 * (As with pg_dump, the pg_get_*def() functions read the current catalogs, not the
 * snapshot: DDL committed during the backup may show.)
 */
export async function readSchemaCatalog(
  client: pg.ClientBase,
  schemas: readonly string[],
): Promise<SchemaCatalog> {
  try {
    return await withPinnedSettings(client, async () => {
      const version = await client.query<{ v: string; n: string }>(
        "SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n",
      )
      const serverVersion = version.rows[0]!.v
      const serverVersionNum = Number(version.rows[0]!.n)
      const q = { ...objectQueries(serverVersionNum), ...moreQueries(serverVersionNum) }
      const args = [schemas]
      const rows = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = args) =>
        (await client.query<T>(text, values)).rows
      // One statement at a time: a client runs queries sequentially anyway.
      const catalog: SchemaCatalog = {
        serverVersion,
        serverVersionNum,
        schemas: await rows<CatalogSchema>(q.schemas),
        extensions: await rows<CatalogExtension>(q.extensions, []),
        collations: await rows<CatalogCollation>(q.collations),
        tsDictionaries: await rows<CatalogTsDictionary>(q.tsDictionaries),
        tsConfigurations: await rows<CatalogTsConfiguration>(q.tsConfigurations),
        types: await rows<CatalogType>(q.types),
        domainConstraints: await rows<CatalogDomainConstraint>(q.domainConstraints),
        ranges: await rows<CatalogRange>(q.ranges),
        functions: await rows<CatalogFunction>(q.functions),
        sequences: await rows<CatalogSequence>(q.sequences),
        relations: await rows<CatalogRelation>(q.relations),
        columns: await rows<CatalogColumn>(q.columns),
        constraints: await rows<CatalogConstraint>(q.constraints),
        indexes: await rows<CatalogIndex>(q.indexes),
        triggers: await rows<CatalogTrigger>(q.triggers),
        policies: await rows<CatalogPolicy>(q.policies),
        rules: await rows<CatalogRule>(q.rules),
        aggregates: await rows<CatalogAggregate>(q.aggregates),
        statistics: await rows<CatalogStatistics>(q.statistics),
        outsideTriggers: await rows<CatalogOutsideTrigger>(q.outsideTriggers),
        dependencies: await rows<CatalogDependency>(q.dependencies),
        unsupported: await rows<{ kind: string; names: string[] }>(q.unsupported),
        eventTriggers: await rows<{ name: string; owner: string }>(q.eventTriggers, []),
        defaultAcls: await rows<CatalogDefaultAcl>(q.defaultAcls),
        publications: (await rows<CatalogPublication>(q.publications)).filter(
          (p) => p.allTables || p.tables.length > 0 || p.schemas.length > 0,
        ),
      }
      return catalog
    })
  } catch (error) {
    throw new LifeboatError(
      'DB_QUERY',
      `reading the catalogs for schema.sql failed: ${(error as Error).message}`,
      {
        cause: error,
      },
    )
  }
}
