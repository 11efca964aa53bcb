// The DR test's access review, stored: compares the review the deployed stack publishes
// (LIFEBOAT_ACCESS_REVIEW, the stack output accessReview) with the newest one stored in
// drills/, stores the new one create-only, and returns the changes and the Markdown for the
// report. lib/drills/drill.ts calls reviewAccessForReport for every DR test.

import { putCreateOnly } from '../adapters/store/create-only.ts'
import type { Store } from '../adapters/store/store.ts'
import { backupIdFor, DRILLS_PREFIX } from '../archive/layout.ts'
import { isLifeboatError } from '../core/errors.ts'
import { redact } from '../core/secret.ts'
import {
  type AccessChange,
  type AccessReview,
  diffAccessReviews,
  parseAccessReview,
  type ReportedAccessReview,
  renderAccessReview,
} from './access-review-report.ts'

export const ACCESS_REVIEW_PREFIX = `${DRILLS_PREFIX}access-review-`

export interface AccessReviewResult {
  review: AccessReview
  /** The key the review was stored under. */
  key: string
  previousKey?: string
  changes: AccessChange[]
  markdown: string
}

export async function reviewAccess(store: Store, published: string, now: Date): Promise<AccessReviewResult> {
  const review = parseAccessReview(published)
  // By name without `.json`, so `…Z` comes before `…Z-2` (a second review in the same second).
  const stored = (await store.list(ACCESS_REVIEW_PREFIX))
    .map((o) => o.key)
    .sort((a, b) => {
      const [x, y] = [a.replace(/\.json$/, ''), b.replace(/\.json$/, '')]
      return x < y ? -1 : x > y ? 1 : 0
    })
  const previousKey = stored.at(-1)
  const previous = previousKey ? parseAccessReview(await readText(store, previousKey)) : undefined
  const changes = diffAccessReviews(previous, review)
  const key = await storeReview(store, review, now)
  return {
    review,
    key,
    ...(previousKey ? { previousKey } : {}),
    changes,
    markdown: renderAccessReview(review, changes, previous === undefined),
  }
}

/** What the DR-test report carries; a review that cannot be stored is a warning, not a failed test. */
export async function reviewAccessForReport(
  store: Store,
  published: string,
  now: Date,
): Promise<{ reported?: ReportedAccessReview; warning?: string }> {
  try {
    const result = await reviewAccess(store, published, now)
    return {
      reported: {
        key: result.key,
        previousKey: result.previousKey ?? null,
        changes: result.changes,
        review: result.review,
      },
    }
  } catch (error) {
    return { warning: `access review not done: ${redact((error as Error).message)}` }
  }
}

/** Stores the review create-only; a second review in the same second gets a suffix. */
async function storeReview(store: Store, review: AccessReview, now: Date): Promise<string> {
  const base = `${ACCESS_REVIEW_PREFIX}${backupIdFor(now).slice('backup-'.length)}`
  for (let n = 1; ; n++) {
    const key = n === 1 ? `${base}.json` : `${base}-${n}.json`
    try {
      await putCreateOnly(store, key, `${JSON.stringify(review, null, 2)}\n`, {
        contentType: 'application/json',
      })
      return key
    } catch (error) {
      if (!isLifeboatError(error) || error.code !== 'STORE_KEY_EXISTS' || n >= 20) throw error
    }
  }
}

async function readText(store: Store, key: string): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of await store.get(key)) chunks.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(chunks).toString('utf8')
}
