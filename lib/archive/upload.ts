// An archive's life in the store, the same whatever the source: a free id, the stream
// uploading while it is written, and at the end manifest.json and SHA256SUMS last in the
// tar, the upload awaited, then the sidecar: the one write that makes the backup visible.
import { createHash } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import { join } from 'node:path'
import type { Transform } from 'node:stream'
import type { Store } from '../adapters/store/store.ts'
import { LifeboatError } from '../core/errors.ts'
import {
  INNER_SIGNATURE_FILE,
  sidecarSignatureKey,
  signInnerManifest,
  signSidecar,
} from '../trust/backup-signature.ts'
import type { SigningKey } from '../trust/signature.ts'
import { archiveKey, BACKUPS_PREFIX, backupIdFor, sidecarKey } from './layout.ts'
import type { Manifest, TableEntry } from './manifest.ts'
import { type ArchiveStats, ArchiveWriter } from './writer.ts'

/**
 * Ids are per second; a second backup within the same second takes the next free one.
 * Listing, not HEAD: the backup writer role may list the prefix but not read archives.
 */
export async function freeBackupId(store: Store, started: Date): Promise<string> {
  for (let offset = 0; offset < 60; offset++) {
    const id = backupIdFor(new Date(started.getTime() + offset * 1000))
    if ((await store.list(`${BACKUPS_PREFIX}${id}.`)).length === 0) return id
  }
  throw new LifeboatError('STORE_IO', 'no free backup id within a minute of now')
}

export interface ArchiveUpload {
  id: string
  key: string
  encrypted: boolean
  writer: ArchiveWriter
  /** The store write of the archive stream; sealArchive awaits it. */
  upload: Promise<unknown>
}

/** Opens a new archive and starts streaming it into the store. Dispose the writer in any case. */
export async function startArchiveUpload(args: {
  store: Store
  started: Date
  tempDir: string
  gzipLevel: number
  encrypt?: (() => Transform) | undefined
}): Promise<ArchiveUpload> {
  const id = await freeBackupId(args.store, args.started)
  const encrypted = args.encrypt !== undefined
  const key = archiveKey(id, encrypted)
  const writer = new ArchiveWriter({
    root: id,
    workDir: await mkdtemp(join(args.tempDir, 'lifeboat-backup-')),
    gzipLevel: args.gzipLevel,
    mtime: args.started,
    transforms: args.encrypt ? [args.encrypt()] : [],
  })
  await writer.open()
  // Create-only: the writer role may not replace an object (docs/infrastructure.md).
  const upload = args.store.put(key, writer.output, { ifNoneMatch: '*' })
  // If the store fails, stop feeding it; whoever writes entries sees the rejection.
  upload.catch((error: Error) => writer.abort(error))
  return { id, key, encrypted, writer, upload }
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
  // The signature goes first: once the sidecar is visible, so is the proof of it.
  if (signingKey) {
    await store.put(
      sidecarSignatureKey(manifest.id),
      signSidecar(sidecarText, manifest.id, signingKey, args.now()),
      {
        contentType: 'text/plain',
        ifNoneMatch: '*',
      },
    )
  }
  await store.put(sidecarKey(manifest.id), sidecarText, { contentType: 'application/json', ifNoneMatch: '*' })
  return { sidecar, archive }
}
