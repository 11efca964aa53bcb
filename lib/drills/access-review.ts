// The DR test's access review, stored: compares the review the deployed stack publishes
// (LIFEBOAT_ACCESS_REVIEW, the stack output accessReview) with the newest one stored in
// drills/, stores the new one create-only, and returns the changes and the Markdown for the
// report. For the lead to call from the DR-test engine (the report section is its own).
import type { Store } from '../adapters/store/store.ts'
import { backupIdFor, DRILLS_PREFIX } from '../archive/layout.ts'
import {
  type AccessChange,
  type AccessReview,
  diffAccessReviews,
  parseAccessReview,
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
  const stored = (await store.list(ACCESS_REVIEW_PREFIX)).map((o) => o.key).sort()
  const previousKey = stored.at(-1)
  const previous = previousKey ? parseAccessReview(await readText(store, previousKey)) : undefined
  const changes = diffAccessReviews(previous, review)
  const key = `${ACCESS_REVIEW_PREFIX}${backupIdFor(now).slice('backup-'.length)}.json`
  await store.put(key, `${JSON.stringify(review, null, 2)}\n`, {
    contentType: 'application/json',
    ifNoneMatch: '*',
  })
  return {
    review,
    key,
    ...(previousKey ? { previousKey } : {}),
    changes,
    markdown: renderAccessReview(review, changes, previous === undefined),
  }
}

async function readText(store: Store, key: string): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of await store.get(key)) chunks.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(chunks).toString('utf8')
}
