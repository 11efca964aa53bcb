#!/usr/bin/env -S npx tsx
// lifeboat audit (npm run backup:audit) — the audit trail's recent records, newest first (docs/lifecycle.md).
import { openStore } from '../lib/adapters/store/open-store.ts'
import { parseSince } from '../lib/audit/record.ts'
import { type ListedAudit, listAudit } from '../lib/audit/trail.ts'
import { isMainModule, type JobSpec, main } from '../lib/cli/run-job.ts'
import { readStoreConfig, SettingsReader } from '../lib/core/config.ts'
import { LifeboatError } from '../lib/core/errors.ts'
import { plural } from '../lib/core/format.ts'
import { SETTINGS } from '../lib/settings/settings.ts'

export const job: JobSpec = {
  name: 'audit',
  async run({ args, env }) {
    const reader = new SettingsReader(env, args)
    const storeConfig = readStoreConfig(reader)
    const limit = reader.integer(SETTINGS.limit)
    const sinceText = reader.optional(SETTINGS.since)!
    const event = reader.optional(SETTINGS.event)
    reader.finish()
    const now = new Date()
    const since = sinceText === 'all' ? undefined : parseSince(sinceText, now)
    if (sinceText !== 'all' && !since) {
      throw new LifeboatError(
        'USAGE',
        `--since must be like 7d, 24h, 30m, all or a date (2026-11-01), got "${sinceText}"`,
      )
    }
    const store = openStore(storeConfig!)
    const records = await listAudit(store, {
      ...(since ? { since } : {}),
      until: now,
      limit,
      ...(event ? { event } : {}),
    })
    return {
      summary: { store: store.location, since: since?.toISOString() ?? null, records: records.map(toJson) },
      text: renderAudit(records, store.location, sinceText),
    }
  },
}

if (isMainModule(import.meta.url)) main(job)

function toJson(entry: ListedAudit): Record<string, unknown> {
  return entry.record
    ? { key: entry.key, ...entry.record }
    : { key: entry.key, at: entry.at, event: entry.event, problem: entry.problem }
}

function renderAudit(records: readonly ListedAudit[], store: string, since: string): string {
  if (records.length === 0) return `no audit records since ${since} in ${store}`
  const rows = records.map((entry) => {
    const r = entry.record
    const at = entry.at
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, 'Z')
    if (!r) return [at, entry.event, '?', '', '', `unreadable: ${entry.problem ?? ''}`]
    const who =
      r.actor.kind === 'github' ? `${r.actor.actor} (${r.actor.runUrl})` : `${r.actor.user}@${r.actor.host}`
    const note = r.error
      ? `${r.error.code}: ${r.error.message}`
      : (r.warnings?.[0] ?? (r.details.dryRun === true ? 'dry run' : ''))
    return [at, r.event, r.outcome, r.backupId ?? '', who, note]
  })
  const header = ['time (UTC)', 'event', 'outcome', 'backup', 'who', 'note']
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (i === 5 ? 0 : row[i]!.length))),
  )
  const format = (cells: string[]) =>
    cells
      .map((c, i) => (i === 5 ? c.slice(0, 160) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [format(header), ...rows.map(format), `${plural(records.length, 'record')} in ${store}`].join('\n')
}
