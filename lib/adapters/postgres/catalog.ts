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

type Relation = {
  oid: number
  schema: string
  name: string
  relkind: 'r' | 'p'
  ispartition: boolean
  root_schema: string | null
  root_name: string | null
  bytes: string
  reltuples: number
}
type ColumnRow = {
  oid: number
  name: string
  type: string
  notnull: boolean
  identity: string
  generated: string
  collatable: boolean
  text_cast: boolean
  padded: boolean
}
type KeyRow = { oid: number; columns: string[] }
type ForeignKeyRow = {
  oid: number
  name: string
  columns: string[]
  ref_schema: string
  ref_name: string
  ref_columns: string[]
}
type SequenceRow = {
  schema: string
  name: string
  last_value: string
  is_called: boolean
  owner_schema: string | null
  owner_table: string | null
  owner_column: string | null
  owner_selected: boolean
  used_by: string[]
}

export async function readCatalog(client: pg.ClientBase, selection: Selection): Promise<Catalog> {
  const info = await client.query<{ version: string; num: string; db: string }>(
    `SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS num, current_database() AS db`,
  )
  const allSchemas = await readSchemaNames(client)
  const exported = await readExportedRelations(client, selection)
  const oids = exported.map((r) => r.oid)
  const columns = await readColumns(client, oids)
  const keys = await readPrimaryKeys(client, oids)
  const fks = await readForeignKeys(client, oids)
  const tables = exported.map((r) => catalogTable(r, columns, keys, fks))
  const schemas = [
    ...new Set([
      ...allSchemas.filter((s) => isSchemaSelected(selection, s) && selection.tables.length === 0),
      ...tables.map((t) => t.schema),
    ]),
  ].sort()
  return {
    schemas,
    tables,
    sequences: await readSequences(
      client,
      schemas,
      tables.map((t) => t.oid),
      selection.tables.length === 0,
    ),
    serverVersion: info.rows[0]!.version,
    serverVersionNum: Number(info.rows[0]!.num),
    database: info.rows[0]!.db,
  }
}

/** Every schema not owned by an extension (nor the system's). */
async function readSchemaNames(client: pg.ClientBase): Promise<string[]> {
  const { rows } = await client.query<{ nspname: string }>(
    `SELECT nspname FROM pg_namespace n
      WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
      ORDER BY nspname`,
  )
  return rows.map((s) => s.nspname)
}

/**
 * Tables of every schema are listed first, then filtered here with the same pattern rules
 * pg_dump uses, so selection stays one pure, tested function. A partition whose root is
 * also selected is exported through the root, once.
 */
async function readExportedRelations(client: pg.ClientBase, selection: Selection): Promise<Relation[]> {
  const rels = await client.query<Relation>(
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
  return selected.filter(
    (r) => !(r.ispartition && r.root_schema && selectedNames.has(`${r.root_schema}.${r.root_name}`)),
  )
}

async function readColumns(client: pg.ClientBase, oids: number[]): Promise<ColumnRow[]> {
  const { rows } = await client.query<ColumnRow>(
    `SELECT a.attrelid::int AS oid, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS notnull, a.attidentity::text AS identity, a.attgenerated::text AS generated,
            a.attcollation <> 0 AS collatable, ${TEXT_CAST_DIFFERS} AS text_cast, ${IS_PADDED} AS padded
       FROM pg_attribute a
      WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attrelid, a.attnum`,
    [oids],
  )
  return rows
}

async function readPrimaryKeys(client: pg.ClientBase, oids: number[]): Promise<KeyRow[]> {
  const { rows } = await client.query<KeyRow>(
    `SELECT i.indrelid::int AS oid,
            array_agg(a.attname::text ORDER BY k.ord) AS columns
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indisprimary AND i.indrelid = ANY($1::oid[])
      GROUP BY i.indrelid`,
    [oids],
  )
  return rows
}

async function readForeignKeys(client: pg.ClientBase, oids: number[]): Promise<ForeignKeyRow[]> {
  const { rows } = await client.query<ForeignKeyRow>(
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
  return rows
}

function catalogTable(r: Relation, columns: ColumnRow[], keys: KeyRow[], fks: ForeignKeyRow[]): CatalogTable {
  const own = columns.filter((c) => c.oid === r.oid)
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
    primaryKey: keys.find((k) => k.oid === r.oid)?.columns ?? [],
    foreignKeys: fks
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
}

/**
 * The sequences a backup records: those of the selected schemas (all of them without
 * -t), and wherever they live, those the selected tables own or call in a default.
 */
async function readSequences(
  client: pg.ClientBase,
  schemas: readonly string[],
  selectedOids: readonly number[],
  wholeSchemas: boolean,
): Promise<SequenceEntry[]> {
  const sequences = await client.query<SequenceRow>(
    // used_by: the selected tables whose column defaults call nextval() on it (pg_depend
    // records it), wherever the sequence lives: a subset restore must set those too.
    `WITH used AS (
       SELECT d.refobjid AS seq, array_agg(DISTINCT tn.nspname || '.' || tc.relname ORDER BY tn.nspname || '.' || tc.relname) AS used_by
         FROM pg_depend d
         JOIN pg_attrdef ad ON ad.oid = d.objid
         JOIN pg_class tc ON tc.oid = ad.adrelid
         JOIN pg_namespace tn ON tn.oid = tc.relnamespace
        WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass AND ad.adrelid = ANY($2::oid[])
        GROUP BY d.refobjid)
     SELECT n.nspname AS schema, c.relname AS name,
            COALESCE(s.last_value, s.start_value)::text AS last_value, s.last_value IS NOT NULL AS is_called,
            o.owner_schema, o.owner_table, o.owner_column, COALESCE(o.owner_oid = ANY($2::oid[]), false) AS owner_selected,
            COALESCE(u.used_by, ARRAY[]::text[]) AS used_by
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_sequences s ON s.schemaname = n.nspname AND s.sequencename = c.relname
       LEFT JOIN used u ON u.seq = c.oid
       LEFT JOIN LATERAL (
             SELECT tn.nspname AS owner_schema, tc.relname AS owner_table, a.attname AS owner_column, tc.oid AS owner_oid
               FROM pg_depend d
               JOIN pg_class tc ON tc.oid = d.refobjid
               JOIN pg_namespace tn ON tn.oid = tc.relnamespace
               JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
                AND d.deptype IN ('a', 'i')
              LIMIT 1) o ON true
      WHERE c.relkind = 'S' AND (n.nspname = ANY($1::text[]) OR u.seq IS NOT NULL)
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
      ORDER BY n.nspname, c.relname`,
    [schemas, selectedOids],
  )
  return (
    sequences.rows
      // With -t, only the sequences the selected tables own or call in a default.
      .filter((s) => (wholeSchemas && schemas.includes(s.schema)) || s.owner_selected || s.used_by.length > 0)
      .map((s) => {
        const owner = s.owner_selected ? [`${s.owner_schema}.${s.owner_table}`] : []
        const usedBy = [...new Set([...owner, ...s.used_by])].sort()
        return {
          schema: s.schema,
          name: s.name,
          // Until the first nextval() the value is the start; setval(seq, v, false) restores that state.
          lastValue: s.last_value,
          isCalled: s.is_called,
          ...(s.owner_table
            ? { ownedBy: { schema: s.owner_schema!, table: s.owner_table, column: s.owner_column! } }
            : {}),
          ...(usedBy.length > 0 ? { usedBy } : {}),
        }
      })
  )
}
