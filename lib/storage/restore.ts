// Restores a backup's Storage files into a project (run after the database restore:
// owners refer to restored auth.users, and Storage creates each object's row on upload).
// Plan against the target, refuse conflicts unless truncating, prove every blob before
// writing, create buckets, upload with read-back, then settings and the catalog report.
import type pg from 'pg'
import type { Store } from '../adapters/store/store.ts'
import { isLifeboatError, LifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import type { Decrypt } from './blob-store.ts'
import { type BucketSelection, isBucketSelected } from './bucket-selection.ts'
import { applyBucketSettings, applyObjectCatalog, hasStorageTables, listCatalogRows } from './catalog.ts'
import type { StorageClient } from './client.ts'
import {
  type BucketSettings,
  type NameSample,
  objectLabel,
  type StorageManifest,
  sampleOf,
  storageReferenceOf,
} from './manifest.ts'
import { readStorageManifest } from './manifest-io.ts'
import { forEachLimit } from './pool.ts'
import {
  assertStorageTargetAllowed,
  type StorageTargetGuard,
  type StorageWriteLog,
  storageProductionReasons,
} from './target-guard.ts'

export type { StorageTargetGuard, StorageWriteLog } from './target-guard.ts'

import { StorageProgress } from './progress.ts'
import {
  compareCatalog,
  objectsToCompare,
  planRestore,
  type RestorePlan,
  type TargetObject,
} from './restore-plan.ts'
import {
  hashTargetObject,
  needsCatalogMetadata,
  proveBlob,
  type RestoreContext,
  uploadObject,
} from './restore-steps.ts'

export interface StorageRestoreDeps {
  store: Store
  /** Supabase Storage of the target project (TARGET_SUPABASE_STORAGE_S3_*). */
  target: StorageClient
  emit: EmitEvent
  decrypt?: Decrypt
  signal?: AbortSignal
  /** The target project's database: bucket settings, owners, exact user metadata, rows-vs-files report. */
  database?: pg.ClientBase
  /** Told of every bucket created and object written, as it happens (a drill removes them after). */
  writes?: StorageWriteLog
}

export interface StorageRestoreOptions {
  selection: BucketSelection
  /** Overwrite objects whose content differs and delete objects the backup does not have. */
  truncate: boolean
  jobs: number
  /** Prove every blob before writing anything (default). Skip only right after a full verify. */
  verifyFirst?: boolean
  /** Without it the backup's own source Storage is still refused. */
  guard?: StorageTargetGuard
}

export interface StorageRestoreResult {
  id: string
  bucketsCreated: string[]
  uploaded: { objects: number; bytes: number }
  /** Already in the target with the same sha256. */
  identical: number
  overwritten: number
  /** Target objects not in the backup: deleted with truncate, otherwise left and counted. */
  extraDeleted: number
  extraKept: number
  /** Buckets whose public flag, size limit and MIME types were set through the target database. */
  settingsApplied: string[]
  /** Created buckets whose settings could not be set (no target database): set them by hand. */
  settingsPending: { bucket: string; settings: BucketSettings }[]
  /** Null without a target database. */
  catalog: { rowsUpdated: number; rowsWithoutFile: NameSample; filesWithoutRow: NameSample } | null
  seconds: number
  warnings: string[]
}

/** What a restore of these files would do to the target, decided read-only. */
interface PlannedRestore {
  manifest: StorageManifest
  names: Set<string>
  objects: StorageManifest['objects']
  buckets: StorageManifest['header']['buckets']
  existing: Set<string>
  ctx: RestoreContext
  plan: RestorePlan
  writes: StorageManifest['objects']
}

/** Reads the storage manifest, hashes the target's same-size objects, refuses conflicts, proves the blobs. */
async function planAndProve(
  deps: StorageRestoreDeps,
  reference: NonNullable<ReturnType<typeof storageReferenceOf>>,
  options: StorageRestoreOptions,
): Promise<PlannedRestore> {
  const manifest = await readStorageManifest(deps.store, reference.manifest, deps.decrypt)
  const buckets = manifest.header.buckets.filter((b) => isBucketSelected(options.selection, b.name))
  const names = new Set(buckets.map((b) => b.name))
  // Before the target is even listed: production is written only when confirmed by name.
  const guard = options.guard ?? { environment: [] }
  assertStorageTargetAllowed({
    reasons: storageProductionReasons({
      target: deps.target.location,
      backupSource: manifest.header.source.endpoint,
      environment: guard.environment,
    }),
    target: deps.target.location,
    buckets: [...names],
    confirm: guard.confirm,
    ...(guard.drill ? { drill: true } : {}),
  })
  const objects = manifest.objects.filter((o) => names.has(o.bucket))
  const ctx: RestoreContext = {
    store: deps.store,
    target: deps.target,
    keyset: manifest.header.keyset,
    ...(deps.decrypt ? { decrypt: deps.decrypt } : {}),
    ...(deps.signal ? { signal: deps.signal } : {}),
  }
  const existing = new Set(await deps.target.listBuckets(deps.signal))
  const plan = await planAgainstTarget(
    ctx,
    objects,
    [...names].filter((b) => existing.has(b)),
    options.jobs,
  )
  if (plan.conflicts.length > 0 && !options.truncate) {
    throw new LifeboatError(
      'TARGET_NOT_EMPTY',
      `${plan.conflicts.length} objects in the target differ from the backup (${plan.conflicts.slice(0, 5).map(objectLabel).join(', ')}); pass --truncate to overwrite them`,
      { details: plan.conflicts.map(objectLabel) },
    )
  }
  const writes = [...plan.upload, ...plan.conflicts]
  if (options.verifyFirst !== false) await proveAll(ctx, deps, writes, options.jobs)
  return { manifest, names, objects, buckets, existing, ctx, plan, writes }
}

export interface StorageRestorePreview {
  id: string
  bucketsToCreate: string[]
  upload: { objects: number; bytes: number }
  identical: number
  overwrite: number
  /** Target objects not in the backup: deleted with --truncate, else left. */
  extra: number
}

/** --dry-run: every check a files' restore makes (conflicts, every blob proven), nothing written. */
export async function previewStorageRestore(
  deps: StorageRestoreDeps,
  sidecar: { id: string },
  options: StorageRestoreOptions,
): Promise<StorageRestorePreview | undefined> {
  const reference = storageReferenceOf(sidecar, sidecar.id)
  if (!reference) return undefined
  const { buckets, existing, plan, writes } = await planAndProve(deps, reference, options)
  return {
    id: sidecar.id,
    bucketsToCreate: buckets.filter((b) => !existing.has(b.name)).map((b) => b.name),
    upload: { objects: writes.length, bytes: writes.reduce((n, o) => n + o.size, 0) },
    identical: plan.identical.length,
    overwrite: plan.conflicts.length,
    extra: plan.extra.length,
  }
}

export async function restoreStorage(
  deps: StorageRestoreDeps,
  sidecar: { id: string },
  options: StorageRestoreOptions,
): Promise<StorageRestoreResult | undefined> {
  const reference = storageReferenceOf(sidecar, sidecar.id)
  if (!reference) return undefined
  const began = performance.now()
  const warnings: string[] = []
  const warn = (message: string) => {
    warnings.push(message)
    deps.emit({ type: 'warning', message })
  }
  const { manifest, names, objects, buckets, existing, ctx, plan, writes } = await planAndProve(
    deps,
    reference,
    options,
  )
  const created = buckets.filter((b) => !existing.has(b.name)).map((b) => b.name)
  for (const bucket of created) {
    await deps.target.createBucket(bucket, deps.signal)
    deps.writes?.bucketCreated(bucket)
  }
  const bytes = writes.reduce((n, o) => n + o.size, 0)
  ctx.progress = new StorageProgress(deps.emit, 'restore', writes.length, bytes)
  deps.emit({
    type: 'step',
    message: `storage: restoring ${writes.length} objects (${plan.identical.length} already there) into ${deps.target.location}`,
  })
  await forEachLimit(
    writes,
    options.jobs,
    async (object) => {
      await uploadObject(ctx, object)
      deps.writes?.objectWritten(object.bucket, object.name)
      ctx.progress?.objectDone()
    },
    deps.signal,
  )
  await handleExtra(deps, plan, names, options.truncate, warn)
  const settled = await settleCatalog(deps, manifest, created, objects, names, warn)
  return {
    id: sidecar.id,
    bucketsCreated: created,
    uploaded: { objects: writes.length, bytes },
    identical: plan.identical.length,
    overwritten: plan.conflicts.length,
    extraDeleted: options.truncate ? plan.extra.length : 0,
    extraKept: options.truncate ? 0 : plan.extra.length,
    ...settled,
    seconds: Math.round(performance.now() - began) / 1000,
    warnings,
  }
}

/** With truncate the restored buckets end equal to the backup; otherwise extras stay and are counted. */
async function handleExtra(
  deps: StorageRestoreDeps,
  plan: RestorePlan,
  buckets: ReadonlySet<string>,
  truncate: boolean,
  warn: (message: string) => void,
): Promise<void> {
  if (!truncate) {
    if (plan.extra.length > 0) {
      const some = plan.extra.slice(0, 3).map(objectLabel).join(', ')
      warn(
        `storage: ${plan.extra.length} objects in the target are not in the backup and were left (${some})`,
      )
    }
    return
  }
  for (const bucket of buckets) {
    const extra = plan.extra.filter((o) => o.bucket === bucket).map((o) => o.name)
    if (extra.length > 0) await deps.target.deleteObjects(bucket, extra, deps.signal)
  }
}

/** Lists the target's buckets and hashes every object whose name and size match the backup's. */
async function planAgainstTarget(
  ctx: RestoreContext,
  objects: StorageManifest['objects'],
  existingBuckets: readonly string[],
  jobs: number,
): Promise<RestorePlan> {
  const target: TargetObject[] = []
  for (const bucket of existingBuckets) target.push(...(await ctx.target.listObjects(bucket, ctx.signal)))
  await forEachLimit(
    objectsToCompare(objects, target),
    jobs,
    async (object) => {
      const hashed = await hashTargetObject(ctx, object.bucket, object.name)
      if (hashed?.size === object.size) object.sha256 = hashed.sha256
    },
    ctx.signal,
  )
  return planRestore(objects, target)
}

/** The gate: every blob to be written streams back to its sha256 before the target is touched. */
async function proveAll(
  ctx: RestoreContext,
  deps: StorageRestoreDeps,
  writes: StorageManifest['objects'],
  jobs: number,
): Promise<void> {
  const progress = new StorageProgress(
    deps.emit,
    'verify',
    writes.length,
    writes.reduce((n, o) => n + o.size, 0),
  )
  const failures: string[] = []
  await forEachLimit(
    writes,
    jobs,
    async (object) => {
      try {
        await proveBlob({ ...ctx, progress }, object)
      } catch (error) {
        if (
          !isLifeboatError(error) ||
          !['VERIFY_FAILED', 'DECRYPT_FAILED', 'BACKUP_NOT_FOUND'].includes(error.code)
        ) {
          throw error
        }
        failures.push(
          error.message.startsWith(objectLabel(object))
            ? error.message
            : `${objectLabel(object)}: ${error.message}`,
        )
      }
      progress.objectDone()
    },
    deps.signal,
  )
  if (failures.length > 0) {
    throw new LifeboatError(
      'VERIFY_FAILED',
      `${failures.length} storage objects failed verification; nothing was written to the target: ${failures.slice(0, 5).join('; ')}`,
      { details: failures },
    )
  }
}

/** With the target database: settings of created buckets, owners and metadata, rows against files. */
async function settleCatalog(
  deps: StorageRestoreDeps,
  manifest: StorageManifest,
  created: readonly string[],
  objects: StorageManifest['objects'],
  names: ReadonlySet<string>,
  warn: (message: string) => void,
): Promise<Pick<StorageRestoreResult, 'settingsApplied' | 'settingsPending' | 'catalog'>> {
  const settingsOf = new Map(manifest.header.buckets.map((b) => [b.name, b.settings]))
  const pending = created.flatMap((bucket) => {
    const settings = settingsOf.get(bucket)
    return settings ? [{ bucket, settings }] : []
  })
  if (!deps.database || !(await hasStorageTables(deps.database))) {
    if (pending.length > 0)
      warn(
        `storage: set these buckets' settings in the dashboard: ${pending.map((p) => p.bucket).join(', ')} (no target database)`,
      )
    const inexact = objects.filter(needsCatalogMetadata).length
    if (inexact > 0)
      warn(`storage: ${inexact} objects have user metadata S3 cannot carry exactly (no target database)`)
    return { settingsApplied: [], settingsPending: pending, catalog: null }
  }
  const applied: string[] = []
  for (const { bucket, settings } of pending) {
    if (await applyBucketSettings(deps.database, bucket, settings)) applied.push(bucket)
    else warn(`storage: bucket ${bucket} has no row in storage.buckets; its settings were not applied`)
  }
  const fromDatabase = manifest.header.catalog === 'database'
  const rowsUpdated = fromDatabase ? await applyObjectCatalog(deps.database, objects) : 0
  if (fromDatabase && rowsUpdated < objects.length) {
    warn(
      `storage: ${objects.length - rowsUpdated} restored objects have no storage.objects row to set the owner on`,
    )
  }
  const files: { bucket: string; name: string }[] = []
  for (const bucket of names) files.push(...(await deps.target.listObjects(bucket, deps.signal)))
  const comparison = compareCatalog(await listCatalogRows(deps.database, [...names]), files, names)
  return {
    settingsApplied: applied,
    settingsPending: pending.filter((p) => !applied.includes(p.bucket)),
    catalog: {
      rowsUpdated,
      rowsWithoutFile: sampleOf(comparison.rowsWithoutFile),
      filesWithoutRow: sampleOf(comparison.filesWithoutRow),
    },
  }
}
