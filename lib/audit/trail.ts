// Appends audit records to the store and lists them back, newest first. Append-only: every
// record gets a key no other run can produce, so nothing is ever overwritten.
import { randomBytes } from 'node:crypto'
import { putClaimed } from '../adapters/store/create-only.ts'
import { isKeyExists, type Store } from '../adapters/store/store.ts'
import { AUDIT_PREFIX } from '../archive/layout.ts'
import { LifeboatError } from '../core/errors.ts'
import {
  type AuditKeyInfo,
  type AuditRecord,
  auditKey,
  auditPrefixesBetween,
  parseAuditKey,
  scrubRecord,
} from './record.ts'

/**
 * Writes one record; returns its key. A create-only put, never a HEAD first: the writer and
 * cleaner roles may put audit/* but not read it, and the store refuses to overwrite. The
 * key's random part is this write's own, so one of the record's size already there is
 * this write, landed with its answer lost.
 */
export async function appendAudit(store: Store, record: AuditRecord): Promise<string> {
  const scrubbed = scrubRecord(record)
  const body = `${JSON.stringify(scrubbed, null, 2)}\n`
  for (let attempt = 0; attempt < 3; attempt++) {
    const key = auditKey(scrubbed.event, new Date(scrubbed.at), randomBytes(6).toString('hex'))
    try {
      await putClaimed(store, key, body, { contentType: 'application/json' })
      return key
    } catch (error) {
      if (!isKeyExists(error)) throw error
    }
  }
  throw new LifeboatError('INTERNAL', 'no free audit key after three attempts')
}

export interface ListedAudit extends AuditKeyInfo {
  record?: AuditRecord
  /** Why the body could not be read, when it could not. */
  problem?: string
}

export interface ListAuditOptions {
  since?: Date
  until: Date
  limit: number
  event?: string
}

/** Records newest first, at most `limit`; only the month folders the window touches are listed. */
export async function listAudit(store: Store, options: ListAuditOptions): Promise<ListedAudit[]> {
  const prefixes = options.since ? auditPrefixesBetween(options.since, options.until) : [AUDIT_PREFIX]
  const keys: AuditKeyInfo[] = []
  for (const prefix of prefixes) {
    for (const object of await store.list(prefix)) {
      const info = parseAuditKey(object.key)
      if (!info) continue
      if (options.since && info.at < options.since) continue
      if (options.event && info.event !== options.event) continue
      keys.push(info)
    }
  }
  keys.sort((a, b) => b.at.getTime() - a.at.getTime() || (a.key < b.key ? 1 : -1))
  const chosen = keys.slice(0, options.limit)
  return Promise.all(
    chosen.map(async (info): Promise<ListedAudit> => {
      try {
        const chunks: Buffer[] = []
        for await (const chunk of await store.get(info.key)) chunks.push(Buffer.from(chunk))
        return { ...info, record: JSON.parse(Buffer.concat(chunks).toString('utf8')) as AuditRecord }
      } catch (error) {
        if (error instanceof LifeboatError && error.code !== 'BACKUP_NOT_FOUND') throw error
        return { ...info, problem: (error as Error).message }
      }
    }),
  )
}
