// Streams one table out of PostgreSQL as NDJSON (values as their text output): the
// server sends COPY text, CopyTextToNdjson rewrites it byte by byte into the lines
// `row_to_json` would build, four times cheaper for the server (bench/README.md);
// hashing and counting on the way; rows are never parsed.
import { createHash } from 'node:crypto'
import type { Writable } from 'node:stream'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import type { BlockPool } from '../../archive/block-pool.ts'
import { CopyTextToNdjson } from '../../archive/copy-text-to-ndjson.ts'
import { RowDigest } from '../../archive/row-digest.ts'
import type { KeyRange } from '../../backup/export-plan.ts'
import { queryError, quoteIdent, quoteQualified } from './connection.ts'

export interface ExportableTable {
  schema: string
  name: string
  /** `p`: a partitioned root, read with its partitions; `r`: the table alone (ONLY). */
  kind: 'r' | 'p'
  columns: readonly { name: string; generated: boolean }[]
  primaryKey: readonly string[]
  collatable: ReadonlySet<string>
  /** Columns whose `::text` cast is not their output function (TEXT_CAST_DIFFERS): cast on export. */
  textCast: ReadonlySet<string>
  /** `character(n)` columns (IS_PADDED): `::text` drops trailing spaces, done here, not by the server. */
  padded: ReadonlySet<string>
}

export interface ExportStats {
  rows: number
  bytes: number
  sha256: string
  /** The rows' digest (lib/archive/row-digest.ts), over the COPY text as it came. */
  digest: RowDigest
}

const NEWLINE = 0x0a

/**
 * SQL (over pg_attribute `a`) true for a column whose `::text` cast is a function rather
 * than its output function (boolean gives `true`, not `t`; inet adds `/32`), or a domain.
 * Archive values are `col::text`, as the API mode reads them too, so these are cast on
 * export; every other column's COPY text is already `col::text`.
 */
export const TEXT_CAST_DIFFERS = `(EXISTS (SELECT 1 FROM pg_type ty WHERE ty.oid = a.atttypid AND ty.typtype = 'd')
  OR (a.atttypid <> 'bpchar'::regtype AND EXISTS (SELECT 1 FROM pg_cast ca WHERE ca.castsource = a.atttypid
    AND ca.casttarget = 'text'::regtype AND ca.castmethod = 'f')))`

/**
 * SQL true for `character(n)`: its `::text` cast only drops trailing spaces, which the
 * converter does for a fraction of what the cast costs the server.
 */
export const IS_PADDED = `(a.atttypid = 'bpchar'::regtype)`

export interface ExportOptions {
  /**
   * Order rows by primary key, or by the whole row's text, bytewise, so that a
   * re-export of a restored table gives the same bytes (`rowOrder: key`). Default on;
   * a backup that records row digests exports unordered (`rowOrder: none`): one scan
   * the digest's scan joins, no sort (docs/archive-format.md).
   */
  ordered?: boolean
  /** Where the NDJSON blocks come from: the archive's pool, which its gzip gives them back to. */
  blocks?: BlockPool
}

/**
 * The COPY statement, text format: each value as `col::text` would give it, so the
 * NDJSON is what `row_to_json(s.*)` over `col::text AS col` gives.
 */
