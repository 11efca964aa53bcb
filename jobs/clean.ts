#!/usr/bin/env -S npx tsx
// lifeboat clean (npm run backup:clean) — applies the retention policy to the store (docs/lifecycle.md).
import { DryRunStore } from '../lib/adapters/store/dry-run-store.ts'
import { openStore } from '../lib/adapters/store/open-store.ts'
import { signatureFactOf } from '../lib/archive/authenticity.ts'
import { type ReportableResult, reportWhenDone } from '../lib/cli/after-job.ts'
import { cleanMarkdown } from '../lib/cli/job-markdown.ts'
import { isMainModule, type JobSpec, main } from '../lib/cli/run-job.ts'
import { readStoreConfig, SettingsReader } from '../lib/core/config.ts'
import { formatBytes, plural } from '../lib/core/format.ts'
import { readAnomalySettings } from '../lib/monitor/anomalies.ts'
import { readNow } from '../lib/monitor/freshness.ts'
import { type CleanResult, runClean } from '../lib/retention/clean.ts'
import { readRetentionSettings } from '../lib/retention/retention.ts'
import { SETTINGS } from '../lib/settings/settings.ts'
import { type StorageSweepResult, sweepStorage } from '../lib/storage/sweep.ts'
import { readTrustedKeysSource } from '../lib/trust/signing-config.ts'
import { loadTrustedKeys } from '../lib/trust/signing-keys.ts'

export const job: JobSpec = {
  name: 'clean',
  async run({ args, env, emit, signal }) {
    const reader = new SettingsReader(env, args)
    const storeConfig = readStoreConfig(reader)
    const settings = readRetentionSettings(reader)
    const anomalies = readAnomalySettings(reader)
    const now = readNow(reader)
    const dryRun = reader.boolean(SETTINGS.dryRun)
    const lockTtlMinutes = reader.number(SETTINGS.storageLockTtlMinutes)
    const keysSource = readTrustedKeysSource(reader)
    reader.finish()
    const real = openStore(storeConfig!)
    const store = dryRun ? new DryRunStore(real) : real
    // Where signing is on, an unsigned backup or one whose signature fails is not good (docs/lifecycle.md).
    const keys = keysSource ? await loadTrustedKeys(keysSource) : undefined
    const checkSignature = keys ? (id: string) => signatureFactOf(store, id, keys) : undefined
    const result = await runClean(
      { store, now, emit, dryRun, anomalies, ...(checkSignature ? { checkSignature } : {}) },
      settings,
    )
    // Then the Storage blobs no remaining backup references (mark and sweep, docs/storage.md).
    // Locks are timed on the real clock, whatever LIFEBOAT_NOW pretends.
    const storage = await sweepStorage(
      { store, emit, now: () => new Date(), dryRun, signal },
      { lockTtlMinutes },
    )
    const reportable: ReportableResult = {
      summary: { dryRun, settings, ...result, storage },
      text: [
        renderClean(result, dryRun, settings.maxAgeDays, storeConfig!.s3 !== undefined),
        ...sweepLine(storage, dryRun),
      ].join('\n'),
      markdown: cleanMarkdown(result, dryRun, settings.maxAgeDays),
      facts: {
        details: {
          [dryRun ? 'would delete' : 'deleted']: result.deleted.length,
          kept: result.plan.keep.length,
          freed: formatBytes(result.bytesFreed),
          'unfinished uploads aborted': result.abortedUploads.length,
          ...(storage.swept ? { 'storage blobs deleted': storage.blobsDeleted } : {}),
        },
      },
      audit: {
        dryRun,
        retentionDays: settings.maxAgeDays,
        floor: settings.floor,
        deletedIds: result.deleted.map((d) => d.id),
        keptIds: result.plan.keep.map((k) => k.id),
        abortedUploads: result.abortedUploads.map((u) => u.key),
        storageBlobsDeleted: storage.blobsDeleted,
      },
      warnings: [
        ...result.unverified.map((u) => `${u.id}: ${u.problem}; not counted toward the floor`),
        ...result.notGood.map((n) => `${n.id}: not counted toward the floor: ${n.reasons.join('; ')}`),
      ],
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
    `${dryRun ? 'dry run: ' : ''}${verb} ${plural(result.deleted.length, 'backup')} (${formatBytes(result.bytesFreed)}), kept ${result.plan.keep.length}, retention ${plural(days, 'day')}, in ${result.store}`,
  )
  if (s3 && result.deleted.length > 0 && !dryRun) {
    lines.push(
      'On a versioned bucket the deleted objects remain as noncurrent versions until the lifecycle rule removes them (lifeboat:noncurrentVersionDays); see docs/lifecycle.md to restore one before then.',
    )
  }
  return lines.join('\n')
}

function sweepLine(storage: StorageSweepResult, dryRun: boolean): string[] {
  if (storage.skipped) return [`storage sweep skipped: ${storage.skipped}; the next clean sweeps`]
  if (!storage.swept) return []
  return [
    `storage: ${dryRun ? 'would delete' : 'deleted'} ${plural(storage.blobsDeleted, 'blob')} (${formatBytes(storage.bytesFreed)}) no kept backup references; kept ${storage.blobsKept}`,
  ]
}
