#!/usr/bin/env -S npx tsx
// npm run backup:clean — applies the retention policy to the store (docs/lifecycle.md).
import { DryRunStore } from '../lib/adapters/store/dry-run-store.ts'
import { openStore } from '../lib/adapters/store/open-store.ts'
import { type ReportableResult, reportWhenDone } from '../lib/cli/after-job.ts'
import { main } from '../lib/cli/run-job.ts'
import { readStoreConfig, SettingsReader } from '../lib/core/config.ts'
import { LifeboatError } from '../lib/core/errors.ts'
import { formatBytes } from '../lib/core/format.ts'
import { readAnomalySettings } from '../lib/monitor/anomalies.ts'
import { readNow } from '../lib/monitor/freshness.ts'
import { type CleanResult, runClean } from '../lib/retention/clean.ts'
import { readRetentionSettings } from '../lib/retention/retention.ts'

main({
  name: 'clean',
  usage: `
Usage: npm run backup:clean -- [days] [options]

Deletes backups older than [days] (default RETENTION_DAYS, 30), archive and
sidecar together, but never the newest RETENTION_MIN_KEEP (7) good backups,
whatever their age. Archives without a sidecar (failed uploads) older than a day
are removed too. Optional tiers keep the newest backup of each of the last N
days, ISO weeks and months beyond the age limit.

Store:    BACKUP_STORE (s3://bucket/prefix or file://path), or --store
Options:
      --dry-run      print the plan; delete nothing
      --min-keep N   the floor (RETENTION_MIN_KEEP, default 7, at least 1)
      --daily N      keep the last N daily backups (RETENTION_DAILY, default 0)
      --weekly N     keep the last N weekly backups (RETENTION_WEEKLY, default 0)
      --monthly N    keep the last N monthly backups (RETENTION_MONTHLY, default 0)
      --store URL    overrides BACKUP_STORE
      --json         print one JSON summary line on stdout (the plan included)
      --quiet        only warnings and errors on stderr
  -h, --help         this help
Settings: ORPHAN_GRACE_HOURS (24).
On a versioned bucket a delete leaves a noncurrent version, which the bucket's
lifecycle rule removes after its noncurrent-version days (docs/lifecycle.md).
Exit codes: 0 ok, 1 a delete failed, 2 bad usage or configuration.
`,
  flags: { string: ['store', 'min-keep', 'daily', 'weekly', 'monthly'], boolean: ['dry-run'] },
  async run({ args, positional, env, emit }) {
    if (positional.length > 1)
      throw new LifeboatError('USAGE', `expected at most one argument [days], got ${positional.join(' ')}`)
    const reader = new SettingsReader(env, {
      ...args,
      ...(positional[0] === undefined ? {} : { days: positional[0] }),
    })
    const storeConfig = readStoreConfig(reader)
    const settings = readRetentionSettings(reader)
    const anomalies = readAnomalySettings(reader)
    const now = readNow(reader)
    reader.finish()
    const dryRun = Boolean(args['dry-run'])
    const real = openStore(storeConfig!)
    const store = dryRun ? new DryRunStore(real) : real
    const result = await runClean({ store, now, emit, dryRun, anomalies }, settings)
    const reportable: ReportableResult = {
      summary: { dryRun, settings, ...result },
      text: renderClean(result, dryRun, settings.maxAgeDays, storeConfig!.s3 !== undefined),
      facts: {
        details: {
          [dryRun ? 'would delete' : 'deleted']: result.deleted.length,
          kept: result.plan.keep.length,
          freed: formatBytes(result.bytesFreed),
          'unfinished uploads aborted': result.abortedUploads.length,
        },
      },
      audit: {
        dryRun,
        retentionDays: settings.maxAgeDays,
        floor: settings.floor,
        deletedIds: result.deleted.map((d) => d.id),
        keptIds: result.plan.keep.map((k) => k.id),
        abortedUploads: result.abortedUploads.map((u) => u.key),
      },
      warnings: [
        ...result.unverified.map((u) => `${u.id}: ${u.problem}; not counted toward the floor`),
        ...result.notGood.map((n) => `${n.id}: not counted toward the floor: ${n.reasons.join('; ')}`),
      ],
    }
    return reportable
  },
  after: reportWhenDone('clean'),
})

function renderClean(result: CleanResult, dryRun: boolean, days: number, s3: boolean): string {
  const lines: string[] = []
  const verb = dryRun ? 'would delete' : 'deleted'
  const age = (days: number) => `${days.toFixed(1)} days old`
  for (const keep of result.plan.keep) {
    const why = keep.notGood ? `; not good: ${keep.notGood.join('; ')}` : ''
    lines.push(`keep    ${keep.id}  ${age(keep.ageDays)}  (${keep.reasons.join(', ')}${why})`)
  }
  const ages = new Map(result.plan.delete.map((d) => [d.id, d.ageDays]))
  for (const entry of result.deleted) {
    const what = `${entry.id}  ${age(ages.get(entry.id) ?? 0)}  (${entry.reason})  ${entry.keys.join(', ')}`
    lines.push(`${dryRun ? 'DELETE ' : 'deleted'} ${what}`)
  }
  for (const upload of result.abortedUploads) {
    lines.push(
      `${dryRun ? 'ABORT  ' : 'aborted'} unfinished upload of ${upload.key}  (started ${upload.started}, ${upload.ageHours} h ago)`,
    )
  }
  lines.push(
    `${dryRun ? 'dry run: ' : ''}${verb} ${result.deleted.length} backup${result.deleted.length === 1 ? '' : 's'} (${formatBytes(result.bytesFreed)}), kept ${result.plan.keep.length}, retention ${days} days, in ${result.store}`,
  )
  if (s3 && result.deleted.length > 0 && !dryRun) {
    lines.push(
      'On a versioned bucket the deleted objects remain as noncurrent versions until the lifecycle rule removes them (lifeboat:noncurrentVersionDays); see docs/lifecycle.md to restore one before then.',
    )
  }
  return lines.join('\n')
}
