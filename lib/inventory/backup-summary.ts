// What is inside one backup, from its manifest sidecar alone: tables with rows, sizes
// and checksums, a schema summary, and the structural facts a restore will meet (no
// primary key, foreign keys leaving the backup, no schema.sql). Pure.
import { type Manifest, qualifiedName } from '../archive/manifest.ts'
import { plural } from '../core/format.ts'

export interface BackupSummary {
  id: string
  location: string
  archiveBytes: number
  encrypted: boolean
  startedAt: string
  finishedAt: string
  seconds: number
  tool: string
  compression: string
  source: Manifest['source']
  schemaSql: { source: string; bytes: number; sha256: string } | null
  schema: {
    schemas: string[]
    tables: number
    partitioned: number
    partitions: number
    columns: number
    primaryKeys: number
    foreignKeys: number
    identityColumns: number
    generatedColumns: number
    sequences: number
  }
  tables: {
    table: string
    rows: number
    bytes: number
    sha256: string
    columns: number
    primaryKey: string[]
  }[]
  totals: Manifest['totals']
  warnings: string[]
}

export function summarizeBackup(
  manifest: Manifest,
  stored: { location: string; archiveBytes: number; encrypted: boolean },
): BackupSummary {
  const tables = manifest.tables
  const columns = tables.flatMap((t) => t.columns)
  return {
    id: manifest.id,
    location: stored.location,
    archiveBytes: manifest.archive?.bytes ?? stored.archiveBytes,
    encrypted: manifest.encrypted || stored.encrypted,
    startedAt: manifest.startedAt,
    finishedAt: manifest.finishedAt,
    seconds: (Date.parse(manifest.finishedAt) - Date.parse(manifest.startedAt)) / 1000,
    tool: `${manifest.tool.name} ${manifest.tool.version}`,
    compression: `${manifest.compression.method} level ${manifest.compression.level}`,
    source: manifest.source,
    schemaSql: manifest.schemaSql
      ? {
          source: manifest.schemaSql.source,
          bytes: manifest.schemaSql.bytes,
          sha256: manifest.schemaSql.sha256,
        }
      : null,
    schema: {
      schemas: [...new Set(tables.map((t) => t.schema))].sort(),
      tables: tables.length,
      partitioned: tables.filter((t) => t.kind === 'p').length,
      partitions: tables.filter((t) => t.partitionOf).length,
      columns: columns.length,
      primaryKeys: tables.filter((t) => t.primaryKey.length > 0).length,
      foreignKeys: tables.reduce((n, t) => n + t.foreignKeys.length, 0),
      identityColumns: columns.filter((c) => c.identity).length,
      generatedColumns: columns.filter((c) => c.generated).length,
      sequences: manifest.sequences.length,
    },
    tables: manifest.restoreOrder.flatMap((name) => {
      const t = tables.find((table) => qualifiedName(table) === name)
      return t
        ? [
            {
              table: name,
              rows: t.rows,
              bytes: t.bytes,
              sha256: t.sha256,
              columns: t.columns.length,
              primaryKey: t.primaryKey,
            },
          ]
        : []
    }),
    totals: manifest.totals,
    warnings: structuralWarnings(manifest),
  }
}

/** What a person restoring this backup should know before they start. */
export function structuralWarnings(manifest: Manifest): string[] {
  const warnings: string[] = []
  const names = new Set(manifest.tables.map(qualifiedName))
  if (manifest.tables.length === 0) warnings.push('the backup holds no tables')
  if (!manifest.source.consistent) {
    warnings.push('taken through the API: tables were read one after another, not from one snapshot')
  }
  if (!manifest.schemaSql) {
    warnings.push(
      'no schema.sql: the tables must exist in the target before a restore (--create-schema cannot be used)',
    )
  }
  const keyless = manifest.tables
    .filter((t) => t.kind !== 'p' && t.primaryKey.length === 0)
    .map(qualifiedName)
  if (keyless.length > 0) {
    warnings.push(
      `${plural(keyless.length, 'table')} without a primary key (rows cannot be told apart, duplicates survive a restore): ${keyless.join(', ')}`,
    )
  }
  for (const table of manifest.tables) {
    for (const fk of table.foreignKeys) {
      const referenced = `${fk.referencedSchema}.${fk.referencedTable}`
      if (names.has(referenced)) continue
      warnings.push(
        `${qualifiedName(table)} references ${referenced} (${fk.name}), which is not in this backup: the target must already hold it`,
      )
    }
  }
  return warnings
}
