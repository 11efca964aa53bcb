// The Storage part of the jobs, built from the settings in one place: the backup's
// `BackupStorage` port, the restore of a backup's files (after the database, or alone
// with --storage-only), and the sweep that follows retention in backup:clean.
import type pg from 'pg'
import { connect } from '../adapters/postgres/connection.ts'
import type { Store } from '../adapters/store/store.ts'
import { readAuthenticSidecar, type Trust } from '../archive/authenticity.ts'
import type { BackupStorage } from '../backup/backup.ts'
import { LifeboatError, toLifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import type { Secret } from '../core/secret.ts'
import type { DrillStorageOptions } from '../drills/drill-storage.ts'
import { parseSelector, selectBackup } from '../inventory/inventory.ts'
import { listInventory } from '../inventory/read-inventory.ts'
import { beginStorageBackup } from '../storage/backup.ts'
import type { Decrypt } from '../storage/blob-store.ts'
import { type BucketSelection, isBucketSelected } from '../storage/bucket-selection.ts'
import { openStorageClient } from '../storage/client.ts'
import { storageReferenceOf } from '../storage/manifest.ts'
import { readStorageManifest } from '../storage/manifest-io.ts'
import {
  previewStorageRestore,
  restoreStorage,
  type StorageRestorePreview,
  type StorageRestoreResult,
} from '../storage/restore.ts'
import type { StorageChoice } from '../storage/settings.ts'
import {
  assertStorageTargetAllowed,
  type StorageTargetGuard,
  storageProductionReasons,
} from '../storage/target-guard.ts'

/** The backup's Storage port when Storage is configured (and not --no-storage). */
export async function backupStorage(
  choice: StorageChoice,
  deps: {
    store: Store
    emit: EmitEvent
    signal?: AbortSignal | undefined
    tempDir: string
    recipients: readonly string[]
  },
): Promise<BackupStorage | undefined> {
  if (!choice.enabled) return undefined
  const { settings } = choice
  const source = await openStorageClient(settings.endpoint)
  return {
    begin: (id, database) =>
      beginStorageBackup(
        {
          store: deps.store,
          source,
          emit: deps.emit,
          now: () => new Date(),
          tempDir: deps.tempDir,
          ...(deps.signal ? { signal: deps.signal } : {}),
          ...(database ? { database } : {}),
        },
        { id, settings, recipients: deps.recipients },
      ),
  }
}

export interface StorageRestoreRequest {
  store: Store | undefined
  emit: EmitEvent
  signal?: AbortSignal | undefined
  decrypt: Decrypt
  trust: Trust
  /** The target project's database: bucket settings, owners, rows-vs-files report. */
  database?: Secret | undefined
  selection: BucketSelection
  truncate: boolean
  /** SUPABASE_STORAGE_S3_URL and --confirm-storage: the production guard of the files' target. */
  guard: StorageTargetGuard
}

/** The signed sidecar of `id`, when Storage is configured for the target and the backup holds files. */
async function filesOf(choice: StorageChoice, id: string, request: StorageRestoreRequest) {
  if (!choice.enabled) return undefined
  if (!request.store) {
    throw new LifeboatError(
      'CONFIG_MISSING',
      'BACKUP_STORE (or --store) is not set: Storage files are restored from the store that holds them',
    )
  }
  // The same proof as the archive's: the sidecar that names the files is signed.
  const { manifest } = await readAuthenticSidecar(request.store, id, request.trust)
  if (!manifest.storage) {
    request.emit({ type: 'step', message: `storage: ${id} holds no Storage files` })
    return undefined
  }
  const target = await openStorageClient(choice.settings.endpoint)
  const deps = {
    store: request.store,
    target,
    emit: request.emit,
    decrypt: request.decrypt,
    ...(request.signal ? { signal: request.signal } : {}),
  }
  const options = {
    selection: request.selection,
    truncate: request.truncate,
    jobs: choice.settings.jobs,
    guard: request.guard,
  }
  return { manifest, deps, options }
}

/**
 * Restores the files of backup `id` into the target project's Storage. Undefined when
 * Storage is not configured for the target or the backup holds no files.
 */
export async function restoreBackupFiles(
  choice: StorageChoice,
  id: string,
  request: StorageRestoreRequest,
): Promise<StorageRestoreResult | undefined> {
  const files = await filesOf(choice, id, request)
  if (!files) return undefined
  const database = request.database ? await openCatalogConnection(request.database) : undefined
  try {
    return await restoreStorage(
      { ...files.deps, ...(database ? { database } : {}) },
      files.manifest,
      files.options,
    )
  } finally {
    await database?.end().catch(() => undefined)
  }
}

/** --dry-run: the files' plan against the target, every blob proven, nothing written. */
export async function previewBackupFiles(
  choice: StorageChoice,
  id: string,
  request: StorageRestoreRequest,
): Promise<StorageRestorePreview | undefined> {
  const files = await filesOf(choice, id, request)
  return files ? previewStorageRestore(files.deps, files.manifest, files.options) : undefined
}

/**
 * Before a full restore writes the database: refuses a files' target that is production
 * (the backup's source Storage, SUPABASE_STORAGE_S3_URL) unless --confirm-storage names it.
 * The files' restore checks again before it writes; a local archive is checked only there.
 */
export async function guardFilesTarget(
  choice: StorageChoice,
  what: string,
  request: StorageRestoreRequest,
): Promise<void> {
  if (!choice.enabled) return
  const target = (await openStorageClient(choice.settings.endpoint)).location
  const selector = parseSelector(what)
  let source: { endpoint: string; buckets: string[] } | undefined
  if (request.store && selector.kind !== 'file') {
    const id = selectBackup(await listInventory(request.store), selector).id
    const { manifest } = await readAuthenticSidecar(request.store, id, request.trust)
    const reference = storageReferenceOf(manifest, id)
    if (!reference) return
    const { header } = await readStorageManifest(request.store, reference.manifest, request.decrypt)
    source = {
      endpoint: header.source.endpoint,
      buckets: header.buckets.map((b) => b.name).filter((b) => isBucketSelected(request.selection, b)),
    }
  }
  assertStorageTargetAllowed({
    reasons: storageProductionReasons({
      target,
      backupSource: source?.endpoint,
      environment: request.guard.environment,
    }),
    target,
    buckets: source?.buckets ?? [],
    confirm: request.guard.confirm,
  })
}

/** The backup a selector names in the store (for --storage-only, where no archive is read). */
export async function resolveStoredBackup(store: Store | undefined, what: string): Promise<string> {
  const selector = parseSelector(what)
  if (!store || selector.kind === 'file') {
    throw new LifeboatError(
      'USAGE',
      '--storage-only restores files from the store: set BACKUP_STORE and name a stored backup (latest, a date or an id)',
    )
  }
  return selectBackup(await listInventory(store), selector).id
}

async function openCatalogConnection(url: Secret): Promise<pg.Client> {
  return connect(url, { applicationName: 'lifeboat restore (storage)' })
}

/** How a drill checks a backup's files: into its scratch Storage, by reading the blobs back, or not (--no-storage). */
export async function drillStorageOptions(config: {
  storage: StorageChoice
  productionStorage: readonly { setting: string; url: string }[]
  storageJobs: number
}): Promise<DrillStorageOptions> {
  const { storage, productionStorage: production, storageJobs: jobs } = config
  if (storage.enabled) {
    const target = await openStorageClient(storage.settings.endpoint)
    return { kind: 'restore', target, jobs, production }
  }
  return storage.reason === 'disabled' ? { kind: 'skip' } : { kind: 'verify', jobs }
}

/** The files' restore after a committed database restore: a failure says the database is done. */
export async function filesAfterDatabase<T>(id: string, restoreFiles: () => Promise<T>): Promise<T> {
  try {
    return await restoreFiles()
  } catch (error) {
    const cause = toLifeboatError(error)
    throw new LifeboatError(
      cause.code,
      `the database was restored from ${id}, its Storage files were not: ${cause.message} (run again with --storage-only once fixed)`,
      { cause, details: cause.details },
    )
  }
}