export function exportStatement(
  table: ExportableTable,
  range?: KeyRange,
  options: ExportOptions = {},
): string {
  const select = exportedSelectList(table)
  const byteOrder = (name: string) => (table.collatable.has(name) ? ` COLLATE "C"` : '')
  const order =
    table.primaryKey.length > 0
      ? table.primaryKey.map((k) => `t.${quoteIdent(k)}${byteOrder(k)}`).join(', ')
      : `t::text COLLATE "C"`
  // ONLY keeps inheritance children out; a partitioned root has no rows of its own.
  const only = table.kind === 'p' ? '' : 'ONLY '
  // Bounds are bigints, so they are written as plain integer literals.
  const bounds = [
    ...(range?.lower !== undefined ? [`t.${quoteIdent(range.column)} >= ${range.lower}`] : []),
    ...(range?.upper !== undefined ? [`t.${quoteIdent(range.column)} < ${range.upper}`] : []),
  ]
  const where = bounds.length > 0 ? ` WHERE ${bounds.join(' AND ')}` : ''
  const orderBy = (options.ordered ?? true) ? ` ORDER BY ${order}` : ''
  return `COPY (SELECT ${select} FROM ${only}${quoteQualified(table.schema, table.name)} t${where}${orderBy}) TO STDOUT`
}

/** `t."a", t."b"::text, …`: each exported value as `col::text` gives it (TEXT_CAST_DIFFERS). */
export function exportedSelectList(table: Pick<ExportableTable, 'columns' | 'textCast'>): string {
  return exportedColumns(table)
    .map((name) => (table.textCast.has(name) ? `t.${quoteIdent(name)}::text` : `t.${quoteIdent(name)}`))
    .join(', ')
}

/** The archive's columns: generated ones are recomputed on restore, so not exported. */
export function exportedColumns(table: Pick<ExportableTable, 'columns'>): string[] {
  return table.columns.filter((c) => !c.generated).map((c) => c.name)
}

/** Counts newline-terminated rows and (unless told not to) hashes the bytes as they pass. */
export class NdjsonMeter extends Transform {
  rows = 0
  bytes = 0
  readonly #hash = createHash('sha256')
  readonly #hashing: boolean
  readonly #onProgress: ((rows: number, bytes: number) => void) | undefined
  #lastReport = 0

  constructor(onProgress?: (rows: number, bytes: number) => void, options: { hash?: boolean } = {}) {
    super()
    this.#onProgress = onProgress
    this.#hashing = options.hash ?? true
  }

  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    done: (error?: Error | null, data?: Buffer) => void,
  ) {
    if (this.#hashing) this.#hash.update(chunk)
    this.bytes += chunk.length
    let at = chunk.indexOf(NEWLINE)
    while (at !== -1) {
      this.rows++
      at = chunk.indexOf(NEWLINE, at + 1)
    }
    if (this.#onProgress && this.bytes - this.#lastReport >= 8 * 1024 * 1024) {
      this.#lastReport = this.bytes
      this.#onProgress(this.rows, this.bytes)
    }
    done(null, chunk)
  }

  digest(): string {
    return this.#hash.digest('hex')
  }
}

/** Feeds the COPY text to the row digest on its way to the converter. */
class DigestTap extends Transform {
  readonly #digest: RowDigest
  constructor(digest: RowDigest) {
    super()
    this.#digest = digest
  }
  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    done: (error?: Error | null, data?: Buffer) => void,
  ) {
    try {
      this.#digest.update(chunk)
    } catch (error) {
      done(error as Error)
      return
    }
    done(null, chunk)
  }
}

export async function exportTable(
  client: pg.ClientBase,
  table: ExportableTable,
  destination: Writable,
  onProgress?: (rows: number, bytes: number) => void,
  /** A key range: one part of a split table, which is hashed when the parts are joined. */
  range?: KeyRange,
  options: ExportOptions = {},
): Promise<ExportStats> {
  const meter = new NdjsonMeter(onProgress, { hash: range === undefined })
  const columns = exportedColumns(table)
  const digest = new RowDigest(columns.length)
  try {
    const source = client.query(copyTo(exportStatement(table, range, options)))
    await pipeline(
      source,
      new DigestTap(digest),
      new CopyTextToNdjson(columns, table.padded, options.blocks),
      meter,
      destination,
    )
  } catch (error) {
    throw queryError(error, `exporting ${table.schema}.${table.name}`)
  }
  return { rows: meter.rows, bytes: meter.bytes, sha256: meter.digest(), digest }
}
