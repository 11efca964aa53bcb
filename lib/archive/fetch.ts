// Finds the archive a restore names and makes it a local file that can be read twice
// (verify, then load): a local archive is used in place, a stored one is downloaded
// once into the temp folder (its stored size: compressed, still encrypted if it is),
// and read while it downloads.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, rm, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { type Readable, Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { brokeOff, readResuming } from '../adapters/store/resuming-read.ts'
import type { Store } from '../adapters/store/store.ts'
import { LifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import { formatBytes, formatCount } from '../core/format.ts'
import { type BackupSelector, parseSelector } from '../inventory/inventory.ts'
import { chooseBackup, listInventory } from '../inventory/read-inventory.ts'
import type { SignatureCheck } from '../trust/backup-signature.ts'
import {
  assertSameAsSidecar,
  authenticateInnerManifest,
  readAuthenticSidecar,
  type Trust,
} from './authenticity.ts'
import { DownloadFile } from './download-file.ts'
import { BACKUPS_PREFIX, isBackupId } from './layout.ts'
import type { Manifest } from './manifest.ts'
import { READ_CHUNK_BYTES } from './reader.ts'
import { assertVerified, verifyArchive } from './verify.ts'
import { checkTempFolder, createWorkFolder, sweepStaleWorkFolders } from './work-folder.ts'

export interface ArchiveSourceDeps {
  /** The configured store (BACKUP_STORE); absent when only local archives are restored. */
  store?: Store
  /** A store for an `s3://bucket/prefix` other than the configured one (same AWS settings). */
  openS3Store?: (url: string) => Store
  /** Where a stored archive is downloaded to. */
  tempDir: string
  emit: EmitEvent
  signal?: AbortSignal | undefined
  /** The public keys backups must be signed by (and whether unsigned ones pass). */
  trust: Trust
  /** Called with a stored backup's authenticated sidecar before its archive is downloaded. */
  beforeDownload?: ((sidecar: Manifest) => Promise<void>) | undefined
}

export interface LocalArchive {
  /** Printable: the path or the store URL the archive came from. */
  where: string
  /** Known for stored backups (from the key); local archives learn it from their manifest. */
  id: string | undefined
  encrypted: boolean
  /** The signed sidecar of a stored backup: verification names a bad file as soon as it is read. */
  expected: Manifest | undefined
  /** How the sidecar was authenticated (stored backups; a local archive learns it in pass 1). */
  authenticity: SignatureCheck | undefined
  /** The archive's size: the file's, or what the store lists for a stored one. */
  bytes: number
  /**
   * A stored archive's download, which runs while the archive is read: the sha256 of
   * what arrived, once all of it has (compared with the signed sidecar's before the
   * restore commits). Undefined for a local archive.
   */
  download: Promise<{ sha256: string }> | undefined
  /** Bytes written to the temp folder (0 for a local archive). */
  tempBytes: number
  /** A fresh read from the first byte; of a stored archive, one that follows its download. */
  open(): Readable
  dispose(): Promise<void>
}

const AGE_MAGIC = Buffer.from('age-encryption.org/')

/** Resolves what the user typed and returns a local, twice-readable archive. */
export async function fetchArchive(deps: ArchiveSourceDeps, what: string): Promise<LocalArchive> {
  const selector = parseSelector(what)
  if (selector.kind === 'file') {
    const local = await localArchive(selector.path)
    if (local) return local
    // `backup-2026-….tar.gz` that is not here locally may be meant as the stored backup.
    const id = basename(selector.path).replace(/(\.tar\.gz(\.age)?|\.manifest\.json)$/, '')
    if (isBackupId(id) && deps.store) return fetchStored(deps, deps.store, { kind: 'id', id })
    throw new LifeboatError('BACKUP_NOT_FOUND', `no archive file at ${selector.path}`)
  }
  if (selector.kind === 'key' && selector.key.startsWith('s3://')) {
    const { storeUrl, key } = splitS3Url(selector.key)
    const configured =
      deps.store && trimSlash(deps.store.location) === trimSlash(storeUrl) ? deps.store : undefined
    const store = configured ?? deps.openS3Store?.(storeUrl)
    if (!store) throw new LifeboatError('CONFIG_MISSING', `no S3 settings to read ${selector.key}`)
    return fetchStored(deps, store, { kind: 'key', key })
  }
  if (!deps.store) {
    throw new LifeboatError(
      'CONFIG_MISSING',
      `BACKUP_STORE (or --store) is not set: it is needed to find "${what}" (a local archive path needs no store)`,
    )
  }
  return fetchStored(deps, deps.store, selector)
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '')
}

