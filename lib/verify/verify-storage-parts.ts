// backup:verify for the Storage files of the backups it checked: every blob a backup's
// storage index references exists at its size (default), or streams back to its sha256
// (--read-data). A failing object fails its backup, named as `storage: bucket/name`.
import type { Store } from '../adapters/store/store.ts'
import { readAuthenticSidecar, type Trust } from '../archive/authenticity.ts'
import { isLifeboatError } from '../core/errors.ts'
import type { EmitEvent } from '../core/events.ts'
import type { Decrypt } from '../storage/blob-store.ts'
import { type StorageVerification, verifyStorage } from '../storage/verify.ts'
import type { BackupVerification, VerifyReport } from './verify-backups.ts'

export type StorageCheckSummary = Pick<StorageVerification, 'mode' | 'ok' | 'objects' | 'blobs' | 'bytesRead'>

export interface StorageVerifyRequest {
  store: Store
  emit: EmitEvent
  decrypt?: Decrypt | undefined
  trust: Trust
  mode: 'exists' | 'read'
  jobs: number
  signal?: AbortSignal | undefined
}

/** Adds each backup's Storage verdict to the report (in place) and settles `ok` again. */
export async function verifyStorageParts(
  report: VerifyReport,
  request: StorageVerifyRequest,
): Promise<VerifyReport & { backups: (BackupVerification & { storage?: StorageCheckSummary })[] }> {
  for (const backup of report.backups as (BackupVerification & { storage?: StorageCheckSummary })[]) {
    if (backup.verdict === 'skipped') continue
    const manifest = await authenticManifest(request, backup.id)
    // An unreadable or untrusted sidecar is the archive check's finding already.
    if (!manifest?.storage) continue
    const result = await verifyStorage(
      {
        store: request.store,
        emit: request.emit,
        ...(request.decrypt ? { decrypt: request.decrypt } : {}),
        ...(request.signal ? { signal: request.signal } : {}),
      },
      manifest,
      { mode: request.mode, jobs: request.jobs },
    )
    if (!result) continue
    const { mode, ok, objects, blobs, bytesRead } = result
    backup.storage = { mode, ok, objects, blobs, bytesRead }
    request.emit({ type: 'step', message: `${backup.id}: storage: ${describeStorageCheck(backup.storage)}` })
    if (ok) continue
    backup.verdict = 'failed'
    if (backup.failure !== 'key') backup.failure = 'corrupt'
    backup.problems.push(...result.problems.map((p) => `storage: ${p}`))
    backup.failedFiles.push(...result.failedObjects.map((o) => `storage: ${o}`))
  }
  report.ok = report.backups.every((b) => b.verdict !== 'failed')
  return report
}

export function describeStorageCheck(s: StorageCheckSummary): string {
  const how = s.mode === 'read' ? 'read back and hashed' : 'present at their sizes'
  return `${s.ok ? 'ok' : 'FAILED'} (${s.objects} objects, ${s.blobs} blobs ${how})`
}

async function authenticManifest(request: StorageVerifyRequest, id: string) {
  try {
    return (await readAuthenticSidecar(request.store, id, request.trust)).manifest
  } catch (error) {
    if (isLifeboatError(error) && error.exitCode === 1) return undefined
    throw error
  }
}
