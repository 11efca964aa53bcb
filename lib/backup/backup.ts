// The backup, whatever the source: one pipeline of named phases. The source is opened
// (one snapshot), the archive streams into the store while it is written, and the
// sidecar manifest is written last, so only a complete archive ever looks complete.
// Any failure (or an interrupt) aborts the upload: nothing partial stays in the store.
import type { Transform } from 'node:stream'
import type pg from 'pg'
import type { Store } from '../adapters/store/store.ts'
import { FORMAT_VERSION, type Manifest, type SequenceEntry } from '../archive/manifest.ts'
import { type ArchiveUpload, sealArchive, startArchiveUpload, totalsOf } from '../archive/upload.ts'
import type { ArchiveWriter, TextEntries } from '../archive/writer.ts'
import { withDeadline } from '../core/deadline.ts'
import { deferred } from '../core/deferred.ts'
import { LifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import { plural } from '../core/format.ts'
import { type Phase, PhaseError, type PhaseScope, type PhaseTiming, runPhases } from '../core/pipeline.ts'
import { TOOL_VERSION } from '../core/version.ts'
import type { StorageBackupRun } from '../storage/backup.ts'
import type { StorageBackupResult } from '../storage/backup-result.ts'
import type { SigningKey } from '../trust/signature.ts'
import { explainFailure } from './failure.ts'

export interface BackupDeps {
  store: Store
  emit: EmitEvent
  now: () => Date
  /** Where entries are spooled while the archive is written (default: the OS temp folder). */
  tempDir: string
  /** Encryption applied to the archive stream; present when recipients are configured. */
  encrypt?: () => Transform
  /** Aborts the backup (SIGINT, SIGTERM): the partial archive is removed. */
  signal?: AbortSignal
  /** The overall deadline in milliseconds (LIFEBOAT_DEADLINE); aborts the backup like an interrupt. */
  deadlineMs?: number
  /** BACKUP_SIGNING_KEY: the backup is signed with it; without it the backup is unsigned (and says so). */
  signingKey?: SigningKey | undefined
  /** Supabase Storage files, when configured (lib/storage): their manifest is referenced from manifest.json. */
  storage?: BackupStorage | undefined
}

/** The Storage part of a backup, begun once the snapshot is taken and the id chosen. */
export interface BackupStorage {
  /** Lists the selected buckets (and reads their catalog in the snapshot) and takes the shared lock. */
  begin(id: string, snapshot: pg.ClientBase | undefined): Promise<StorageBackupRun>
}

/** The manifest's structure fields: schema.sql, and the access data where the source has it. */
export type SchemaPart = Pick<Manifest, 'schemaSql' | 'access' | 'roles'>

/** What a source tells the archive once it is open. */
export interface SourcePlan {
  /** `schema.table` names in restore order (referenced tables first). */
  restoreOrder: string[]
  sequences: SequenceEntry[]
  /** The selected tables' size in the database (TOAST and indexes included), when known: it sizes the upload's parts. */
  estimatedBytes?: number
}

/** The Source port: where rows come from (a database snapshot, the Supabase API). */
export interface BackupSource<M extends Manifest = Manifest> {
  readonly kind: Manifest['source']['kind']
  /** Opens the source at one moment and decides what is exported. */
  open(scope: PhaseScope, warn: (message: string) => void): Promise<SourcePlan>
  /**
   * schema.sql (and roles.sql) into the archive; `schemaSql` null when the source cannot
   * give one. Runs beside `exportTables`, so it reads on a connection of its own, and
   * calls `readsDone` when its queries are over (the export starts then: a busy export
   * would slow each of them down).
   */
  writeSchema(
    entries: TextEntries,
    warn: (message: string) => void,
    readsDone: () => void,
  ): Promise<SchemaPart>
  /** Every table's data file into the archive, in restore order. */
  exportTables(
    writer: ArchiveWriter,
    scope: PhaseScope,
    warn: (message: string) => void,
  ): Promise<M['tables']>
  /** The manifest's `source`, once the export has finished. */
  describe(started: Date, finished: Date): M['source']
  /** The snapshot's connection, where Storage's catalog is read in the same snapshot. */
  snapshotClient?(): pg.ClientBase | undefined
  /** Ends the source's snapshot cleanly once the archive is stored. */
  finish(): Promise<void>
  close(): Promise<void>
}

export interface BackupOptions {
  gzipLevel: number
}

export interface BackupSummary<M extends Manifest = Manifest> {
  id: string
  key: string
  location: string
  manifest: M
  archiveBytes: number
  seconds: number
  phases: PhaseTiming[]
  warnings: string[]
  /** What the Storage part did; absent when Storage is not configured (or --no-storage). */
  storage?: StorageBackupResult
}

interface BackupContext<M extends Manifest> {
  deps: BackupDeps
  source: BackupSource<M>
  options: BackupOptions
  started: Date
  warn: (message: string) => void
  plan?: SourcePlan
  upload?: ArchiveUpload
  /** The schema step, under way beside the export. */
  schemaWork?: Promise<SchemaPart>
  schema?: SchemaPart
  tables?: M['tables']
  sealed?: { manifest: M; bytes: number }
  storageRun?: StorageBackupRun
  storage?: Awaited<ReturnType<StorageBackupRun['complete']>>
}

function phases<M extends Manifest>(): Phase<BackupContext<M>>[] {
  return [
    {
      name: 'open-source',
      async run(c, scope) {
        scope.defer(() => c.source.close())
        c.plan = await c.source.open(scope, c.warn)
      },
    },
    {
      name: 'start-archive',
      async run(c, scope) {
        const upload = await startArchiveUpload({
          ...c.deps,
          signal: scope.signal,
          started: c.started,
          gzipLevel: c.options.gzipLevel,
          expectedBytes: c.plan!.estimatedBytes,
        })
        c.upload = upload
        scope.defer(() => upload.writer.dispose())
        // The store write is aborted with the writer: nothing half-written stays visible.
        scope.onFailure(async (error) => {
          upload.abort(error instanceof Error ? error : new Error(String(error)))
          await upload.upload.catch(() => undefined)
          if (!c.sealed) await upload.releaseClaim()
        })
        if (upload.swept.length > 0) {
          scope.emit({
            type: 'step',
            message: `removed ${upload.swept.length} temp folder(s) left by backups that were killed: ${upload.swept.join(', ')}`,
          })
        }
        scope.emit({
          type: 'step',
          message: `backing up ${plural(c.plan!.restoreOrder.length, 'table')} to ${c.deps.store.locate(upload.key)}`,
        })
      },
    },
    {
      // Right after the snapshot and once the id is known: the listing matches the rows.
      name: 'storage-list',
      when: (c) => c.deps.storage !== undefined,
      async run(c, scope) {
        const run = await c.deps.storage!.begin(c.upload!.id, c.source.snapshotClient?.())
        c.storageRun = run
        // The done marker goes after the sidecar, or as soon as the backup fails.
        scope.defer(() => run.release())
      },
    },
    schemaPhase(),
    exportPhase(),
    {
      name: 'storage',
      when: (c) => c.storageRun !== undefined,
      async run(c) {
        c.storage = await c.storageRun!.complete()
      },
    },
    { name: 'seal', run: seal },
    { name: 'finish', run: (c) => c.source.finish() },
  ]
}

/**
 * Started, not awaited: once its catalog reads are done, pg_dump and the rendering run
 * while the tables are exported, and the archive keeps roles.sql and schema.sql before
 * the data files (a place reserved for them).
 */
function schemaPhase<M extends Manifest>(): Phase<BackupContext<M>> {
  return {
    name: 'schema',
    async run(c) {
      const slot = c.upload!.writer.reserve()
      const readsDone = deferred<void>()
      c.schemaWork = c.source
        .writeSchema(slot, c.warn, () => readsDone.resolve())
        .finally(() => {
          slot.close()
          readsDone.resolve()
        })
      c.schemaWork.catch(() => undefined)
      await readsDone.promise
    },
  }
}

function exportPhase<M extends Manifest>(): Phase<BackupContext<M>> {
  return {
    name: 'export',
    async run(c, scope) {
      const exported = c.source.exportTables(c.upload!.writer, scope, c.warn)
      // The schema step is never left running past this phase, however the export ends.
      const [tables, schema] = await Promise.allSettled([exported, c.schemaWork!])
      if (tables.status === 'rejected') throw tables.reason
      if (schema.status === 'rejected') throw schema.reason
      c.tables = tables.value
      c.schema = schema.value
    },
  }
}

/** manifest.json and SHA256SUMS end the archive; the sidecar, written last, makes it visible. */
async function seal<M extends Manifest>(c: BackupContext<M>): Promise<void> {
  const { id, key, encrypted, writer, upload } = c.upload!
  const tables = c.tables!
  const manifest = {
    format: FORMAT_VERSION,
    id,
    tool: { name: 'lifeboat', version: TOOL_VERSION },
    startedAt: c.started.toISOString(),
    finishedAt: c.deps.now().toISOString(),
    source: c.source.describe(c.started, c.deps.now()),
    compression: { method: 'gzip', level: c.options.gzipLevel },
    encrypted,
    schemaSql: null,
    ...c.schema,
    tables,
    sequences: c.plan!.sequences,
    restoreOrder: c.plan!.restoreOrder,
    totals: totalsOf(tables),
    ...(c.storage ? { storage: c.storage.reference } : {}),
  } as M
  const { sidecar, archive } = await sealArchive({
    writer,
    upload,
    store: c.deps.store,
    key,
    manifest,
    signingKey: c.deps.signingKey,
    now: c.deps.now,
    // A backup whose storage lock lapsed may reference blobs a sweep removed: no sidecar.
    beforeSidecar: () => c.storageRun?.assertHeld('writing the sidecar'),
  })
  c.deps.emit({ type: 'phase-done', phase: 'upload' })
  c.sealed = { manifest: sidecar, bytes: archive.bytes }
}

/** Runs a backup of `source` into the store. */
export async function backupFrom<M extends Manifest>(
  deps: BackupDeps,
  source: BackupSource<M>,
  options: BackupOptions,
): Promise<BackupSummary<M>> {
  const started = deps.now()
  const warnings: string[] = []
  const warn = (message: string) => {
    warnings.push(message)
    deps.emit({ type: 'warning', message })
  }
  const context: BackupContext<M> = { deps, source, options, started, warn }
  if (!deps.signingKey) {
    warn(
      'this backup is not signed: set BACKUP_SIGNING_KEY so restores can prove it is yours (docs/signing.md)',
    )
  }
  const deadline = withDeadline(deps.signal, deps.deadlineMs)
  try {
    const run = await runPhases(phases<M>(), context, { signal: deadline.signal, emit: deps.emit })
    const { key, id } = context.upload!
    return {
      id,
      key,
      location: deps.store.locate(key),
      manifest: context.sealed!.manifest,
      archiveBytes: context.sealed!.bytes,
      seconds: (deps.now().getTime() - started.getTime()) / 1000,
      phases: run.timings,
      warnings,
      ...(context.storage ? { storage: context.storage.result } : {}),
    }
  } catch (error) {
    if (!(error instanceof PhaseError)) throw error
    const storeFailure = context.upload?.storeFailure()
    const cause = explainFailure(error.cause, {
      ...(storeFailure ? { storeFailure } : {}),
      tempDir: deps.tempDir,
    })
    if (cause.code !== 'INTERRUPTED' && cause.code !== 'DEADLINE_EXCEEDED') throw cause
    throw new LifeboatError(
      cause.code,
      `${cause.code === 'INTERRUPTED' ? 'interrupted' : cause.message} during ${error.phase}; the partial archive and temporary files were removed, nothing was stored`,
      { cause },
    )
  } finally {
    deadline.dispose()
  }
}
