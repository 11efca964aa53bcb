#!/usr/bin/env -S npx tsx
// lifeboat show (npm run backup:show) — what is inside one backup, from its manifest
// sidecar alone: one listing and one small read, never the archive.
import { openStore } from '../lib/adapters/store/open-store.ts'
import { isMainModule, type JobSpec, main } from '../lib/cli/run-job.ts'
import { readStoreConfig, SettingsReader } from '../lib/core/config.ts'
import { LifeboatError } from '../lib/core/errors.ts'
import { formatBytes, formatCount, plural } from '../lib/core/format.ts'
import { type BackupSummary, summarizeBackup } from '../lib/inventory/backup-summary.ts'
import { parseSelector, selectBackup } from '../lib/inventory/inventory.ts'
import { listInventory, readSidecar } from '../lib/inventory/read-inventory.ts'

export const job: JobSpec = {
  name: 'show',
  async run({ args, positional, env }) {
    const reader = new SettingsReader(env, args)
    const config = readStoreConfig(reader)
    reader.finish()
    const selector = parseSelector(positional[0] ?? 'latest')
    if (selector.kind === 'file') {
      throw new LifeboatError(
        'USAGE',
        `show reads the store's sidecars: give latest, a backup id or a date (YYYY-MM-DD), not ${positional[0]}`,
      )
    }
    const store = openStore(config!)
    const record = selectBackup(await listInventory(store), selector)
    const manifest = await readSidecar(store, record.id)
    const summary = summarizeBackup(manifest, {
      location: store.locate(record.archive!.key),
      archiveBytes: record.archive!.size,
      encrypted: record.archive!.encrypted,
    })
    return { summary: { ...summary }, text: renderSummary(summary) }
  },
}

if (isMainModule(import.meta.url)) main(job)

function renderSummary(s: BackupSummary): string {
  const when = s.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')
  const schema = s.schema
  const lines = [
    `backup ${s.id}  ${s.location}`,
    `  taken        ${when}, in ${s.seconds.toFixed(1)} s, by ${s.tool}`,
    `  source       ${s.source.kind === 'rest' ? 'Supabase API' : `PostgreSQL ${s.source.serverVersion}`}, database ${s.source.database} at ${s.source.host}${s.source.consistent ? ', one snapshot' : ', not snapshot-consistent'}`,
    `  archive      ${formatBytes(s.archiveBytes)}, ${s.compression}, ${s.encrypted ? 'encrypted (age)' : 'not encrypted'}`,
    `  contents     ${plural(s.totals.tables, 'table')}, ${plural(s.totals.rows, 'row')}, ${formatBytes(s.totals.bytes)} of NDJSON`,
    `  schema       ${plural(schema.schemas.length, 'schema')} (${schema.schemas.join(', ')}), ${plural(schema.columns, 'column')}, ${schema.primaryKeys} of ${plural(schema.tables, 'table')} with a primary key, ${plural(schema.foreignKeys, 'foreign key')}, ${plural(schema.sequences, 'sequence')}${schema.partitioned > 0 ? `, ${plural(schema.partitioned, 'partitioned table')} (${plural(schema.partitions, 'partition')})` : ''}`,
    `  schema.sql   ${s.schemaSql ? `${formatBytes(s.schemaSql.bytes)} from ${s.schemaSql.source}` : 'none'}`,
    '',
  ]
  const rows = s.tables.map((t) => [
    t.table,
    formatCount(t.rows),
    formatBytes(t.bytes),
    t.sha256.slice(0, 16),
  ])
  const header = ['table', 'rows', 'size', 'sha256']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const format = (cells: string[]) =>
    cells
      .map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  lines.push(format(header), ...rows.map(format))
  if (s.warnings.length > 0) lines.push('', ...s.warnings.map((w) => `warning: ${w}`))
  return lines.join('\n')
}
