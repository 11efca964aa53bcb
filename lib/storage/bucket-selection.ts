// Which Storage buckets a run covers: `--storage-bucket` / `--exclude-storage-bucket`
// patterns with the table patterns' semantics (`*`, `?`, otherwise literal).
import { patternToRegExp } from '../core/selection.ts'

export interface BucketSelection {
  /** Patterns; empty means every bucket. */
  buckets: string[]
  excludeBuckets: string[]
}

export const everyBucket: BucketSelection = { buckets: [], excludeBuckets: [] }

/** Exclusion wins; naming buckets selects exactly them. */
export function isBucketSelected(selection: BucketSelection, bucket: string): boolean {
  const matches = (patterns: readonly string[]) => patterns.some((p) => patternToRegExp(p).test(bucket))
  if (matches(selection.excludeBuckets)) return false
  return selection.buckets.length === 0 || matches(selection.buckets)
}

/** Included patterns that matched no bucket: a typo should not pass as "nothing to back up". */
export function unmatchedPatterns(selection: BucketSelection, buckets: readonly string[]): string[] {
  return selection.buckets.filter((p) => !buckets.some((b) => patternToRegExp(p).test(b)))
}