/** `s3://bucket/prefix/database-backups/<id>.tar.gz` -> the store `s3://bucket/prefix` and the key. */
export function splitS3Url(url: string): { storeUrl: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(url)
  const at = match ? match[2]!.lastIndexOf(BACKUPS_PREFIX) : -1
  if (!match || at === -1 || (at > 0 && match[2]![at - 1] !== '/')) {
    throw new LifeboatError(
      'USAGE',
      `${url} is not an archive URL (s3://bucket/prefix/${BACKUPS_PREFIX}<id>.tar.gz)`,
    )
  }
  const prefix = match[2]!.slice(0, at).replace(/\/+$/, '')
  return { storeUrl: `s3://${match[1]}/${prefix}`, key: match[2]!.slice(at) }
}

async function localArchive(path: string): Promise<LocalArchive | undefined> {
  let size: number
  try {
    const info = await stat(path)
    if (!info.isFile()) throw new LifeboatError('USAGE', `${path} is not a file`)
    size = info.size
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    if (error instanceof LifeboatError) throw error
    throw new LifeboatError('STORE_IO', `cannot read ${path}: ${(error as Error).message}`, { cause: error })
  }
  return {
    where: path,
    id: undefined,
    encrypted: await isAgeFile(path),
    expected: undefined,
    authenticity: undefined,
    bytes: size,
    download: undefined,
    tempBytes: 0,
    open: () => createReadStream(path, { highWaterMark: READ_CHUNK_BYTES }),
    dispose: async () => {},
  }
}

/** By content, not name: a renamed file still opens, and a plain one is never "decrypted". */
async function isAgeFile(path: string): Promise<boolean> {
  const handle = await open(path, 'r')
  try {
    const head = Buffer.alloc(AGE_MAGIC.length)
    const { bytesRead } = await handle.read(head, 0, head.length, 0)
    return bytesRead === head.length && head.equals(AGE_MAGIC)
  } finally {
    await handle.close()
  }
}

/** How far past its signed size a download may run: 1 MiB or 1 %, whichever is more. */
const DOWNLOAD_SLACK = (bytes: number) => Math.max(1024 * 1024, Math.ceil(bytes / 100))

/**
 * Counts (and with `hashing`, hashes) the bytes passing through, reporting every 4 MiB;
 * with a `limit`, stops at the first byte past it.
 */
class DownloadMeter extends Transform {
  bytes = 0
  #reported = 0
  readonly hash = createHash('sha256')
  constructor(
    readonly onProgress: (bytes: number) => void = () => {},
    readonly hashing = true,
    readonly limit?: { bytes: number; where: string },
  ) {
    super()
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length
    if (this.limit && this.bytes > this.limit.bytes) {
      done(
        new LifeboatError(
          'VERIFY_FAILED',
          `${this.limit.where} runs past the ${formatCount(this.limit.bytes)} bytes its sidecar allows: it is not the archive that was written`,
        ),
      )
      return
    }
    if (this.hashing) this.hash.update(chunk)
    if (this.bytes - this.#reported >= 4 * 1024 * 1024) {
      this.#reported = this.bytes
      this.onProgress(this.bytes)
    }
    done(null, chunk)
  }
}

