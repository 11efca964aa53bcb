// An archive's life in the store, the same whatever the source: an id claimed atomically,
// the stream uploading while it is written, and at the end manifest.json and SHA256SUMS
// last in the tar, the upload awaited, then the sidecar: the one write that makes the
// backup visible.
import { createHash } from 'node:crypto'
import { pipeline, Transform, type TransformCallback } from 'node:stream'
import { putClaimed, putCreateOnly } from '../adapters/store/create-only.ts'
import { isKeyExists, type Store } from '../adapters/store/store.ts'
import { LifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import { TOOL_VERSION } from '../core/version.ts'
import {
  INNER_SIGNATURE_FILE,
  sidecarSignatureKey,
  signInnerManifest,
  signSidecar,
} from '../trust/backup-signature.ts'
import type { SigningKey } from '../trust/signature.ts'
import { archiveKey, BACKUPS_PREFIX, backupIdFor, claimKey, sidecarKey } from './layout.ts'
import type { Manifest, TableEntry } from './manifest.ts'
import { encryptedTempFiles, plainTempFiles } from './temp-files.ts'
import { checkTempFolder, createWorkFolder, sweepStaleWorkFolders } from './work-folder.ts'
import { type ArchiveStats, ArchiveWriter } from './writer.ts'

/** How many later seconds an id may move to when the ones before are taken. */
const ID_ATTEMPTS = 60
const CLAIM_RELEASE_MS = 10_000

/**
 * Claims the backup's id: ids are per second, and the claim (a small object written
 * create-only, `If-None-Match: *` on S3, link(2) on a folder) is atomic, so of two backups
 * started in the same second exactly one gets it; the other moves to the next second.
 * Ids taken by backups made before claims existed are skipped by listing (the backup
 * writer role may list the prefix but not read archives).
 */
export async function claimBackupId(store: Store, started: Date, signal?: AbortSignal): Promise<string> {
  for (let offset = 0; offset < ID_ATTEMPTS; offset++) {
    const id = backupIdFor(new Date(started.getTime() + offset * 1000))
    if ((await store.list(`${BACKUPS_PREFIX}${id}.`)).length > 0) continue
    const claim = `${JSON.stringify({ id, claimedAt: started.toISOString(), tool: TOOL_VERSION })}\n`
    try {
      await store.put(claimKey(id), claim, {
        contentType: 'application/json',
        ifNoneMatch: '*',
        ...(signal ? { signal } : {}),
      })
      return id
    } catch (error) {
      if (!isKeyExists(error)) throw error
    }
  }
  throw new LifeboatError(
    'STORE_KEY_EXISTS',
    `no free backup id within ${ID_ATTEMPTS} s of ${started.toISOString()}`,
  )
}

export interface ArchiveUpload {
  id: string
  key: string
  encrypted: boolean
  writer: ArchiveWriter
  /** The store write of the archive stream; sealArchive awaits it. */
  upload: Promise<unknown>
  /** Stops the writer and the store write (a failure elsewhere, an interrupt, the deadline). */
  abort(error: Error): void
  /** The store's own error, when the store write failed before anything aborted it. */
  storeFailure(): unknown
  /**
   * After a failure: removes the id's claim where the store lets this role delete (a folder,
   * an admin). The backup writer role may not delete; its claim stays until clean removes it.
   */
  releaseClaim(): Promise<void>
  /** Work folders of earlier backups killed outright, removed before this one began. */
  swept: string[]
}

/** Opens a new archive and starts streaming it into the store. Dispose the writer in any case. */
export async function startArchiveUpload(args: {
  store: Store
  started: Date
  tempDir: string
  gzipLevel: number
  /** About how large the archive may grow (the tables' size in the database): sizes the store's upload parts. */
  expectedBytes?: number | undefined
  encrypt?: (() => Transform) | undefined
  signal?: AbortSignal | undefined
  /** `upload` progress: the bytes handed to the store as the archive streams in. */
  emit?: EmitEvent | undefined
}): Promise<ArchiveUpload> {
  // Before the id is claimed: a temp folder that cannot be used leaves nothing in the store.
  await checkTempFolder(args.tempDir)
  const swept = await sweepStaleWorkFolders(args.tempDir, 'backup')
  // A backup may start a folder store; reading jobs find a missing one an error.
  await args.store.create?.()
  const id = await claimBackupId(args.store, args.started, args.signal)
  const encrypted = args.encrypt !== undefined
  const key = archiveKey(id, encrypted)
  const workDir = await createWorkFolder(args.tempDir, 'backup')
  const writer = new ArchiveWriter({
    root: id,
    workDir,
    gzipLevel: args.gzipLevel,
    mtime: args.started,
    transforms: args.encrypt ? [args.encrypt()] : [],
    // The rows of an encrypted backup are never plaintext on disk, not even while spooled.
    tempFiles: encrypted ? encryptedTempFiles() : plainTempFiles,
  })
  await writer.open()
  const stop = new AbortController()
  let storeFailure: unknown
  const abort = (error: Error) => {
    writer.abort(error)
    stop.abort(error)
  }
  const onSignal = () =>
    abort(args.signal!.reason instanceof Error ? args.signal!.reason : new Error('aborted'))
  args.signal?.addEventListener('abort', onSignal, { once: true })
  const emit = args.emit
  emit?.({ type: 'phase-start', phase: 'upload' })
  const counted = emit
    ? // The callback form: an aborted writer destroys the meter too, so the store sees the error.
      pipeline(
        writer.output,
        new UploadMeter((bytes) => emit({ type: 'phase-progress', phase: 'upload', done: { bytes } })),
        () => {},
      )
    : writer.output
  // Create-only: the writer role may not replace an object (docs/infrastructure.md). The id
  // is this backup's claim, so an upload whose last answer was lost is recognised as its own.
  const upload = putClaimed(args.store, key, counted, {
    signal: stop.signal,
    expectedBytes: args.expectedBytes,
    // Staged parts are the archive's bytes: with its spooled tables, swept if the backup is killed.
    tempDir: workDir,
  })
  // If the store fails, stop feeding it; whoever writes entries sees the rejection, and
  // the backup reports the store's error (STORE_UNREACHABLE…), not the closed stream.
  upload.catch((error: Error) => {
    if (!stop.signal.aborted) storeFailure = error
    writer.abort(error)
  })
  upload.finally(() => args.signal?.removeEventListener('abort', onSignal)).catch(() => undefined)
  // Bounded: a store that stopped answering must not hold the failure's exit for long.
  const releaseClaim = () =>
    Promise.race([
      args.store.delete([claimKey(id)]).catch(() => undefined),
      new Promise<void>((done) => setTimeout(done, CLAIM_RELEASE_MS).unref()),
    ])
  return { id, key, encrypted, writer, upload, abort, storeFailure: () => storeFailure, releaseClaim, swept }
}

/** Counts the bytes passing to the store, reporting at most four times a second (and at the end). */
class UploadMeter extends Transform {
  #bytes = 0
  #last = 0
  readonly #report: (bytes: number) => void

  constructor(report: (bytes: number) => void) {
    super()
    this.#report = report
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#bytes += chunk.length
    const now = performance.now()
    if (now - this.#last >= 250) {
      this.#last = now
      this.#report(this.#bytes)
    }
    done(null, chunk)
  }

  override _flush(done: TransformCallback): void {
    this.#report(this.#bytes)
    done()
  }
}

export function totalsOf(tables: readonly TableEntry[]): Manifest['totals'] {
  return {
    tables: tables.length,
    rows: tables.reduce((n, t) => n + t.rows, 0),
    bytes: tables.reduce((n, t) => n + t.bytes, 0),
  }
}

/** `sha256sum -c SHA256SUMS` passes inside the extracted root folder. */
export function sha256sums(manifest: Manifest, manifestText: string): string {
  const lines: string[] = []
  if (manifest.roles?.file) lines.push(`${manifest.roles.file.sha256}  roles.sql`)
  if (manifest.schemaSql) lines.push(`${manifest.schemaSql.sha256}  schema.sql`)
  for (const t of manifest.tables) lines.push(`${t.sha256}  ${t.file}`)
  lines.push(`${createHash('sha256').update(manifestText).digest('hex')}  manifest.json`)
  return `${lines.join('\n')}\n`
}

export async function sealArchive<M extends Manifest>(args: {
  writer: ArchiveWriter
  /** The store write of the archive stream, started when the writer was opened. */
  upload: Promise<unknown>
  store: Store
  key: string
  manifest: M
  /** BACKUP_SIGNING_KEY: signs the inner manifest and the sidecar (docs/signing.md). */
  signingKey?: SigningKey | undefined
  now: () => Date
  /** Last check before the sidecar makes the backup visible (throws to stop it). */
  beforeSidecar?: () => void
}): Promise<{ sidecar: M; archive: ArchiveStats }> {
  const { writer, store, manifest, signingKey } = args
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`
  await writer.addText('manifest.json', manifestText)
  // Right after the manifest it signs: an archive restored without its sidecar is checked by it.
  if (signingKey) {
    await writer.addText(
      INNER_SIGNATURE_FILE,
      signInnerManifest(Buffer.from(manifestText), signingKey, args.now()),
    )
  }
  await writer.addText('SHA256SUMS', sha256sums(manifest, manifestText))
  const [archive] = await Promise.all([writer.finish(), args.upload])
  const sidecar: M = { ...manifest, archive: { key: args.key, bytes: archive.bytes, sha256: archive.sha256 } }
  const sidecarText = Buffer.from(`${JSON.stringify(sidecar, null, 2)}\n`)
  args.beforeSidecar?.()
  // The signature goes first: once the sidecar is visible, so is the proof of it. Both are
  // create-only; one that landed though its answer was lost is recognised as this backup's.
  if (signingKey) {
    const signature = signSidecar(sidecarText, manifest.id, signingKey, args.now())
    await putCreateOnly(store, sidecarSignatureKey(manifest.id), signature, { contentType: 'text/plain' })
  }
  await putCreateOnly(store, sidecarKey(manifest.id), sidecarText, { contentType: 'application/json' })
  return { sidecar, archive }
}
