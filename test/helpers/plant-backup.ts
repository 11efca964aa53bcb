// Copies of a real backup stored under another id, as if made at another time: how tests
// get backups days apart without waiting. The sidecar is rewritten for the new id and
// signed with the test key, as the backup job signs it, unless the test wants it unsigned.
import type { Store } from '../../lib/adapters/store/store.ts'
import { archiveKey, backupIdFor, sidecarKey } from '../../lib/archive/layout.ts'
import type { Manifest } from '../../lib/archive/manifest.ts'
import { readSidecar } from '../../lib/inventory/read-inventory.ts'
import { sidecarSignatureKey, signSidecar } from '../../lib/trust/backup-signature.ts'
import { testSigningKey } from './signing.ts'

/** A real backup's archive bytes and sidecar, to copy under other ids. */
export interface BackupTemplate {
  archive: Buffer
  sidecar: Manifest
}

export interface PlantOptions {
  /** Store the archive as `.tar.gz.age` (the template must be an encrypted backup). */
  encrypted?: boolean
  /** false: the archive alone, as a failed upload leaves it. */
  sidecar?: boolean
  /** false: no signature beside the sidecar, as before signing was on. */
  signed?: boolean
  /** Changes to the sidecar (after its id, times and archive key are set). */
  edit?: (sidecar: Manifest) => Manifest
}

export async function readTemplate(store: Store, id: string): Promise<BackupTemplate> {
  const sidecar = await readSidecar(store, id)
  const chunks: Buffer[] = []
  for await (const chunk of await store.get(sidecar.archive!.key)) chunks.push(Buffer.from(chunk))
  return { sidecar, archive: Buffer.concat(chunks) }
}

/** Stores the template as backup `backupIdFor(time)` and returns that id. */
export async function plantBackup(
  store: Store,
  template: BackupTemplate,
  time: Date,
  options: PlantOptions = {},
): Promise<string> {
  const id = backupIdFor(time)
  const key = archiveKey(id, options.encrypted ?? false)
  await store.put(key, template.archive)
  if (options.sidecar === false) return id
  const moved: Manifest = {
    ...template.sidecar,
    id,
    startedAt: time.toISOString(),
    finishedAt: time.toISOString(),
    archive: { ...template.sidecar.archive!, key },
  }
  const text = Buffer.from(`${JSON.stringify(options.edit ? options.edit(moved) : moved, null, 2)}\n`)
  // The signature first, as the backup job writes it: the sidecar makes the backup visible.
  if (options.signed !== false) {
    await store.put(sidecarSignatureKey(id), signSidecar(text, id, testSigningKey(), time))
  }
  await store.put(sidecarKey(id), text)
  return id
}