async function fetchStored(
  deps: ArchiveSourceDeps,
  store: Store,
  selector: Exclude<BackupSelector, { kind: 'file' }>,
): Promise<LocalArchive> {
  // The sidecar pins the archive's size and sha256: it is authenticated before anything
  // else, also for the candidates `latest` passes over.
  const checks = new Map<string, SignatureCheck>()
  const chosen = await chooseBackup(store, await listInventory(store), selector, async (s, id) => {
    const { manifest, authenticity } = await readAuthenticSidecar(s, id, deps.trust)
    checks.set(id, authenticity)
    return manifest
  })
  for (const message of chosen.warnings) deps.emit({ type: 'warning', message })
  const { record, manifest: expected } = chosen
  const authenticity = checks.get(record.id)
  const archive = record.archive!
  await deps.beforeDownload?.(expected)
  const where = store.locate(archive.key)
  await assertRoomFor(deps.tempDir, archive.size)
  await sweepStaleWorkFolders(deps.tempDir, 'restore')
  const dir = await createWorkFolder(deps.tempDir, 'restore')
  const removeFolder = () => rm(dir, { recursive: true, force: true })
  const stop = new AbortController()
  const signal = deps.signal ? AbortSignal.any([deps.signal, stop.signal]) : stop.signal
  let body: Readable
  try {
    deps.emit({ type: 'step', message: `downloading ${where} (${formatBytes(archive.size)})` })
    body = await readResuming(store, archive.key, {
      signal,
      onResume: (from, error) =>
        deps.emit({ type: 'warning', message: brokeOff(`the download of ${where}`, from, error) }),
    })
  } catch (error) {
    await removeFolder()
    throw downloadError(error, where)
  }
  const file = new DownloadFile(join(dir, basename(archive.key)), (error) => downloadError(error, where))
  const download = downloadInto(file, body, archive.size, expected, where, { emit: deps.emit, signal })
  return {
    where,
    id: record.id,
    encrypted: archive.encrypted,
    expected,
    authenticity,
    bytes: archive.size,
    download,
    tempBytes: archive.size,
    open: () => file.follow(READ_CHUNK_BYTES),
    dispose: async () => {
      stop.abort()
      await download.catch(() => undefined)
      await removeFolder()
    },
  }
}

/**
 * Downloads `body` into `file` in the background, its readers following. An archive
 * well beyond its signed size stops there (a flood, not a backup); a small difference
 * is downloaded so verification can name the file it broke in, and the sha256 against
 * the sidecar refuses it all the same.
 */
function downloadInto(
  file: DownloadFile,
  body: Readable,
  size: number,
  expected: Manifest,
  where: string,
  deps: { emit: EmitEvent; signal: AbortSignal },
): Promise<{ sha256: string }> {
  const signed = expected.archive?.bytes
  const meter = new DownloadMeter(
    (bytes) => deps.emit({ type: 'phase-progress', phase: 'download', done: { bytes } }),
    true,
    signed === undefined ? undefined : { bytes: signed + DOWNLOAD_SLACK(signed), where },
  )
  deps.emit({ type: 'phase-start', phase: 'download', total: { bytes: size } })
  const done = pipeline([body, meter, file], { signal: deps.signal }).then(
    () => {
      deps.emit({ type: 'phase-progress', phase: 'download', done: { bytes: meter.bytes } })
      deps.emit({ type: 'phase-done', phase: 'download' })
      return { sha256: meter.hash.digest('hex') }
    },
    // The pipeline has destroyed the file: its readers end with the same error, described alike.
    (error: unknown) => {
      throw downloadError(error, where)
    },
  )
  // Observed by the readers and by whoever awaits the download; never unhandled.
  done.catch(() => undefined)
  return done
}

