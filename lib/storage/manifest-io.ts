// Writes and reads the storage manifest (encrypted when the backups are) and the
// plaintext index as NDJSON: a header line, then one line per object. Streams both
// ways and checks every read against the sha256 and size its reference records.
import { pipeline, Readable, type Transform } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'
import { encryptStream } from '../adapters/crypto/age.ts'
import { putClaimed } from '../adapters/store/create-only.ts'
import type { Store } from '../adapters/store/store.ts'
import { LifeboatError } from '../core/errors.ts'
import type { Decrypt } from './blob-store.ts'
import { HashMeter } from './hashing.ts'
import { storageIndexKey, storageManifestKey } from './layout.ts'
import {
  checkIndexEntry,
  checkIndexHeader,
  checkManifestHeader,
  checkObjectEntry,
  type FileReference,
  type StorageIndex,
  type StorageManifest,
} from './manifest.ts'

export async function writeStorageManifest(
  store: Store,
  manifest: StorageManifest,
  recipients: readonly string[],
): Promise<FileReference> {
  const encrypted = recipients.length > 0
  const key = storageManifestKey(manifest.header.id, encrypted)
  return writeLines(store, key, manifest.header, manifest.objects, encrypted ? recipients : [])
}

export async function writeStorageIndex(store: Store, index: StorageIndex): Promise<FileReference> {
  return writeLines(store, storageIndexKey(index.header.id), index.header, index.entries, [])
}

async function writeLines(
  store: Store,
  key: string,
  header: unknown,
  items: readonly unknown[],
  recipients: readonly string[],
): Promise<FileReference> {
  const meter = new HashMeter()
  const lines = Readable.from(
    (function* () {
      yield Buffer.from(`${JSON.stringify(header)}\n`)
      for (const item of items) yield Buffer.from(`${JSON.stringify(item)}\n`)
    })(),
  )
  const stages: (Readable | Transform)[] = [lines, meter]
  if (recipients.length > 0) stages.push(encryptStream(recipients, { name: key }))
  const body = pipeline(stages as [Readable, ...Transform[]], () => undefined) as unknown as Readable
  // One per backup id: create-only, as the archive and its sidecar.
  await putClaimed(store, key, body, {
    contentType: recipients.length > 0 ? 'application/octet-stream' : 'application/x-ndjson',
  })
  return { key, sha256: meter.sha256(), bytes: meter.bytes }
}

export async function readStorageIndex(store: Store, ref: FileReference): Promise<StorageIndex> {
  const where = store.locate(ref.key)
  const lines = await readLines(store, ref, undefined, where)
  const [first, ...rest] = lines
  const header = checkIndexHeader(first, where)
  const entries = rest.map((e, i) => checkIndexEntry(e, where, i + 2))
  if (entries.length !== header.entries) {
    throw new LifeboatError(
      'ARCHIVE_CORRUPT',
      `${where}: ${entries.length} entries, its header says ${header.entries}`,
    )
  }
  return { header, entries }
}

export async function readStorageManifest(
  store: Store,
  ref: FileReference,
  decrypt: Decrypt | undefined,
): Promise<StorageManifest> {
  const where = store.locate(ref.key)
  const lines = await readLines(
    store,
    ref,
    ref.key.endsWith('.age') ? requireDecrypt(decrypt, where) : undefined,
    where,
  )
  const [first, ...rest] = lines
  const header = checkManifestHeader(first, where)
  const objects = rest.map((o, i) => checkObjectEntry(o, where, i + 2))
  if (objects.length !== header.objects) {
    throw new LifeboatError(
      'ARCHIVE_CORRUPT',
      `${where}: ${objects.length} objects, its header says ${header.objects}`,
    )
  }
  return { header, objects }
}

function requireDecrypt(decrypt: Decrypt | undefined, where: string): Decrypt {
  if (!decrypt)
    throw new LifeboatError('DECRYPT_FAILED', `${where} is age-encrypted and no identity is configured`)
  return decrypt
}

/** Parsed lines of an NDJSON object, checked against the reference's sha256 and size. */
async function readLines(
  store: Store,
  ref: FileReference,
  decrypt: Decrypt | undefined,
  where: string,
): Promise<unknown[]> {
  const meter = new HashMeter()
  const stages: (Readable | Transform)[] = [await store.get(ref.key)]
  if (decrypt) stages.push(decrypt(where))
  stages.push(meter)
  const stream = pipeline(stages as [Readable, ...Transform[]], () => undefined) as unknown as Readable
  const values: unknown[] = []
  let rest = ''
  const parse = (line: string) => {
    if (line === '') return
    try {
      values.push(JSON.parse(line))
    } catch {
      throw new LifeboatError('ARCHIVE_CORRUPT', `${where}: line ${values.length + 1} is not JSON`)
    }
  }
  const decoder = new StringDecoder('utf8')
  for await (const chunk of stream) {
    const text = rest + decoder.write(chunk as Buffer)
    const lines = text.split('\n')
    rest = lines.pop()!
    for (const line of lines) parse(line)
  }
  parse(rest + decoder.end())
  if (meter.bytes !== ref.bytes || meter.sha256() !== ref.sha256) {
    throw new LifeboatError(
      'ARCHIVE_CORRUPT',
      `${where}: its content differs from the sha256 and size manifest.json records (${meter.bytes} bytes)`,
    )
  }
  return values
}
