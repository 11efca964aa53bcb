#!/usr/bin/env -S npx tsx
// lifeboat clean (npm run backup:clean) — applies the retention policy to the store (docs/lifecycle.md).
import { DryRunStore } from '../lib/adapters/store/dry-run-store.ts'
import { openStore } from '../lib/adapters/store/open-store.ts'
import { type ReportableResult, reportWhenDone } from '../lib/cli/after-job.ts'
import { cleanMarkdown } from '../lib/cli/job-markdown.ts'
import { isMainModule, type JobSpec, main } from '../lib/cli/run-job.ts'
import { readStoreConfig, SettingsReader } from '../lib/core/config.ts'
import { formatBytes, plural } from '../lib/core/format.ts'
import { readNow } from '../lib/monitor/freshness.ts'
import { type CleanResult, runClean } from '../lib/retention/clean.ts'
import { readRetentionSettings } from '../lib/retention/retention.ts'
import { SETTINGS } from '../lib/settings/settings.ts'

export const job: JobSpec = {
  name: 'clean',
  async run({ args, env, emit }) {
    const reader = new SettingsReader(env, args)
    const storeConfig = readStoreConfig(reader)
    const settings = readRetentionSettings(reader)
    const now = readNow(reader)
    const dryRun = reader.boolean(SETTINGS.dryRun)
    reader.finish()
    const real = openStore(storeConfig!)
    const store = dryRun ? new DryRunStore(real) : real
    const result = await runClean({ store, now, emit, dryRun }, settings)
    const reportable: ReportableResult = {
      summary: { dryRun, settings, ...result },
      text: renderClean(result, dryRun, settings.maxAgeDays, storeConfig!.s3 !== undefined),
      markdown: cleanMarkdown(result, dryRun, settings.maxAgeDays),
      facts: {
        details: {
          [dryRun ? 'would delete' : 'deleted']: result.deleted.length,
          kept: result.plan.keep.length,
          freed: formatBytes(result.bytesFreed),
        },
      },
      audit: {
        dryRun,
        retentionDays: settings.maxAgeDays,
        floor: settings.floor,
        deletedIds: result.deleted.map((d) => d.id),
        keptIds: result.plan.keep.map((k) => k.id),
      },
      warnings: result.unverified.map((u) => `${u.id}: ${u.problem}; not counted toward the floor`),
    }
    return reportable
  },
  after: reportWhenDone('clean'),
}

if (isMainModule(import.meta.url)) main(job)

function renderClean(result: CleanResult, dryRun: boolean, days: number, s3: boolean): string {
  const lines: string[] = []
  const verb = dryRun ? 'would delete' : 'deleted'
  const age = (days: number) => `${days.toFixed(1)} days old`
  for (const keep of result.plan.keep) {
    lines.push(`keep    ${keep.id}  ${age(keep.ageDays)}  (${keep.reasons.join(', ')})`)
  }
  const ages = new Map(result.plan.delete.map((d) => [d.id, d.ageDays]))
  for (const entry of result.deleted) {
    const what = `${entry.id}  ${age(ages.get(entry.id) ?? 0)}  (${entry.reason})  ${entry.keys.join(', ')}`
    lines.push(`${dryRun ? 'DELETE ' : 'deleted'} ${what}`)
  }
  lines.push(
    `${dryRun ? 'dry run: ' : ''}${verb} ${plural(result.deleted.length, 'backup')} (${formatBytes(result.bytesFreed)}), kept ${result.plan.keep.length}, retention ${plural(days, 'day')}, in ${result.store}`,
  )
  if (s3 && result.deleted.length > 0 && !dryRun) {
    lines.push(
      'On a versioned bucket the deleted objects remain as noncurrent versions until the lifecycle rule removes them (lifeboat:noncurrentVersionDays); see docs/lifecycle.md to restore one before then.',
    )
  }
  return lines.join('\n')
}
