// The demo: a throwaway PostgreSQL with sample data, backed up into a local folder,
// verified, restored into a second database and proven equal, table by table.
import { createReadStream } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from '../adapters/postgres/connection.ts'
import { startThrowawayPostgres } from '../adapters/postgres/throwaway.ts'
import { FileStore } from '../adapters/store/file-store.ts'
import type { EmitEvent } from '../core/events.ts'
import { Secret } from '../core/secret.ts'
import { selectEverything } from '../core/selection.ts'
import { type GenerateSchemaSql, runBackup } from '../engine/backup.ts'
import { verifyArchive } from '../engine/verify-archive.ts'
import { createSampleData } from './sample-data.ts'

export interface DemoOptions {
  /** Folder that receives the backups (kept after the demo). */
  storeDir: string
  metricsRows: number
  emit: EmitEvent
  generateSchemaSql?: GenerateSchemaSql
  /** Restores the backup into the given database and compares; added by the restore engine. */
  restoreAndCompare?: (args: {
    store: FileStore
    id: string
    targetUrl: Secret
  }) => Promise<{ table: string; rows: number; identical: boolean }[]>
}

export interface DemoResult {
  id: string
  archive: string
  tables: number
  rows: number
  archiveBytes: number
  verified: boolean
  restored: { table: string; rows: number; identical: boolean }[] | null
  seconds: { setup: number; backup: number; verify: number; restore: number | null }
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { emit } = options
  const began = Date.now()
  emit({ type: 'step', message: 'starting a throwaway PostgreSQL 15 …' })
  const postgres = await startThrowawayPostgres()
  try {
    const admin = await connect(new Secret(postgres.url))
    await admin.query('CREATE DATABASE demo_source')
    await admin.query('CREATE DATABASE demo_restored')
    await admin.end()
    const sourceUrl = new Secret(postgres.urlFor('demo_source'))
    emit({
      type: 'step',
      message: `creating sample data (${options.metricsRows.toLocaleString('en')} metric rows) …`,
    })
    const source = await connect(sourceUrl)
    await createSampleData(source, { metricsRows: options.metricsRows })
    await source.end()
    const setupSeconds = (Date.now() - began) / 1000

    const store = new FileStore(options.storeDir)
    const backup = await runBackup(
      {
        store,
        emit,
        now: () => new Date(),
        tempDir: tmpdir(),
        ...(options.generateSchemaSql ? { generateSchemaSql: options.generateSchemaSql } : {}),
      },
      {
        source: sourceUrl,
        sourceSetting: 'DATABASE_URL',
        selection: selectEverything,
        jobs: 2,
        gzipLevel: 6,
      },
    )
    emit({ type: 'step', message: `backup ${backup.id} written to ${backup.location}` })

    const verifyStart = Date.now()
    const archive = join(options.storeDir, backup.key)
    const verification = await verifyArchive(createReadStream(archive), {
      where: archive,
      expected: backup.manifest,
    })
    emit({
      type: 'step',
      message: verification.ok
        ? `verified: ${verification.files.length} files match their sha256`
        : `verification FAILED: ${verification.problems.join('; ')}`,
    })
    const verifySeconds = (Date.now() - verifyStart) / 1000

    let restored: DemoResult['restored'] = null
    let restoreSeconds: number | null = null
    if (options.restoreAndCompare && verification.ok) {
      const restoreStart = Date.now()
      emit({ type: 'step', message: 'restoring into a second database (demo_restored) …' })
      restored = await options.restoreAndCompare({
        store,
        id: backup.id,
        targetUrl: new Secret(postgres.urlFor('demo_restored')),
      })
      restoreSeconds = (Date.now() - restoreStart) / 1000
    }
    return {
      id: backup.id,
      archive,
      tables: backup.manifest.totals.tables,
      rows: backup.manifest.totals.rows,
      archiveBytes: backup.archiveBytes,
      verified: verification.ok,
      restored,
      seconds: {
        setup: setupSeconds,
        backup: backup.seconds,
        verify: verifySeconds,
        restore: restoreSeconds,
      },
    }
  } finally {
    emit({ type: 'step', message: 'stopping the throwaway PostgreSQL' })
    await postgres.stop()
  }
}
