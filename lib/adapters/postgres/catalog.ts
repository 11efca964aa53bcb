// Reads what a backup needs to know about the selected tables from the catalogs:
// columns, keys, partitions and sequences. Runs inside the snapshot transaction.
import type pg from 'pg'
import type { ColumnInfo, ForeignKeyInfo, SequenceEntry } from '../../archive/manifest.ts'
import { isSchemaSelected, isTableSelected, type Selection } from '../../core/selection.ts'
import { IS_PADDED, TEXT_CAST_DIFFERS } from './export-table.ts'

export interface CatalogTable {
  oid: number
  schema: string
  name: string
  kind: 'r' | 'p'
  columns: ColumnInfo[]
  /** Which columns are collatable, so export can order them bytewise (COLLATE "C"). */
  collatable: Set<string>
  /** Which columns export casts to text (TEXT_CAST_DIFFERS). */
  textCast: Set<string>
  /** Which columns are `character(n)`, trimmed on export (IS_PADDED). */
  padded: Set<string>
  primaryKey: string[]
  foreignKeys: ForeignKeyInfo[]
  partitionOf?: string
  /** A rough size from the statistics, for scheduling and progress. */
  estimatedBytes: number
  /** `reltuples`: the row count the statistics last saw; undefined before the first ANALYZE. */
  estimatedRows?: number
}

export interface Catalog {
  schemas: string[]
  tables: CatalogTable[]
  sequences: SequenceEntry[]
  serverVersion: string
  serverVersionNum: number
  database: string
}

