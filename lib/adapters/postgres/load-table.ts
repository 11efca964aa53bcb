// Streams one archive data file into its table: NDJSON bytes -> COPY text (byte-level
// converter) -> COPY … FROM STDIN, counting (and unless the source checks it already,
// hashing) the file on the way so a file that is not the manifest's is caught before
// the transaction commits.
import { createHash, type Hash } from 'node:crypto'
import { type Readable, Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import type { TableEntry } from '../../archive/manifest.ts'
import { NdjsonToCopyStream } from '../../archive/ndjson-to-copy.ts'
import { isLifeboatError, LifeboatError } from '../../core/errors.ts'
import { queryError, quoteIdent, quoteQualified } from './connection.ts'

export interface LoadStats {
  rows: number
  bytes: number
  sha256: string
}

/** The COPY statement: the non-generated columns in manifest order (generated ones are recomputed). */
export function copyFromStatement(table: Pick<TableEntry, 'schema' | 'name' | 'columns'>): string {
  const columns = table.columns.filter((c) => !c.generated).map((c) => quoteIdent(c.name))
  // A table without columns takes empty lines and no column list (`()` is a syntax error).
  const list = columns.length > 0 ? ` (${columns.join(', ')})` : ''
  return `COPY ${quoteQualified(table.schema, table.name)}${list} FROM STDIN`
}

class FileMeter extends Transform {
  bytes = 0
  readonly hash: Hash | undefined
  readonly #onProgress: ((bytes: number) => void) | undefined
  #reported = 0

  constructor(onProgress: ((bytes: number) => void) | undefined, hashing: boolean) {
    super()
    this.#onProgress = onProgress
    this.hash = hashing ? createHash('sha256') : undefined
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash?.update(chunk)
    this.bytes += chunk.length
    if (this.#onProgress && this.bytes - this.#reported >= 8 * 1024 * 1024) {
      this.#reported = this.bytes
      this.#onProgress(this.bytes)
    }
    done(null, chunk)
  }
}

/**
 * Loads one table inside the caller's transaction. Throws ARCHIVE_CORRUPT for a
 * malformed line, DB_* for what the server refuses (constraint, type input), and
 * RESTORE_FAILED when the file's rows or hash differ from the manifest. With
 * `sourceChecked`, the source itself fails when its bytes are not the manifest's (the
 * restore's verified read): it is not hashed a second time, its rows still counted.
 */
export async function loadTable(
  client: pg.ClientBase,
  table: TableEntry,
  source: Readable,
  onProgress?: (rows: number, bytes: number) => void,
  sourceChecked = false,
): Promise<LoadStats> {
  const name = `${table.schema}.${table.name}`
  const converter = new NdjsonToCopyStream({
    file: table.file,
    columns: table.columns.filter((c) => !c.generated).map((c) => c.name),
  })
  const meter = new FileMeter(
    onProgress ? (bytes) => onProgress(converter.rows, bytes) : undefined,
    !sourceChecked,
  )
  try {
    const copy = client.query(copyFrom(copyFromStatement(table)))
    await pipeline(source, meter, converter, copy)
  } catch (error) {
    if (isLifeboatError(error)) throw error
    throw queryError(error, `loading ${name}`)
  }
  const stats = {
    rows: converter.rows,
    bytes: meter.bytes,
    sha256: meter.hash?.digest('hex') ?? table.sha256,
  }
  if (stats.sha256 !== table.sha256 || stats.rows !== table.rows) {
    throw new LifeboatError(
      'RESTORE_FAILED',
      `${table.file} changed since it was verified (${stats.rows} rows, sha256 ${stats.sha256.slice(0, 12)}…; the manifest says ${table.rows} rows, ${table.sha256.slice(0, 12)}…)`,
    )
  }
  return stats
}
