// Exports the tables of one snapshot with N connections and hands each data file to
// the archive in restore order. Big tables with an integer key are split into key
// ranges exported in parallel and joined in key order (lib/backup/export-plan.ts).
import { rm } from 'node:fs/promises'
import type { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import type { CatalogTable } from '../adapters/postgres/catalog.ts'
import {
  connect,
  joinSnapshot,
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
  /** Session settings for the worker connections (the leader's, timeouts included). */
  settings?: Readonly<Record<string, string>>
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
  const jobs = Math.max(1, context.jobs)
  const items = await planWork(context.leader, tables, jobs, context.splitMinBytes)
  const estimatedRows = tables.reduce((n, t) => n + (t.estimatedRows ?? 0), 0)
  context.emit({
    type: 'phase-start',
    phase: 'export',
    total: { rows: estimatedRows, tables: tables.length },
  })
  const connections = await openWorkers(context, Math.min(jobs, items.length))
  // Workers run at most `window` items ahead of the tar, which bounds the spooled data.
  const run = new ExportRun(context, tables, items, connections.length * 2)
  const running = Promise.all(connections.map((c) => run.work(c).catch((error) => run.fail(error))))
  const entries = await run.packInOrder()
  await running
  context.emit({ type: 'phase-done', phase: 'export' })
  return entries
}

/**
 * One export: workers take items in order (never more than `window` ahead of the
 * tar), and the tables are handed to the archive in restore order as their parts finish.
 */
class ExportRun {
  readonly #context: ExportContext
  readonly #tables: readonly CatalogTable[]
  readonly #items: readonly WorkItem[]
  readonly #window: number
  readonly #partsOf: number[]
  readonly #done: ReturnType<typeof deferred<PartResult>>[]
  readonly #packed: ReturnType<typeof deferred<void>>[]
  readonly #failure = deferred<never>()
  readonly #rowsSoFar: number[]
  readonly #bytesSoFar: number[]
  readonly #began: number[]
  #next = 0
  #stopped = false

  constructor(
    context: ExportContext,
    tables: readonly CatalogTable[],
    items: readonly WorkItem[],
    window: number,
  ) {
    this.#context = context
    this.#tables = tables
    this.#items = items
    this.#window = window
    this.#partsOf = tables.map((_, t) => items.filter((item) => item.table === t).length)
    this.#done = items.map(() => deferred<PartResult>())
    this.#packed = tables.map(() => deferred<void>())
    this.#failure.promise.catch(() => undefined)
    this.#rowsSoFar = tables.map(() => 0)
    this.#bytesSoFar = tables.map(() => 0)
    this.#began = tables.map(() => 0)
  }

  fail(error: unknown): void {
    this.#failure.reject(error)
  }

  /** One connection's loop: the next item, unless the tar is too far behind. */
  async work(client: pg.Client): Promise<void> {
    const items = this.#items
    while (!this.#stopped && this.#next < items.length) {
      const index = this.#next++
      if (index >= this.#window)
        await Promise.race([this.#packed[items[index - this.#window]!.table]!.promise, this.#failure.promise])
      this.#done[index]!.resolve(await this.#exportItem(items[index]!, client))
    }
  }

  async #exportItem(item: WorkItem, client: pg.Client): Promise<PartResult> {
    const { emit } = this.#context
    const table = this.#tables[item.table]!
    const name = qualifiedName(table)
    if (item.part === 0) {
      this.#began[item.table] = Date.now()
      emit({
        type: 'table-start',
        table: name,
        index: item.table,
        total: this.#tables.length,
        phase: 'export',
        ...(table.estimatedRows === undefined ? {} : { estimatedRows: table.estimatedRows }),
        estimatedBytes: table.estimatedBytes,
      })
    }
    const stats = await exportTable(
      client,
      table,
      this.#destinationOf(item),
      (rows, bytes) =>
        emit({
          type: 'table-progress',
          phase: 'export',
          table: name,
          rows: this.#rowsSoFar[item.table]! + rows,
          bytes: this.#bytesSoFar[item.table]! + bytes,
        }),
      item.range,
      { ordered: this.#context.ordered, blocks: this.#context.writer.blocks },
    )
    this.#rowsSoFar[item.table]! += stats.rows
    this.#bytesSoFar[item.table]! += stats.bytes
    return stats
  }

  #partPath(item: WorkItem): string {
    return `${this.#context.writer.spoolPath(fileOf(this.#tables[item.table]!))}.part-${item.part}`
  }

  /** A whole table is compressed as it is exported; parts stay plain until joined. */
  #destinationOf(item: WorkItem): Writable {
    return this.#partsOf[item.table]! > 1
      ? this.#context.writer.tempFiles.createWriteStream(this.#partPath(item))
      : this.#context.writer.spool(fileOf(this.#tables[item.table]!))
  }

  /** Hands each table to the archive in restore order, once all its parts are done. */
  async packInOrder(): Promise<TableEntry[]> {
    const entries: TableEntry[] = []
    try {
      for (let t = 0; t < this.#tables.length; t++) {
        entries.push(await this.#pack(t))
        this.#packed[t]!.resolve()
      }
    } catch (error) {
      // Connections still copying are ended by the caller, which stops the workers.
      this.#stopped = true
      throw error
    }
    return entries
  }

  async #pack(t: number): Promise<TableEntry> {
    const { writer, emit, ordered } = this.#context
    const table = this.#tables[t]!
    const indexes = this.#items.flatMap((item, i) => (item.table === t ? [i] : []))
    const parts = await Promise.race([
      Promise.all(indexes.map((i) => this.#done[i]!.promise)),
      this.#failure.promise,
    ])
    const file = fileOf(table)
    const stats =
      parts.length === 1
        ? parts[0]!
        : {
            ...(await joinParts(
              writer,
              file,
              indexes.map((i) => this.#partPath(this.#items[i]!)),
            )),
            digest: sumDigests(parts.map((p) => p.digest)),
          }
    emit({
      type: 'table-done',
      phase: 'export',
      table: qualifiedName(table),
      rows: stats.rows,
      bytes: stats.bytes,
      seconds: (Date.now() - this.#began[t]!) / 1000,
      ...(parts.length > 1 ? { parts: parts.length } : {}),
    })
    writer.add(file)
    return { ...entryFor(table, file, stats), rowOrder: ordered ? 'key' : 'none' }
  }
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
      settings: context.settings ?? PINNED_SESSION_SETTINGS,
    })
    context.workers.push(worker)
    await joinSnapshot(worker, context.snapshot)
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
  writer: ArchiveWriter,
  file: string,
  parts: readonly string[],
): Promise<Omit<PartResult, 'digest'>> {
  const meter = new NdjsonMeter()
  const files = writer.tempFiles
  async function* concatenated() {
    for (const part of parts) {
      for await (const chunk of await files.createReadStream(part)) yield chunk as Buffer
      await rm(part, { force: true })
    }
  }
  await pipeline(concatenated, meter, writer.spool(file))
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
