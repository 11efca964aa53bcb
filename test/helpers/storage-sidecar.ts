// What the backup job will do around the storage engine, for tests and the bench child
// process (no vitest here): begin, complete, write the sidecar naming the storage part,
// release. The lead wires the same calls into the real backup job.
import { createHash } from 'node:crypto'
import { archiveKey, sidecarKey } from '../../lib/archive/layout.ts'
import { FORMAT_VERSION, type Manifest } from '../../lib/archive/manifest.ts'
import { beginStorageBackup, type StorageBackupDeps } from '../../lib/storage/backup.ts'
import type { StorageBackupResult } from '../../lib/storage/backup-result.ts'
import type { LockTiming } from '../../lib/storage/locks.ts'
import type { StorageReference } from '../../lib/storage/manifest.ts'
import type { StorageSettings } from '../../lib/storage/settings.ts'

let counter = 0

/** `backup-2026-01-01T…Z` ids in order, one hour apart, unique per test file. */
export function nextBackupId(): string {
  const time = new Date(Date.UTC(2026, 0, 1) + (counter++ * 3600 + (process.pid % 3600)) * 1000)
  return `backup-${time.toISOString().slice(0, 10)}T${time.toISOString().slice(11, 19).replaceAll(':', '')}Z`
}

export interface BackupRun {
  id: string
  reference: StorageReference
  result: StorageBackupResult
  sidecar: Manifest & { storage: StorageReference }
}

/**
 * What the backup job will do around the engine (lead's wiring): begin right after the
 * snapshot, complete, put the reference into the sidecar, write it, release. The archive
 * here is a stand-in object: Storage needs only a complete backup whose sidecar names it.
 */
export async function backupWithSidecar(
  deps: Omit<StorageBackupDeps, 'emit' | 'now' | 'tempDir'> & Partial<StorageBackupDeps>,
  options: {
    settings: StorageSettings
    recipients?: readonly string[]
    id?: string
    lockTiming?: Partial<LockTiming>
  },
): Promise<BackupRun> {
  const id = options.id ?? nextBackupId()
  const recipients = options.recipients ?? []
  const full: StorageBackupDeps = { emit: () => {}, now: () => new Date(), tempDir: '.tmp', ...deps }
  const run = await beginStorageBackup(full, {
    id,
    settings: options.settings,
    recipients,
    ...(options.lockTiming ? { lockTiming: options.lockTiming } : {}),
  })
  try {
    const { reference, result } = await run.complete()
    const archive = Buffer.from(`stand-in archive of ${id}\n`)
    const key = archiveKey(id, recipients.length > 0)
    await full.store.put(key, archive)
    const sidecar = {
      ...standInManifest(id, recipients.length > 0),
      storage: reference,
      archive: { key, bytes: archive.length, sha256: createHash('sha256').update(archive).digest('hex') },
    }
    run.assertHeld('writing the sidecar')
    await full.store.put(sidecarKey(id), `${JSON.stringify(sidecar, null, 2)}\n`)
    return { id, reference, result, sidecar }
  } finally {
    await run.release()
  }
}

function standInManifest(id: string, encrypted: boolean): Manifest {
  const time = new Date().toISOString()
  return {
    format: FORMAT_VERSION,
    id,
    tool: { name: 'lifeboat', version: 'test' },
    startedAt: time,
    finishedAt: time,
    source: {
      kind: 'postgres',
      serverVersion: '15',
      database: 'app',
      host: 'localhost',
      snapshot: null,
      consistent: true,
    },
    compression: { method: 'gzip', level: 6 },
    encrypted,
    schemaSql: null,
    tables: [],
    sequences: [],
    restoreOrder: [],
    // A real backup holds tables; retention counts only such backups as good.
    totals: { tables: 1, rows: 1, bytes: 1 },
  }
}
