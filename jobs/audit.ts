#!/usr/bin/env -S npx tsx
// npm run backup:audit — the audit trail's recent records, newest first (docs/lifecycle.md).
import { openStore } from '../lib/adapters/store/open-store.ts'
import { parseSince } from '../lib/audit/record.ts'
import { type ListedAudit, listAudit } from '../lib/audit/trail.ts'
import { main } from '../lib/cli/run-job.ts'
import { readStoreConfig, SettingsReader } from '../lib/core/config.ts'
import { LifeboatError } from '../lib/core/errors.ts'

main({
  name: 'audit',
  usage: `
Usage: npm run backup:audit -- [options]

Prints the audit trail's records (audit/ in the store), newest first: when, what
ran (backup, restore, verify, clean, monitor, drill), its outcome, the backup id,
and who ran it (the GitHub actor and run URL in Actions, the OS user otherwise).

Store:    BACKUP_STORE (s3://bucket/prefix or file://path), or --store
Options:
      --since WHEN    7d, 24h, 30m or a date (2026-11-01); default 30d
      --limit N       at most N records (default 50)
      --event NAME    only this job (backup, restore, verify, clean, …)
      --store URL     overrides BACKUP_STORE
      --json          print one JSON line: {"records": [...]}
  -h, --help          this help
Exit codes: 0 ok, 1 the store could not be read, 2 bad usage or configuration.
`,
  flags: { string: ['store', 'since', 'limit', 'event'], default: { since: '30d' } },
  async run({ args, positional, env }) {
    if (positional.length > 0) throw new LifeboatError('USAGE', `unexpected argument ${positional.join(' ')}`)
    const reader = new SettingsReader(env, args)
    const storeConfig = readStoreConfig(reader)
    const limit = reader.integer('limit', undefined, 50, 1)
    reader.finish()
    const now = new Date()
    const sinceText = String(args.since)
    const since = sinceText === 'all' ? undefined : parseSince(sinceText, now)
    if (sinceText !== 'all' && !since) {
      throw new LifeboatError(
        'USAGE',
        `--since must be like 7d, 24h, 30m, all or a date (2026-11-01), got "${sinceText}"`,
      )
    }
    const event = typeof args.event === 'string' && args.event !== '' ? args.event : undefined
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
})

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
  return [
    format(header),
    ...rows.map(format),
    `${records.length} record${records.length === 1 ? '' : 's'} in ${store}`,
  ].join('\n')
}
