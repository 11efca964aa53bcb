#!/usr/bin/env -S npx tsx
import { openStore } from '../lib/adapters/store/open-store.ts'
import { main } from '../lib/cli/run-job.ts'
// npm run backup:list — the complete backups in the store, newest first (sidecars only).
import { readStoreConfig, SettingsReader } from '../lib/core/config.ts'
import { formatBytes } from '../lib/core/format.ts'
import { type BackupListing, listBackups } from '../lib/inventory/list.ts'

main({
  name: 'list',
  usage: `
Usage: npm run backup:list -- [--store URL] [--json]

Lists the complete backups in the store, newest first: id, time (UTC), archive
size, tables, rows, and whether the archive is encrypted. Reads only the manifest
sidecars; no archive is downloaded. Archives without a sidecar are unfinished
uploads: they are counted, never listed as restorable.

Store:    BACKUP_STORE (s3://bucket/prefix or file://path), or --store
Options:
      --store URL   overrides BACKUP_STORE
      --json        print one JSON line: {"backups": [...], "incomplete": [...]}
  -h, --help        this help
Exit codes: 0 ok, 1 the store could not be read, 2 bad usage or configuration.
`,
  flags: { string: ['store'] },
  async run({ args, env }) {
    const reader = new SettingsReader(env, args)
    const config = readStoreConfig(reader)
    reader.finish()
    const listing = await listBackups(openStore(config!))
    return { summary: { ...listing }, text: renderListing(listing) }
  },
})

function renderListing(listing: BackupListing): string {
  const lines: string[] = []
  if (listing.backups.length === 0) lines.push(`no complete backups in ${listing.store}`)
  else {
    const rows = listing.backups.map((b) => [
      b.id,
      b.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      formatBytes(b.archiveBytes),
      b.tables === undefined ? '?' : String(b.tables),
      b.rows === undefined ? '?' : b.rows.toLocaleString('en'),
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
    lines.push(
      `${listing.backups.length} complete backup${listing.backups.length === 1 ? '' : 's'} in ${listing.store}`,
    )
  }
  if (listing.incomplete.length > 0) {
    lines.push(
      `${listing.incomplete.length} incomplete upload(s) without a sidecar, not restorable: ${listing.incomplete.join(', ')}`,
    )
  }
  for (const problem of listing.problems) lines.push(`warning: unreadable sidecar: ${problem}`)
  for (const warning of listing.warnings) lines.push(`warning: ${warning}`)
  return lines.join('\n')
}