export async function readCatalog(client: pg.ClientBase, selection: Selection): Promise<Catalog> {
  const info = await client.query<{ version: string; num: string; db: string }>(
    `SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS num, current_database() AS db`,
  )
  const allSchemas = await client.query<{ nspname: string }>(
    `SELECT nspname FROM pg_namespace n
      WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
      ORDER BY nspname`,
  )
  // Tables of every schema are listed first, then filtered here with the same
  // pattern rules pg_dump uses, so selection stays one pure, tested function.
  const rels = await client.query<{
    oid: number
    schema: string
    name: string
    relkind: 'r' | 'p'
    ispartition: boolean
    root_schema: string | null
    root_name: string | null
    bytes: string
    reltuples: number
  }>(
    `SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind, c.relispartition AS ispartition,
            rn.nspname AS root_schema, rc.relname AS root_name,
            GREATEST(pg_total_relation_size(c.oid), 0)::text AS bytes, c.reltuples::float8 AS reltuples
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_class rc ON c.relispartition AND rc.oid = pg_partition_root(c.oid)
       LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't'
        AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
      ORDER BY n.nspname, c.relname`,
  )
  const selected = rels.rows.filter((r) => isTableSelected(selection, r.schema, r.name))
  const selectedNames = new Set(selected.map((r) => `${r.schema}.${r.name}`))
  // A partition whose root is also selected is exported through the root, once.
  const exported = selected.filter(
    (r) => !(r.ispartition && r.root_schema && selectedNames.has(`${r.root_schema}.${r.root_name}`)),
  )
  const oids = exported.map((r) => r.oid)

  const columns = await client.query<{
    oid: number
    name: string
    type: string
    notnull: boolean
    identity: string
    generated: string
    collatable: boolean
    text_cast: boolean
    padded: boolean
  }>(
    `SELECT a.attrelid::int AS oid, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS notnull, a.attidentity::text AS identity, a.attgenerated::text AS generated,
            a.attcollation <> 0 AS collatable, ${TEXT_CAST_DIFFERS} AS text_cast, ${IS_PADDED} AS padded
       FROM pg_attribute a
      WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attrelid, a.attnum`,
    [oids],
  )
  const keys = await client.query<{ oid: number; columns: string[] }>(
    `SELECT i.indrelid::int AS oid,
            array_agg(a.attname::text ORDER BY k.ord) AS columns
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indisprimary AND i.indrelid = ANY($1::oid[])
      GROUP BY i.indrelid`,
    [oids],
  )
  const fks = await client.query<{
    oid: number
    name: string
    columns: string[]
    ref_schema: string
    ref_name: string
    ref_columns: string[]
  }>(
    `SELECT c.conrelid::int AS oid, c.conname AS name,
            (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS columns,
            rn.nspname AS ref_schema, rc.relname AS ref_name,
            (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS ref_columns
       FROM pg_constraint c
       JOIN pg_class rc ON rc.oid = c.confrelid
       JOIN pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE c.contype = 'f' AND c.conrelid = ANY($1::oid[]) AND c.conparentid = 0
      ORDER BY c.conrelid, c.conname`,
    [oids],
  )

  const tables: CatalogTable[] = exported.map((r) => {
    const own = columns.rows.filter((c) => c.oid === r.oid)
    return {
      oid: r.oid,
      schema: r.schema,
      name: r.name,
      kind: r.relkind,
      columns: own.map((c) => ({
        name: c.name,
        type: c.type,
        nullable: !c.notnull,
        identity: c.identity === 'a' || c.identity === 'd' ? c.identity : null,
        generated: c.generated === 's',
      })),
      collatable: new Set(own.filter((c) => c.collatable).map((c) => c.name)),
      textCast: new Set(own.filter((c) => c.text_cast).map((c) => c.name)),
      padded: new Set(own.filter((c) => c.padded).map((c) => c.name)),
      primaryKey: keys.rows.find((k) => k.oid === r.oid)?.columns ?? [],
      foreignKeys: fks.rows
        .filter((f) => f.oid === r.oid)
        .map((f) => ({
          name: f.name,
          columns: f.columns,
          referencedSchema: f.ref_schema,
          referencedTable: f.ref_name,
          referencedColumns: f.ref_columns,
        })),
      ...(r.ispartition && r.root_schema ? { partitionOf: `${r.root_schema}.${r.root_name}` } : {}),
      estimatedBytes: Number(r.bytes),
      ...(r.reltuples >= 0 ? { estimatedRows: Math.round(r.reltuples) } : {}),
    }
  })

  const schemas = [
    ...new Set([
      ...allSchemas.rows
        .map((s) => s.nspname)
        .filter((s) => isSchemaSelected(selection, s) && selection.tables.length === 0),
      ...tables.map((t) => t.schema),
    ]),
  ].sort()

  const sequences = await client.query<{
    schema: string
    name: string
    last_value: string
    is_called: boolean
    owner_schema: string | null
    owner_table: string | null
    owner_column: string | null
  }>(
    `SELECT n.nspname AS schema, c.relname AS name,
            COALESCE(s.last_value, s.start_value)::text AS last_value, s.last_value IS NOT NULL AS is_called,
            o.owner_schema, o.owner_table, o.owner_column
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_sequences s ON s.schemaname = n.nspname AND s.sequencename = c.relname
       LEFT JOIN LATERAL (
             SELECT tn.nspname AS owner_schema, tc.relname AS owner_table, a.attname AS owner_column
               FROM pg_depend d
               JOIN pg_class tc ON tc.oid = d.refobjid
               JOIN pg_namespace tn ON tn.oid = tc.relnamespace
               JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
                AND d.deptype IN ('a', 'i')
              LIMIT 1) o ON true
      WHERE c.relkind = 'S' AND n.nspname = ANY($1::text[])
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
      ORDER BY n.nspname, c.relname`,
    [schemas],
  )
  const tableNames = new Set(tables.map((t) => `${t.schema}.${t.name}`))
  return {
    schemas,
    tables,
    sequences: sequences.rows
      // With -t, keep only the sequences of the selected tables.
      .filter((s) => selection.tables.length === 0 || tableNames.has(`${s.owner_schema}.${s.owner_table}`))
      .map((s) => ({
        schema: s.schema,
        name: s.name,
        // Until the first nextval() the value is the start; setval(seq, v, false) restores that state.
        lastValue: s.last_value,
        isCalled: s.is_called,
        ...(s.owner_table
          ? { ownedBy: { schema: s.owner_schema!, table: s.owner_table, column: s.owner_column! } }
          : {}),
      })),
    serverVersion: info.rows[0]!.version,
    serverVersionNum: Number(info.rows[0]!.num),
    database: info.rows[0]!.db,
  }
}
