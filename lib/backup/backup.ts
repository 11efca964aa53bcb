// The backup, whatever the source: one pipeline of named phases. The source is opened
// (one snapshot), the archive streams into the store while it is written, and the
// sidecar manifest is written last, so only a complete archive ever looks complete.
// Any failure (or an interrupt) aborts the upload: nothing partial stays in the store.
import type { Transform } from 'node:stream'
import type { Store } from '../adapters/store/store.ts'
import { FORMAT_VERSION, type Manifest, type SequenceEntry } from '../archive/manifest.ts'
import { type ArchiveUpload, sealArchive, startArchiveUpload, totalsOf } from '../archive/upload.ts'
import type { ArchiveWriter } from '../archive/writer.ts'
import { LifeboatError, toLifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import { plural } from '../core/format.ts'
import { type Phase, PhaseError, type PhaseScope, type PhaseTiming, runPhases } from '../core/pipeline.ts'
import { TOOL_VERSION } from '../core/version.ts'
import type { SigningKey } from '../trust/signature.ts'

export interface BackupDeps {
  store: Store
  emit: EmitEvent
  now: () => Date
  /** Where entries are spooled while the archive is written (default: the OS temp folder). */
  tempDir: string
  /** Encryption applied to the archive stream; present when recipients are configured. */
  encrypt?: () => Transform
  /** Aborts the backup (SIGINT, SIGTERM, a deadline): the partial archive is removed. */
  signal?: AbortSignal
  /** BACKUP_SIGNING_KEY: the backup is signed with it; without it the backup is unsigned (and says so). */
  signingKey?: SigningKey | undefined
}

/** What a source tells the archive once it is open. */
export interface SourcePlan {
  /** `schema.table` names in restore order (referenced tables first). */
  restoreOrder: string[]
  sequences: SequenceEntry[]
}

/** The Source port: where rows come from (a database snapshot, the Supabase API). */
export interface BackupSource<M extends Manifest = Manifest> {
  readonly kind: Manifest['source']['kind']
  /** Opens the source at one moment and decides what is exported. */
  open(scope: PhaseScope, warn: (message: string) => void): Promise<SourcePlan>
  /** schema.sql into the archive, or null when the source cannot give one. */
  writeSchema(writer: ArchiveWriter, warn: (message: string) => void): Promise<Manifest['schemaSql']>
  /** Every table's data file into the archive, in restore order. */
  exportTables(
    writer: ArchiveWriter,
    scope: PhaseScope,
    warn: (message: string) => void,
  ): Promise<M['tables']>
  /** The manifest's `source`, once the export has finished. */
  describe(started: Date, finished: Date): M['source']
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
}

interface BackupContext<M extends Manifest> {
  deps: BackupDeps
  source: BackupSource<M>
  options: BackupOptions
  started: Date
  warn: (message: string) => void
  plan?: SourcePlan
  upload?: ArchiveUpload
  schemaSql?: Manifest['schemaSql']
  tables?: M['tables']
  sealed?: { manifest: M; bytes: number }
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
          started: c.started,
          gzipLevel: c.options.gzipLevel,
        })
        c.upload = upload
        scope.defer(() => upload.writer.dispose())
        // The store write is aborted with the writer: nothing half-written stays visible.
        scope.onFailure(async (error) => {
          upload.writer.abort(error instanceof Error ? error : new Error(String(error)))
          await upload.upload.catch(() => undefined)
        })
        scope.emit({
          type: 'step',
          message: `backing up ${plural(c.plan!.restoreOrder.length, 'table')} to ${c.deps.store.locate(upload.key)}`,
        })
      },
    },
    {
      name: 'schema',
      async run(c) {
        c.schemaSql = await c.source.writeSchema(c.upload!.writer, c.warn)
      },
    },
    {
      name: 'export',
      async run(c, scope) {
        c.tables = await c.source.exportTables(c.upload!.writer, scope, c.warn)
      },
    },
    { name: 'seal', run: seal },
    { name: 'finish', run: (c) => c.source.finish() },
  ]
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
    schemaSql: c.schemaSql ?? null,
    tables,
    sequences: c.plan!.sequences,
    restoreOrder: c.plan!.restoreOrder,
    totals: totalsOf(tables),
  } as M
  const { sidecar, archive } = await sealArchive({
    writer,
    upload,
    store: c.deps.store,
    key,
    manifest,
    signingKey: c.deps.signingKey,
    now: c.deps.now,
  })
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
  try {
    const run = await runPhases(phases<M>(), context, {
      signal: deps.signal ?? new AbortController().signal,
      emit: deps.emit,
    })
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
    }
  } catch (error) {
    if (!(error instanceof PhaseError)) throw error
    const cause = toLifeboatError(error.cause)
    if (cause.code !== 'INTERRUPTED') throw cause
    throw new LifeboatError(
      'INTERRUPTED',
      `interrupted during ${error.phase}; the partial archive and temporary files were removed, nothing was stored`,
      { cause },
    )
  }
}
