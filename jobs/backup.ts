#!/usr/bin/env -S npx tsx
// lifeboat backup (npm run backup:database) — back up the database into the store.
import { tmpdir } from 'node:os'
import { runBackup } from '../lib/backup/postgres-source.ts'
import { reportWhenDone } from '../lib/cli/after-job.ts'
import { backupResult, prepareBackup } from '../lib/cli/backup-job.ts'
import { isMainModule, type JobSpec, main } from '../lib/cli/run-job.ts'
import { buildEncryption, schemaSqlGenerator } from '../lib/cli/wiring.ts'
import { readBackupConfig } from '../lib/core/backup-config.ts'
import { chooseSource } from '../lib/core/rest-config.ts'
import { loadSigningKey } from '../lib/trust/signing-config.ts'

export const job: JobSpec = {
  name: 'backup',
  async run(context) {
    const { args, env, emit, host, signal } = context
    if (chooseSource(env, args) === 'rest') {
      // The API client (supabase-js) is loaded only for an API-mode backup.
      const { runRestBackupJob } = await import('../lib/cli/rest-jobs.ts')
      return runRestBackupJob(context)
    }
    const config = readBackupConfig(env, args, host)
    const prepared = await prepareBackup(context, config.store)
    const result = await runBackup(
      {
        store: prepared.store,
        emit,
        signal,
        now: () => new Date(),
        tempDir: config.tempDir ?? tmpdir(),
        ...buildEncryption(config.recipients),
        signingKey: config.signingKey ? await loadSigningKey(config.signingKey) : undefined,
        generateSchemaSql: schemaSqlGenerator(),
      },
      {
        source: config.source.url,
        sourceSetting: config.source.setting,
        selection: config.selection,
        jobs: config.jobs,
        splitMinBytes: config.splitMinBytes,
        gzipLevel: config.gzipLevel,
      },
    )
    return backupResult(context, prepared, result)
  },
  after: reportWhenDone('backup'),
}

if (isMainModule(import.meta.url)) main(job)
