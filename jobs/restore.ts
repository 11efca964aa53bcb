#!/usr/bin/env -S npx tsx
// lifeboat restore (npm run backup:restore) — verify a backup, then load it into the target in one
// transaction and prove the result by re-export (docs/restore.md); then its Storage files.
import { tmpdir } from 'node:os'
import { isAbsolute, resolve } from 'node:path'
import { decryptStream, loadIdentity } from '../lib/adapters/crypto/age.ts'
import { openStore } from '../lib/adapters/store/open-store.ts'
import { reportWhenDone } from '../lib/cli/after-job.ts'
import {
  previewReport,
  restoreReport,
  storageOnlyReport,
  storagePreviewReport,
} from '../lib/cli/restore-report.ts'
import { isMainModule, type JobSpec, main } from '../lib/cli/run-job.ts'
import {
  filesAfterDatabase,
  guardFilesTarget,
  previewBackupFiles,
  resolveStoredBackup,
  restoreBackupFiles,
} from '../lib/cli/storage-jobs.ts'
import { storeOpener } from '../lib/cli/wiring.ts'
import { LifeboatError } from '../lib/core/errors.ts'
import { chooseRestoreVia } from '../lib/core/rest-config.ts'
import { readRestoreConfig } from '../lib/core/restore-config.ts'
import { parseSelector } from '../lib/inventory/inventory.ts'
import { databaseTarget, runDatabaseRestore } from '../lib/restore/database-restore.ts'
import { previewRestore } from '../lib/restore/preview.ts'
import { loadTrust } from '../lib/trust/signing-keys.ts'

export const job: JobSpec = {
  name: 'restore',
  async run(context) {
    const { args, positional, env, emit, host, signal } = context
    if (chooseRestoreVia(env, args) === 'rest') {
      // The API client is loaded only for a restore through the API.
      const { runRestRestoreJob } = await import('../lib/cli/rest-jobs.ts')
      return runRestRestoreJob(context)
    }
    const config = readRestoreConfig(env, args, positional, host)
    const identity = config.identity ? await loadIdentity(config.identity) : undefined
    const store = config.store ? openStore(config.store) : undefined
    const decrypt = (name: string) => decryptStream(identity, { name })
    const trust = await loadTrust(config.trust)
    const request = {
      store,
      emit,
      signal,
      decrypt,
      trust,
      database: config.target,
      selection: config.storageSelection,
      truncate: config.truncate,
      guard: { environment: config.productionStorage, confirm: config.confirmStorage },
    }
    const files = (id: string) => restoreBackupFiles(config.storage, id, request)
    if (config.storageOnly) {
      const id = await resolveStoredBackup(store, config.what)
      if (config.dryRun) {
        const planned = await previewBackupFiles(config.storage, id, request)
        if (!planned) throw new LifeboatError('BACKUP_NOT_FOUND', `${id} holds no Storage files`)
        return storagePreviewReport(planned)
      }
      const storage = await files(id)
      if (!storage) throw new LifeboatError('BACKUP_NOT_FOUND', `${id} holds no Storage files`)
      return storageOnlyReport(storage)
    }
    const target = config.target
    if (!target) throw new LifeboatError('CONFIG_MISSING', 'TARGET_DATABASE_URL or --target is not set')
    const deps = {
      emit,
      signal,
      tempDir: config.tempDir ?? tmpdir(),
      ...(store ? { store } : {}),
      openS3Store: storeOpener(env),
      decrypt,
      trust,
    }
    const options = {
      what: localPath(config.what, env.INIT_CWD),
      createSchema: config.createSchema,
      truncate: config.truncate,
      selection: config.selection,
      verify: config.verify,
    }
    const where = {
      target,
      targetSetting: config.targetSetting,
      confirm: config.confirm,
      production: config.production,
      targetKind: config.targetKind,
      createSchema: options.createSchema,
    }
    if (config.dryRun) {
      const preview = await previewRestore(deps, databaseTarget(where), options)
      return previewReport(preview, await previewBackupFiles(config.storage, preview.id, request))
    }
    // A production files' target is refused before the database is touched.
    await guardFilesTarget(config.storage, config.what, request)
    const result = await runDatabaseRestore(deps, { ...options, ...where })
    // Files after the database: owners refer to restored auth.users (docs/storage.md).
    const storage = await filesAfterDatabase(result.id, () => files(result.id))
    return restoreReport(result, storage)
  },
  after: reportWhenDone('restore', { alert: false }),
}

if (isMainModule(import.meta.url)) main(job)

/** npm runs scripts in the package folder; a relative path means the folder npm was started in. */
function localPath(what: string, initCwd: string | undefined): string {
  if (!initCwd || isAbsolute(what) || parseSelector(what).kind !== 'file') return what
  return resolve(initCwd, what)
}
