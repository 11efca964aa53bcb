// Exports the tables of one snapshot with N connections and hands each data file to
// the archive in restore order. Big tables with an integer key are split into key
// ranges exported in parallel and joined in key order (lib/backup/export-plan.ts).
import { createReadStream, createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import type { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import type { CatalogTable } from '../adapters/postgres/catalog.ts'
import {
  connect,
  PINNED_SESSION_SETTINGS,
  queryError,
  quoteIdent,
  quoteQualified,
} from '../adapters/postgres/connection.ts'
import { exportTable, NdjsonMeter } from '../adapters/postgres/export-table.ts'
import { dataFileName } from '../archive/layout.ts'
import { qualifiedName, type TableEntry } from '../archive/manifest.ts'
import { RowDigest } from '../archive/row-digest.ts'
import { DIGEST_METHOD } from '../archive/table-digest.ts'
import type { ArchiveWriter } from '../archive/writer.ts'
import { deferred } from '../core/deferred.ts'
import { LifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import type { Secret } from '../core/secret.ts'
import { type KeyRange, partCountFor, splitKeyOf, splitKeyRange } from './export-plan.ts'

export interface ExportContext {
  emit: EmitEvent
  leader: pg.Client
  /** Worker connections opened here; the caller ends them (also on failure). */
  workers: pg.Client[]
  writer: ArchiveWriter
  snapshot: string
  source: Secret
  jobs: number
  /** Tables estimated smaller than this are never split (default SPLIT_MIN_BYTES). */
  splitMinBytes?: number
  /** Rows in key order (`rowOrder: key`), or as read (`none`: the manifest's digests prove them). */
  ordered: boolean
}

/** One unit of work: a whole table, or one key range of it. */
interface WorkItem {
  table: number
  part: number
  range?: KeyRange
}

interface PartResult {
  rows: number
  bytes: number
  sha256?: string
  /** The part's row digest; sums, so a split table's is the sum of its parts'. */
  digest: RowDigest
}

export async function exportTables(
  context: ExportContext,
  tables: readonly CatalogTable[],
): Promise<TableEntry[]> {
  const { emit, writer } = context
  const jobs = Math.max(1, context.jobs)
  const items = await planWork(context.leader, tables, jobs, context.splitMinBytes)
  const estimatedRows = tables.reduce((n, t) => n + (t.estimatedRows ?? 0), 0)
  emit({ type: 'phase-start', phase: 'export', total: { rows: estimatedRows, tables: tables.length } })
  const connections = await openWorkers(context, Math.min(jobs, items.length))

  const partsOf = tables.map((_, t) => items.filter((item) => item.table === t).length)
  const done = items.map(() => deferred<PartResult>())
  const packed = tables.map(() => deferred<void>())
  const failure = deferred<never>()
  failure.promise.catch(() => undefined)
  // Workers run at most `window` items ahead of the tar, which bounds the spooled data.
  const window = connections.length * 2
  const rowsSoFar = tables.map(() => 0)
  const bytesSoFar = tables.map(() => 0)
  const began = tables.map(() => 0)
  let next = 0
  let stopped = false

  const partPath = (item: WorkItem) => `${writer.spoolPath(fileOf(tables[item.table]!))}.part-${item.part}`
  // A whole table is compressed as it is exported; parts stay plain until joined.
  const destinationOf = (item: WorkItem) =>
    partsOf[item.table]! > 1 ? createWriteStream(partPath(item)) : writer.spool(fileOf(tables[item.table]!))

  const exportItem = async (item: WorkItem, client: pg.Client): Promise<PartResult> => {
    const table = tables[item.table]!
    const name = qualifiedName(table)
    if (item.part === 0) {
      began[item.table] = Date.now()
      emit({
        type: 'table-start',
        table: name,
        index: item.table,
        total: tables.length,
        phase: 'export',
        ...(table.estimatedRows === undefined ? {} : { estimatedRows: table.estimatedRows }),
        estimatedBytes: table.estimatedBytes,
      })
    }
    const stats = await exportTable(
      client,
      table,
      destinationOf(item),
      (rows, bytes) =>
        emit({
          type: 'table-progress',
          phase: 'export',
          table: name,
          rows: rowsSoFar[item.table]! + rows,
          bytes: bytesSoFar[item.table]! + bytes,
        }),
      item.range,
      { ordered: context.ordered },
    )
    rowsSoFar[item.table]! += stats.rows
    bytesSoFar[item.table]! += stats.bytes
    return stats
  }

  const work = async (client: pg.Client): Promise<void> => {
    while (!stopped && next < items.length) {
      const index = next++
      const item = items[index]!
      if (index >= window)
        await Promise.race([packed[items[index - window]!.table]!.promise, failure.promise])
      done[index]!.resolve(await exportItem(item, client))
    }
  }
  const running = Promise.all(connections.map((c) => work(c).catch((error) => failure.reject(error))))

  const entries: TableEntry[] = []
  try {
    for (let t = 0; t < tables.length; t++) {
      const table = tables[t]!
      const indexes = items.flatMap((item, i) => (item.table === t ? [i] : []))
      const parts = await Promise.race([Promise.all(indexes.map((i) => done[i]!.promise)), failure.promise])
      const file = fileOf(table)
      const stats =
        parts.length === 1
          ? parts[0]!
          : {
              ...(await joinParts(
                writer.spool(file),
                indexes.map((i) => partPath(items[i]!)),
              )),
              digest: sumDigests(parts.map((p) => p.digest)),
            }
      emit({
        type: 'table-done',
        phase: 'export',
        table: qualifiedName(table),
        rows: stats.rows,
        bytes: stats.bytes,
        seconds: (Date.now() - began[t]!) / 1000,
        ...(parts.length > 1 ? { parts: parts.length } : {}),
      })
      writer.add(file)
      entries.push({ ...entryFor(table, file, stats), rowOrder: context.ordered ? 'key' : 'none' })
      packed[t]!.resolve()
    }
  } catch (error) {
    // Connections still copying are ended by the caller, which stops the workers.
    stopped = true
    throw error
  }
  await running
  emit({ type: 'phase-done', phase: 'export' })
  return entries
}

function fileOf(table: CatalogTable): string {
  return dataFileName(table.schema, table.name)
}

/** Splits big tables into key ranges, read from the snapshot (min and max of the key). */
async function planWork(
  leader: pg.Client,
  tables: readonly CatalogTable[],
  jobs: number,
  splitMinBytes: number | undefined,
): Promise<WorkItem[]> {
  const items: WorkItem[] = []
  for (let t = 0; t < tables.length; t++) {
    const table = tables[t]!
    const parts = partCountFor(table, jobs, splitMinBytes)
    const key = splitKeyOf(table)
    if (parts <= 1 || !key) {
      items.push({ table: t, part: 0 })
      continue
    }
    const only = table.kind === 'p' ? '' : 'ONLY '
    const bounds = await leader
      .query<{ min: string | null; max: string | null }>(
        `SELECT min(${quoteIdent(key)})::text AS min, max(${quoteIdent(key)})::text AS max FROM ${only}${quoteQualified(table.schema, table.name)}`,
      )
      .catch((error) => {
        throw queryError(error, `reading the key range of ${qualifiedName(table)}`)
      })
    const { min, max } = bounds.rows[0]!
    const ranges =
      min === null || max === null ? [{ column: key }] : splitKeyRange(key, BigInt(min), BigInt(max), parts)
    for (const [part, range] of ranges.entries())
      items.push({ table: t, part, ...(ranges.length > 1 ? { range } : {}) })
  }
  return items
}

/** Workers join the leader's snapshot; with one job the leader does the work itself. */
async function openWorkers(context: ExportContext, count: number): Promise<pg.Client[]> {
  if (count <= 1) return [context.leader]
  for (let i = 0; i < count; i++) {
    const worker = await connect(context.source, {
      applicationName: `lifeboat backup worker ${i + 1}`,
      settings: PINNED_SESSION_SETTINGS,
    })
    context.workers.push(worker)
    await worker.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY')
    await worker.query(`SET TRANSACTION SNAPSHOT '${context.snapshot.replaceAll("'", "''")}'`)
  }
  return context.workers
}

function sumDigests(parts: readonly RowDigest[]): RowDigest {
  const total = new RowDigest(0)
  for (const part of parts) {
    total.rows += part.rows
    total.sum.merge(part.sum)
  }
  return total
}

/** Joins the parts of a split table in key order into its data file, hashing it once. */
async function joinParts(
  destination: Writable,
  parts: readonly string[],
): Promise<Omit<PartResult, 'digest'>> {
  const meter = new NdjsonMeter()
  async function* concatenated() {
    for (const part of parts) {
      for await (const chunk of createReadStream(part, { highWaterMark: 1024 * 1024 })) yield chunk as Buffer
      await rm(part, { force: true })
    }
  }
  await pipeline(concatenated, meter, destination)
  return { rows: meter.rows, bytes: meter.bytes, sha256: meter.digest() }
}

function entryFor(table: CatalogTable, file: string, stats: PartResult): TableEntry {
  if (stats.digest.rows !== stats.rows) {
    throw new LifeboatError(
      'INTERNAL',
      `${qualifiedName(table)}: ${stats.digest.rows} rows digested, ${stats.rows} written`,
    )
  }
  return {
    schema: table.schema,
    name: table.name,
    file,
    rows: stats.rows,
    bytes: stats.bytes,
    sha256: stats.sha256!,
    columns: table.columns,
    primaryKey: table.primaryKey,
    foreignKeys: table.foreignKeys,
    kind: table.kind,
    ...(table.partitionOf ? { partitionOf: table.partitionOf } : {}),
    digest: { method: DIGEST_METHOD, sum: stats.digest.digest() },
  }
}
