// What a restore does to each object of the target (pure): upload, skip (the same
// content is there), or a conflict; and the target's extra objects. The restore engine
// hashes same-size target objects first, so "same content" means the same sha256.
import { compareObjects, objectLabel, type StorageObjectEntry } from './manifest.ts'

export interface TargetObject {
  bucket: string
  name: string
  size: number
  /** Hashed by the engine for objects whose size matches the backup's; undefined otherwise. */
  sha256?: string
}

export interface RestorePlan {
  upload: StorageObjectEntry[]
  /** Already in the target with the same content. */
  identical: StorageObjectEntry[]
  /** In the target with other content: refused unless `truncate`, then overwritten. */
  conflicts: StorageObjectEntry[]
  /** In a restored bucket of the target but not in the backup: deleted only with `truncate`. */
  extra: TargetObject[]
}

/** Which target objects need hashing before the plan can be made: same bucket, name and size. */
export function objectsToCompare(
  backup: readonly StorageObjectEntry[],
  target: readonly TargetObject[],
): TargetObject[] {
  const wanted = new Map(backup.map((o) => [objectLabel(o), o.size]))
  return target.filter((t) => wanted.get(objectLabel(t)) === t.size)
}

export function planRestore(
  backup: readonly StorageObjectEntry[],
  target: readonly TargetObject[],
): RestorePlan {
  const present = new Map(target.map((t) => [objectLabel(t), t]))
  const plan: RestorePlan = { upload: [], identical: [], conflicts: [], extra: [] }
  for (const object of backup) {
    const there = present.get(objectLabel(object))
    if (!there) plan.upload.push(object)
    else if (there.size === object.size && there.sha256 === object.sha256) plan.identical.push(object)
    else plan.conflicts.push(object)
  }
  const restored = new Set(backup.map(objectLabel))
  plan.extra = target.filter((t) => !restored.has(objectLabel(t))).sort(compareObjects)
  return plan
}

export interface CatalogComparison {
  /** `storage.objects` rows whose file is not in the target. */
  rowsWithoutFile: string[]
  /** Files in the target with no `storage.objects` row. */
  filesWithoutRow: string[]
}

/** Rows against files, both as `bucket/name`, within the given buckets. */
export function compareCatalog(
  rows: readonly { bucket: string; name: string }[],
  files: readonly { bucket: string; name: string }[],
  buckets: ReadonlySet<string>,
): CatalogComparison {
  const inScope = (o: { bucket: string }) => buckets.has(o.bucket)
  const rowSet = new Set(rows.filter(inScope).map(objectLabel))
  const fileSet = new Set(files.filter(inScope).map(objectLabel))
  return {
    rowsWithoutFile: [...rowSet].filter((r) => !fileSet.has(r)).sort(),
    filesWithoutRow: [...fileSet].filter((f) => !rowSet.has(f)).sort(),
  }
}
