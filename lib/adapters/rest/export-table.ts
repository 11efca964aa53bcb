// Pages one table out of the API into an NDJSON file of archive format v1: values cast
// to text by the server, rows in the order the direct export writes them (keyset paging
// on a single-column key, offset paging otherwise), hashed and counted on the way.
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { rename, rm } from 'node:fs/promises'
import type { Writable } from 'node:stream'
import { plainTempFiles, type TempFiles } from '../../archive/temp-files.ts'
import type { RestClient } from './client.ts'
import { isCollatable, isOrderable, type RestColumn, type RestTable } from './openapi.ts'
import { archiveOrder, inArchiveOrder, type OrderedRow, recordText, rowLine, textSelect } from './rows.ts'

export interface RestExportStats {
  rows: number
  bytes: number
  sha256: string
  /** Requests made for this table. */
  pages: number
  /** The exact count the API reported before the first page. */
  countedAtStart: number | undefined
  /** When the first and the last page were read: the table's own time window. */
  window: { from: string; to: string }
  /** The API's order differed from the archive's (text keys) and the rows were re-sorted. */
  resorted: boolean
}

export interface RestExportOptions {
  batchSize: number
  now: () => Date
  onProgress?: (rows: number, bytes: number) => void
  /** How the spooled rows are kept on disk: encrypted for an encrypted backup. */
  files?: TempFiles
}

interface IndexedRow extends OrderedRow {
  offset: number
  length: number
}

const SIMPLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** How a table is paged: keyset on a simple single-column key, offsets otherwise. */
export function pagingPlan(table: RestTable): { order: string[]; keyset: string | undefined } {
  if (table.primaryKey.length > 0) {
    const [only] = table.primaryKey
    return {
      order: [...table.primaryKey],
      keyset: table.primaryKey.length === 1 && SIMPLE_NAME.test(only!) ? only : undefined,
    }
  }
  // Without a key, offsets over an order of every orderable column are as stable as it gets.
  return { order: table.columns.filter(isOrderable).map((c) => c.name), keyset: undefined }
}

export async function exportRestTable(
  client: RestClient,
  table: RestTable,
  path: string,
  options: RestExportOptions,
): Promise<RestExportStats> {
  const where = `${table.schema}.${table.name}`
  const plan = pagingPlan(table)
  const keyColumns: RestColumn[] | 'record' =
    table.primaryKey.length > 0
      ? table.primaryKey.map((k) => table.columns.find((c) => c.name === k)!)
      : 'record'
  // Only text keys (or no key) can come back in another order than the archive's.
  const mayNeedSort = keyColumns === 'record' || keyColumns.some(isCollatable)
  const spoolPath = mayNeedSort ? `${path}.unsorted` : path
  const files = options.files ?? plainTempFiles
  const spool = files.createWriteStream(spoolPath)
  const hash = createHash('sha256')
  const index: IndexedRow[] = []
  const select = textSelect(table.columns)
  let rows = 0
  let bytes = 0
  let pages = 0
  let total: number | undefined
  let after: { column: string; value: string } | undefined
  const from = options.now().toISOString()
  try {
    for (;;) {
      const page = await client.page(table, {
        select,
        order: plan.order,
        ...(after ? { after } : {}),
        offset: plan.keyset ? 0 : rows,
        limit: options.batchSize,
        count: pages === 0,
      })
      pages++
      if (pages === 1) total = page.total
      for (const row of page.rows) {
        const line = rowLine(table.columns, row, where)
        const buffer = Buffer.from(line)
        if (mayNeedSort) {
          const keys =
            keyColumns === 'record'
              ? [recordText(table.columns.map((c) => row[c.name] as string | null))]
              : keyColumns.map((c) => row[c.name] as string | null)
          index.push({ keys, position: rows, offset: bytes, length: buffer.length })
        } else hash.update(buffer)
        if (!spool.write(buffer)) await once(spool, 'drain')
        rows++
        bytes += buffer.length
      }
      options.onProgress?.(rows, bytes)
      if (page.rows.length === 0) break
      if (plan.keyset) {
        const last = page.rows[page.rows.length - 1]![plan.keyset]
        after = { column: plan.keyset, value: String(last) }
      }
      // A short page at or past the counted total is the end; a short page before it is
      // the server's row cap (db-max-rows), not the end.
      if (page.rows.length < options.batchSize && total !== undefined && rows >= total) break
    }
    await closeStream(spool)
  } catch (error) {
    spool.destroy()
    await rm(spoolPath, { force: true })
    throw error
  }
  const to = options.now().toISOString()
  const { sha256, resorted } = mayNeedSort
    ? await putInArchiveOrder(files, spoolPath, path, index, keyColumns)
    : { sha256: hash.digest('hex'), resorted: false }
  return { rows, bytes, sha256, pages, countedAtStart: total, window: { from, to }, resorted }
}

/** Moves the spooled rows to `path` in the archive's order, re-sorting only when needed. */
async function putInArchiveOrder(
  files: TempFiles,
  spoolPath: string,
  path: string,
  index: IndexedRow[],
  keyColumns: RestColumn[] | 'record',
): Promise<{ sha256: string; resorted: boolean }> {
  if (inArchiveOrder(index, keyColumns)) {
    const sha256 = await hashFile(files, spoolPath)
    await rename(spoolPath, path)
    return { sha256, resorted: false }
  }
  index.sort(archiveOrder(keyColumns))
  const sha256 = await rewriteInOrder(files, spoolPath, path, index)
  await rm(spoolPath, { force: true })
  return { sha256, resorted: true }
}

async function closeStream(stream: Writable): Promise<void> {
  stream.end()
  await once(stream, 'finish')
}

async function hashFile(files: TempFiles, path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of await files.createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** Writes the spooled lines in the sorted order; returns the sha256 of the result. */
async function rewriteInOrder(
  files: TempFiles,
  spoolPath: string,
  path: string,
  index: readonly IndexedRow[],
): Promise<string> {
  const source = await files.openRandom(spoolPath)
  const out = files.createWriteStream(path)
  const hash = createHash('sha256')
  try {
    for (const entry of index) {
      const buffer = await source.read(entry.offset, entry.length)
      hash.update(buffer)
      if (!out.write(buffer)) await once(out, 'drain')
    }
    await closeStream(out)
  } catch (error) {
    out.destroy()
    throw error
  } finally {
    await source.close()
  }
  return hash.digest('hex')
}