function downloadError(error: unknown, where: string): LifeboatError {
  if (error instanceof LifeboatError) return error
  if ((error as Error).name === 'AbortError')
    return new LifeboatError('INTERRUPTED', `the download of ${where} was stopped`, { cause: error })
  return new LifeboatError('STORE_IO', `cannot download ${where}: ${(error as Error).message}`, {
    cause: error,
  })
}

/**
 * A stored archive, once it has all arrived: its bytes are the ones its signed sidecar
 * pins, or VERIFY_FAILED. Called before a restore commits, and by the verify pass.
 */
export async function assertSignedBytes(archive: LocalArchive): Promise<void> {
  if (!archive.download) return
  const { sha256 } = await archive.download
  const signed = archive.expected?.archive?.sha256
  if (signed && signed !== sha256) {
    throw new LifeboatError(
      'VERIFY_FAILED',
      `${archive.where} failed verification: sha256 of the stored archive differs from its sidecar`,
    )
  }
}

/** Fails before downloading when the temp folder cannot hold the archive. */
async function assertRoomFor(dir: string, bytes: number): Promise<void> {
  const free = await checkTempFolder(dir)
  if (free < bytes) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      `the temp folder ${dir} has ${formatCount(free)} bytes free; the archive needs ${formatCount(bytes)} (set LIFEBOAT_TEMP_DIR or --temp-dir)`,
    )
  }
}

/**
 * Pass 1 of every restore: the whole archive is read and checked (format, manifest,
 * every file's sha256, the stored archive against its sidecar) before anything is written.
 */
export async function verifyFetchedArchive(
  archive: LocalArchive,
  deps: Pick<ArchiveSourceDeps, 'emit' | 'signal' | 'trust'> & { decrypt: (where: string) => Transform },
): Promise<{
  manifest: Manifest
  schemaSql: string | undefined
  rolesSql: string | undefined
  authenticity: SignatureCheck
}> {
  const { emit } = deps
  emit({ type: 'step', message: `verifying ${archive.where}` })
  emit({ type: 'phase-start', phase: 'verify', total: { bytes: archive.bytes } })
  let authenticity = archive.authenticity
  // Before the read opens: a decrypt that cannot start (no identity) throws its typed
  // error here, with no stream piping into a meter nobody listens to.
  const transforms = archive.encrypted ? [deps.decrypt(archive.where)] : []
  const source = archive.open()
  const stream = new DownloadMeter(
    (bytes) => emit({ type: 'phase-progress', phase: 'verify', done: { bytes } }),
    false,
  )
  source.on('error', (error) => stream.destroy(error))
  source.pipe(stream)
  const verification = await verifyArchive(stream, {
    where: archive.where,
    transforms,
    ...(archive.expected ? { expected: archive.expected } : {}),
    signal: deps.signal,
    // An archive read without its sidecar is authenticated by its own manifest's signature.
    ...(archive.expected
      ? {}
      : {
          authenticate: (text: string, signature: string | undefined) => {
            authenticity = authenticateInnerManifest(archive.where, text, signature, deps.trust)
          },
        }),
  })
  // The read has reached the archive's end, so its download has too.
  if (verification.ok) await assertSignedBytes(archive)
  emit({ type: 'phase-progress', phase: 'verify', done: { bytes: stream.bytes } })
  emit({ type: 'phase-done', phase: 'verify' })
  const manifest = assertVerified(verification, archive.where)
  if (archive.expected) assertSameAsSidecar(manifest, archive.expected, archive.where)
  if (archive.id && manifest.id !== archive.id) {
    throw new LifeboatError(
      'VERIFY_FAILED',
      `${archive.where} holds backup ${manifest.id}, not ${archive.id}`,
    )
  }
  if (!authenticity) throw new LifeboatError('INTERNAL', `${archive.where} was not authenticated`)
  if (authenticity.status === 'unsigned') deps.emit({ type: 'warning', message: authenticity.warning })
  return { manifest, schemaSql: verification.schemaSql, rolesSql: verification.rolesSql, authenticity }
}
