// Mark and sweep, decided purely: blobs referenced by any backup that still has a sidecar
// are kept; every other blob, and the manifests of backups that are gone, are garbage.
import { backupIdOfManifestKey, parseBlobKey } from './layout.ts'

export interface StoredKey {
  key: string
  size: number
}

export interface SweepPlan {
  /** Blob keys no remaining backup references. */
  blobs: StoredKey[]
  /** Storage manifests and indexes of backups whose sidecar is gone. */
  manifests: StoredKey[]
  keptBlobs: number
  bytes: number
}

/**
 * `referenced` holds every blob key named by an index of a backup that still has a
 * sidecar; `backups` those backups' ids. Anything not recognised as ours is left alone.
 */
export function planSweep(args: {
  blobs: readonly StoredKey[]
  manifests: readonly StoredKey[]
  referenced: ReadonlySet<string>
  backups: ReadonlySet<string>
}): SweepPlan {
  const blobs = args.blobs.filter((b) => parseBlobKey(b.key) !== undefined && !args.referenced.has(b.key))
  const manifests = args.manifests.filter((m) => {
    const id = backupIdOfManifestKey(m.key)
    return id !== undefined && !args.backups.has(id)
  })
  return {
    blobs,
    manifests,
    keptBlobs: args.blobs.length - blobs.length,
    bytes: [...blobs, ...manifests].reduce((n, o) => n + o.size, 0),
  }
}
