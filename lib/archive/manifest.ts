// Archive format v1: the manifest's shape and its validation (DESIGN.md). Pure.
import { LifeboatError } from '../core/errors.ts'
import type { LedgerRecord } from '../core/supabase-platform.ts'
import type { StorageReference } from '../storage/manifest.ts'
import {
  type ManifestAccess,
  type ManifestRoles,
  type SchemaCapture,
  validateAccess,
  validateRoles,
} from './access.ts'
import type { TableDigest } from './table-digest.ts'

export const FORMAT_VERSION = 1

export interface ColumnInfo {
  name: string
  /** `format_type()` text, e.g. `numeric(30,10)`, `public.mood`, `integer[]`. */
  type: string
  nullable: boolean
  /** `a` GENERATED ALWAYS, `d` BY DEFAULT, or null. */
  identity: 'a' | 'd' | null
  /** Stored generated columns are recomputed on restore and absent from the data. */
  generated: boolean
}

export interface ForeignKeyInfo {
  name: string
  columns: string[]
  referencedSchema: string
  referencedTable: string
  referencedColumns: string[]
}

export interface TableEntry {
  schema: string
  name: string
  file: string
  rows: number
  bytes: number
  sha256: string
  columns: ColumnInfo[]
  primaryKey: string[]
  foreignKeys: ForeignKeyInfo[]
  /** `p` partitioned parent (rows come through its partitions), `r` ordinary. */
  kind: 'r' | 'p'
  /** For a partition: the parent it belongs to. */
  partitionOf?: string
  /**
   * The server's order-independent digest of the rows, taken in the backup's snapshot
   * (lib/archive/table-digest.ts). Absent in archives written before it existed, and
   * for API-mode backups: their restores prove the load by re-export instead.
   */
  digest?: TableDigest
  /**
   * How the file's rows are ordered: `key` by primary key, or by the whole row's text
   * where there is none, so a re-export of the restored table gives the same bytes
   * (what an absent field means: every archive before row digests); `none` in the
   * order the server read them, proven by `digest` instead.
   */
  rowOrder?: 'key' | 'none'
}

export interface SequenceEntry {
  schema: string
  name: string
  lastValue: string
  isCalled: boolean
  /** The column that owns the sequence (serial / identity), if any. */
  ownedBy?: { schema: string; table: string; column: string }
  /** `schema.table` names whose column defaults use the sequence (standalone ones included). */
  usedBy?: string[]
}

export interface Manifest {
  format: typeof FORMAT_VERSION
  id: string
  tool: { name: 'lifeboat'; version: string }
  startedAt: string
  finishedAt: string
  source: {
    kind: 'postgres' | 'rest'
    serverVersion: string
    database: string
    host: string
    /** Exported snapshot id, or null for a non-consistent (REST) backup. */
    snapshot: string | null
    consistent: boolean
    /**
     * What the source server said about itself (PostgreSQL sources): a restore recognises
     * its source by this, however the target's URL is spelled.
     */
    identity?: { systemIdentifier: string | null; startedAt: string; database: string; databaseOid: number }
    /**
     * The migrations the platform's services had applied (Supabase Auth, Storage), from
     * their ledger tables in the snapshot: a restore compares them before loading.
     */
    migrations?: LedgerRecord[]
  }
  compression: { method: 'gzip'; level: number }
  encrypted: boolean
  /** With the capture fields (omitted objects, materialized views, …) since they exist; see access.ts. */
  schemaSql:
    | ({ file: 'schema.sql'; source: string; sha256: string; bytes: number } & Partial<SchemaCapture>)
    | null
  /** Owners, privileges, policies, default privileges, publications (absent in older archives). */
  access?: ManifestAccess
  /** The roles the access data names, and roles.sql (absent in older archives). */
  roles?: ManifestRoles
  tables: TableEntry[]
  sequences: SequenceEntry[]
  /** `schema.table` names, referenced tables first. */
  restoreOrder: string[]
  totals: { tables: number; rows: number; bytes: number }
  /** The Storage files of this backup (docs/archive-format.md); absent when none were taken. */
  storage?: StorageReference
  /** Size of the stored archive; only in the sidecar, written after upload. */
  archive?: { key: string; bytes: number; sha256: string }
}

export function qualifiedName(table: { schema: string; name: string }): string {
  return `${table.schema}.${table.name}`
}

/** Parses manifest text, refusing anything that is not format v1. */
export function parseManifest(text: string, where: string): Manifest {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new LifeboatError('ARCHIVE_CORRUPT', `${where}: manifest.json is not valid JSON`)
  }
  const m = value as Partial<Manifest>
  if (typeof m !== 'object' || m === null || typeof m.format !== 'number') {
    throw new LifeboatError('ARCHIVE_FORMAT', `${where}: manifest.json has no format version`)
  }
  if (m.format !== FORMAT_VERSION) {
    throw new LifeboatError(
      'ARCHIVE_FORMAT',
      `${where}: archive format ${m.format} is not supported (expected ${FORMAT_VERSION})`,
    )
  }
  if (!Array.isArray(m.tables) || typeof m.id !== 'string' || !Array.isArray(m.restoreOrder)) {
    throw new LifeboatError('ARCHIVE_CORRUPT', `${where}: manifest.json lacks id, tables or restoreOrder`)
  }
  validateAccess(m.access, where)
  validateRoles(m.roles, where)
  return m as Manifest
}
