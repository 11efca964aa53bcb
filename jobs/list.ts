#!/usr/bin/env -S npx tsx
// lifeboat list (npm run backup:list) — the complete backups in the store, newest first (sidecars only).
import { openStore } from '../lib/adapters/store/open-store.ts'
import { isMainModule, type JobSpec, main } from '../lib/cli/run-job.ts'
import { readStoreConfig, SettingsReader } from '../lib/core/config.ts'
import { formatBytes, formatCount, plural } from '../lib/core/format.ts'
import { type BackupListing, listBackups } from '../lib/inventory/list.ts'

export const job: JobSpec = {
  name: 'list',
  async run({ args, env }) {
    const reader = new SettingsReader(env, args)
    const config = readStoreConfig(reader)
    reader.finish()
    const listing = await listBackups(openStore(config!))
    return { summary: { ...listing }, text: renderListing(listing) }
  },
}

if (isMainModule(import.meta.url)) main(job)

function renderListing(listing: BackupListing): string {
  const lines: string[] = []
  if (listing.backups.length === 0) lines.push(`no complete backups in ${listing.store}`)
  else {
    const rows = listing.backups.map((b) => [
      b.id,
      b.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      formatBytes(b.archiveBytes),
      b.tables === undefined ? '?' : String(b.tables),
      b.rows === undefined ? '?' : formatCount(b.rows),
      b.encrypted ? 'yes' : 'no',
      b.flags.join(', '),
    ])
    const header = ['id', 'time (UTC)', 'size', 'tables', 'rows', 'encrypted', 'flags']
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
    const right = new Set([2, 3, 4])
    const format = (cells: string[]) =>
      cells
        .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd()
    lines.push(format(header), ...rows.map(format))
    lines.push(`${plural(listing.backups.length, 'complete backup')} in ${listing.store}`)
  }
  if (listing.incomplete.length > 0) {
    lines.push(
      `${plural(listing.incomplete.length, 'incomplete upload')} without a sidecar, not restorable: ${listing.incomplete.join(', ')}`,
    )
  }
  for (const problem of listing.problems) lines.push(`warning: unreadable sidecar: ${problem}`)
  for (const warning of listing.warnings) lines.push(`warning: ${warning}`)
  return lines.join('\n')
}
