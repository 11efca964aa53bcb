// Verifies stored backups without a database: streams each archive once (stored bytes
// hashed on the way in, then decrypted, unzipped and checked file by file against the
// sidecar), or with `quick` only compares the objects' sizes with the sidecar.
import type { Transform } from 'node:stream'
import { brokeOff, readResuming } from '../adapters/store/resuming-read.ts'
import type { Store } from '../adapters/store/store.ts'
import { assertSameAsSidecar, readAuthenticSidecar, type Trust } from '../archive/authenticity.ts'
import { archiveKey, isBackupId, sidecarKey } from '../archive/layout.ts'
import type { Manifest } from '../archive/manifest.ts'
import { verifyArchive } from '../archive/verify.ts'
import { isLifeboatError, LifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import { formatCount, plural } from '../core/format.ts'
import { type BackupRecord, selectBackup } from '../inventory/inventory.ts'
import { listInventory } from '../inventory/read-inventory.ts'
import { hashObject, StoredBytesMeter } from './stored-bytes.ts'

export type VerifySelection = 'latest' | 'all' | string

export interface VerifyDeps {
  store: Store
  emit: EmitEvent
  now: Date
  /** Decryption for `.age` archives; throws DECRYPT_FAILED when no identity is configured. */
  decrypt: (name: string) => Transform
  /** The public keys sidecars must be signed by (and whether unsigned ones pass, with a note). */
  trust: Trust
}

export interface VerifyOptions {
  selection: VerifySelection
  quick: boolean
  /** An archive without a sidecar younger than this may be an upload in progress. */
  orphanGraceHours: number
}

export type BackupVerdict = 'ok' | 'failed' | 'skipped'

export interface BackupVerification {
  id: string
  verdict: BackupVerdict
  /** `corrupt`: the stored objects are wrong; `key`: they are intact but cannot be decrypted. */
  failure?: 'corrupt' | 'key'
  encrypted: boolean
  /** One line per problem, each naming the object or the file inside the archive. */
  problems: string[]
  /** Files inside the archive that failed (e.g. `data/public.orders.ndjson`). */
  failedFiles: string[]
  archiveBytes?: number
  files?: number
  rows?: number
  seconds: number
  note?: string
  /** The sidecar's signature: verified by a trusted key, or unsigned (let through by --allow-unsigned). */
  signature?: 'verified' | 'unsigned'
}

export interface VerifyReport {
  store: string
  quick: boolean
  backups: BackupVerification[]
  ok: boolean
}

const HOUR = 3_600_000

export async function verifyBackups(deps: VerifyDeps, options: VerifyOptions): Promise<VerifyReport> {
  const records = selectRecords(await listInventory(deps.store), options)
  const backups: BackupVerification[] = []
  for (const [index, record] of records.entries()) {
    deps.emit({
      type: 'step',
      message: `[${index + 1}/${records.length}] ${options.quick ? 'checking' : 'verifying'} ${record.id}`,
    })
    const began = performance.now()
    const result = options.quick
      ? await quickCheck(deps, record, options.orphanGraceHours)
      : await fullCheck(deps, record, options.orphanGraceHours)
    result.seconds = Math.round(performance.now() - began) / 1000
    backups.push(result)
    deps.emit({ type: 'step', message: describeVerification(result) })
  }
  return {
    store: deps.store.location,
    quick: options.quick,
    backups,
    ok: backups.every((b) => b.verdict !== 'failed'),
  }
}

/**
 * `latest` is the backup `restore latest` would use (the newest complete one); `all`
 * and an id also report unfinished uploads and archives whose sidecar went missing.
 */
function selectRecords(records: BackupRecord[], options: VerifyOptions): BackupRecord[] {
  if (records.length === 0) throw new LifeboatError('BACKUP_NOT_FOUND', 'the store holds no backup')
  if (options.selection === 'all') return records
  if (options.selection === 'latest') return [selectBackup(records, { kind: 'latest' })]
  const id = options.selection.replace(/^.*\//, '').replace(/(\.tar\.gz(\.age)?|\.manifest\.json)$/, '')
  if (!isBackupId(id)) {
    throw new LifeboatError('USAGE', `"${options.selection}" is not a backup id, latest or all`)
  }
  const found = records.find((r) => r.id === id)
  if (!found) throw new LifeboatError('BACKUP_NOT_FOUND', `backup ${id} does not exist`)
  return [found]
}

function inGrace(record: BackupRecord, now: Date, graceHours: number): boolean {
  const written = Math.max(record.time.getTime(), record.archive?.modified.getTime() ?? 0)
  return now.getTime() - written <= graceHours * HOUR
}

function blank(record: BackupRecord): BackupVerification {
  return {
    id: record.id,
    verdict: 'ok',
    encrypted: record.archive?.encrypted ?? false,
    problems: [],
    failedFiles: [],
    seconds: 0,
  }
}

/** The shared part of both checks: both objects present (or still in grace). */
function incompleteVerdict(
  result: BackupVerification,
  record: BackupRecord,
  now: Date,
  graceHours: number,
): BackupVerification | undefined {
  if (!record.archive) {
    result.verdict = 'failed'
    result.failure = 'corrupt'
    result.problems.push(
      `${sidecarKey(record.id)}: its archive is missing (no ${record.id}.tar.gz or .tar.gz.age)`,
    )
    return result
  }
  if (!record.sidecar) {
    if (inGrace(record, now, graceHours)) {
      result.verdict = 'skipped'
      result.note = `no sidecar yet: the upload may still be in progress (grace ${graceHours} h)`
      return result
    }
    result.verdict = 'failed'
    result.failure = 'corrupt'
    result.problems.push(
      `${sidecarKey(record.id)}: missing; ${record.archive.key} has no sidecar, so the upload never finished and the backup is not restorable`,
    )
    return result
  }
  return undefined
}

async function quickCheck(
  deps: VerifyDeps,
  record: BackupRecord,
  graceHours: number,
): Promise<BackupVerification> {
  const result = blank(record)
  const early = incompleteVerdict(result, record, deps.now, graceHours)
  if (early) return early
  const archive = record.archive!
  // head() again rather than trusting the listing: the object may have changed since.
  const [stored, sidecarHead] = await Promise.all([
    deps.store.head(archive.key),
    deps.store.head(sidecarKey(record.id)),
  ])
  if (!stored) result.problems.push(`${archive.key}: missing`)
  if (!sidecarHead) result.problems.push(`${sidecarKey(record.id)}: missing`)
  const sidecar = stored && sidecarHead ? await readSidecarProblem(deps, record.id, result) : undefined
  if (stored && sidecar) {
    result.archiveBytes = stored.size
    compareArchiveRecord(sidecar, record, result)
    if (sidecar.archive && stored.size !== sidecar.archive.bytes) {
      result.problems.push(
        `${archive.key}: ${formatCount(stored.size)} bytes stored, the sidecar records ${formatCount(sidecar.archive.bytes)}`,
      )
    }
  }
  return settle(result)
}

async function fullCheck(
  deps: VerifyDeps,
  record: BackupRecord,
  graceHours: number,
): Promise<BackupVerification> {
  const result = blank(record)
  const early = incompleteVerdict(result, record, deps.now, graceHours)
  if (early) return early
  const archive = record.archive!
  const sidecar = await readSidecarProblem(deps, record.id, result)
  if (sidecar) compareArchiveRecord(sidecar, record, result)

  const meter = new StoredBytesMeter((bytes) =>
    deps.emit({ type: 'table-progress', table: record.id, rows: 0, bytes }),
  )
  let decryptor: Transform | undefined
  try {
    if (archive.encrypted) decryptor = deps.decrypt(archive.key.replace(/^.*\//, ''))
  } catch (error) {
    // No identity (or a bad one): the archive cannot be opened at all; that is a key problem.
    if (!isLifeboatError(error)) throw error
    result.problems.push(`${archive.key}: ${error.message}`)
    result.failure = 'key'
    return settle(result)
  }
  const transforms = decryptor ? [meter, decryptor] : [meter]
  const decryptFailed = await checkContent(deps, record, sidecar, transforms, result)
  const changed = await checkStoredBytes(deps.store, archive.key, meter, sidecar, result)
  // Intact stored bytes that will not decrypt mean the key is wrong, not the archive.
  if (decryptFailed && changed === false && result.problems.length === 1) result.failure = 'key'
  return settle(result)
}

/** Streams the archive through the transforms and checks every file; true when decryption failed. */
async function checkContent(
  deps: VerifyDeps,
  record: BackupRecord,
  sidecar: Manifest | undefined,
  transforms: Transform[],
  result: BackupVerification,
): Promise<boolean> {
  const key = record.archive!.key
  const where = deps.store.locate(key)
  const stream = await readResuming(deps.store, key, {
    onResume: (from, error) =>
      deps.emit({ type: 'warning', message: brokeOff(`the read of ${where}`, from, error) }),
  })
  try {
    const verification = await verifyArchive(stream, {
      where,
      transforms,
      ...(sidecar ? { expected: sidecar } : {}),
    })
    result.files = verification.files.length
    result.rows = verification.files.reduce((n, f) => n + (f.rows ?? 0), 0)
    result.problems.push(...verification.problems)
    result.failedFiles.push(...verification.failedFiles)
    if (verification.manifest && verification.manifest.id !== record.id) {
      result.problems.push(`manifest.json: names backup ${verification.manifest.id}, stored as ${record.id}`)
    }
    if (verification.manifest && sidecar) {
      try {
        assertSameAsSidecar(verification.manifest, sidecar, where)
      } catch (error) {
        result.problems.push((error as Error).message)
      }
    }
    if (sidecar) reportMissingTables(sidecar, verification.files, result)
    return false
  } catch (error) {
    if (!isLifeboatError(error) || (error.code !== 'DECRYPT_FAILED' && error.code !== 'ARCHIVE_FORMAT'))
      throw error
    result.problems.push(error.message)
    return error.code === 'DECRYPT_FAILED'
  } finally {
    stream.destroy()
  }
}

function reportMissingTables(
  sidecar: Manifest,
  files: readonly { path: string }[],
  result: BackupVerification,
): void {
  const read = new Set(files.map((f) => f.path))
  for (const table of sidecar.tables) {
    if (!read.has(table.file) && !result.failedFiles.includes(table.file)) {
      result.failedFiles.push(table.file)
      result.problems.push(`${table.file}: listed in the sidecar but missing from the archive`)
    }
  }
}

/**
 * Compares the stored bytes with the sidecar's size and sha256. A read that stopped early
 * has not seen every stored byte: the object is hashed afresh. Returns whether the object
 * changed (undefined when there is nothing to compare with).
 */
async function checkStoredBytes(
  store: Store,
  key: string,
  meter: StoredBytesMeter,
  sidecar: Manifest | undefined,
  result: BackupVerification,
): Promise<boolean | undefined> {
  const stored = meter.finished
    ? { bytes: meter.bytes, sha256: meter.sha256() }
    : sidecar?.archive
      ? await hashObject(store, key)
      : undefined
  if (stored) result.archiveBytes = stored.bytes
  if (!stored || !sidecar?.archive) return undefined
  const expected = sidecar.archive
  if (stored.bytes !== expected.bytes) {
    result.problems.push(
      `${key}: ${formatCount(stored.bytes)} bytes stored, the sidecar records ${formatCount(expected.bytes)}`,
    )
    return true
  }
  if (stored.sha256 !== expected.sha256) {
    result.problems.push(
      `${key}: the stored bytes' sha256 differs from the sidecar's (the object changed in the store)`,
    )
    return true
  }
  return false
}

/** Reads the sidecar; an unreadable one is a problem of this backup, not of the run. */
async function readSidecarProblem(
  deps: VerifyDeps,
  id: string,
  result: BackupVerification,
): Promise<Manifest | undefined> {
  try {
    const { manifest, authenticity } = await readAuthenticSidecar(deps.store, id, deps.trust)
    result.signature = authenticity.status
    if (authenticity.status === 'unsigned') result.note = authenticity.warning
    return manifest
  } catch (error) {
    const refusals = ['ARCHIVE_CORRUPT', 'ARCHIVE_FORMAT', 'BACKUP_NOT_FOUND', 'METADATA_TOO_LARGE']
    const signature = ['SIGNATURE_MISSING', 'SIGNATURE_INVALID', 'SIGNATURE_UNTRUSTED']
    if (!isLifeboatError(error) || ![...refusals, ...signature].includes(error.code)) {
      throw error
    }
    result.problems.push(`${sidecarKey(id)}: ${error.message}`)
    return undefined
  }
}

function compareArchiveRecord(sidecar: Manifest, record: BackupRecord, result: BackupVerification): void {
  const key = sidecarKey(record.id)
  if (sidecar.id !== record.id) result.problems.push(`${key}: names backup ${sidecar.id}`)
  if (!sidecar.archive) {
    result.problems.push(`${key}: records no archive size and sha256`)
    return
  }
  const expectedKey = archiveKey(record.id, sidecar.encrypted)
  if (record.archive && record.archive.key !== expectedKey) {
    result.problems.push(
      `${key}: says the archive is ${sidecar.encrypted ? 'encrypted' : 'not encrypted'}, but the store holds ${record.archive.key}`,
    )
  }
}

function settle(result: BackupVerification): BackupVerification {
  if (result.problems.length > 0) {
    result.verdict = 'failed'
    result.failure ??= 'corrupt'
  }
  return result
}

export function describeVerification(result: BackupVerification): string {
  if (result.verdict === 'skipped') return `${result.id}: skipped (${result.note})`
  if (result.verdict === 'ok') {
    const content =
      result.files === undefined
        ? 'sizes match'
        : `${plural(result.files ?? 0, 'file')}, ${plural(result.rows ?? 0, 'row')}`
    return `${result.id}: ok (${content}${result.encrypted ? ', encrypted' : ''})`
  }
  const files = result.failedFiles.length > 0 ? `; failing files: ${result.failedFiles.join(', ')}` : ''
  const count = `${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}`
  return `${result.id}: FAILED (${count}${files}${result.failure === 'key' ? '; the key, not the archive' : ''})`
}

/** The report as a job's verdict: VERIFY_FAILED (or DECRYPT_FAILED when only the key is at fault). */
export function assertBackupsVerified(report: VerifyReport): void {
  const failed = report.backups.filter((b) => b.verdict === 'failed')
  if (failed.length === 0) return
  const details = failed.flatMap((b) => b.problems.map((p) => `${b.id}: ${p}`))
  const onlyKey = failed.every((b) => b.failure === 'key')
  const named = failed.map((b) =>
    b.failedFiles.length > 0
      ? `${b.id} (${b.failedFiles.join(', ')})`
      : `${b.id} (${b.problems[0] ?? 'failed'})`,
  )
  const of = `${failed.length} of ${report.backups.length} backup${report.backups.length === 1 ? '' : 's'}`
  if (onlyKey) {
    throw new LifeboatError('DECRYPT_FAILED', `${of} could not be decrypted: ${named.join('; ')}`, {
      details,
    })
  }
  throw new LifeboatError('VERIFY_FAILED', `${of} failed verification: ${named.join('; ')}`, { details })
}
