// The demo: a throwaway PostgreSQL with sample data, backed up into a local folder,
// verified, restored into a second database and proven equal, table by table.
// The demo's archives are not encrypted, so decryption is a pass-through.
import { createReadStream } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { connect } from '../adapters/postgres/connection.ts'
import { startThrowawayPostgres } from '../adapters/postgres/throwaway.ts'
import { FileStore } from '../adapters/store/file-store.ts'
import { verifyArchive } from '../archive/verify.ts'
import { type GenerateSchemaSql, runBackup } from '../backup/postgres-source.ts'
import type { EmitEvent } from '../core/events.ts'
import { formatCount, plural } from '../core/format.ts'
import { Secret } from '../core/secret.ts'
import { selectEverything } from '../core/selection.ts'
import { runRestore } from '../restore/database-restore.ts'
import { generateSigningKeyPair, parsePublicKeyList, parseSigningKey } from '../trust/signature.ts'
import { compareTables, type TableComparison } from './compare-databases.ts'
import { createSampleData } from './sample-data.ts'

export interface DemoOptions {
  /** Folder that receives the backups (kept after the demo). */
  storeDir: string
  metricsRows: number
  emit: EmitEvent
  generateSchemaSql?: GenerateSchemaSql
}

export interface DemoResult {
  id: string
  archive: string
  tables: number
  rows: number
  archiveBytes: number
  verified: boolean
  /** Per table: restored rows equal to the source, by the restore's re-export and by direct comparison. */
  restored: (TableComparison & { reexportMatches: boolean })[]
  seconds: { setup: number; backup: number; verify: number; restore: number }
}

type Postgres = Awaited<ReturnType<typeof startThrowawayPostgres>>
type SigningKeyPair = ReturnType<typeof generateSigningKeyPair>
type DemoBackup = Awaited<ReturnType<typeof runBackup>>

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { emit } = options
  const began = Date.now()
  emit({ type: 'step', message: 'starting a throwaway PostgreSQL 15 …' })
  const postgres = await startThrowawayPostgres()
  try {
    const sourceUrl = await createDemoDatabases(postgres, options)
    const setupSeconds = (Date.now() - began) / 1000
    const store = new FileStore(options.storeDir)
    // A key pair for this run: the demo's backup is signed and its restore checks it.
    const keys = generateSigningKeyPair()
    const backup = await backUpDemo(store, keys, sourceUrl, options)

    const verifyStart = Date.now()
    const archive = join(options.storeDir, backup.key)
    const verified = await verifyDemoArchive(archive, backup, emit)
    const verifySeconds = (Date.now() - verifyStart) / 1000

    const restoreStart = Date.now()
    emit({ type: 'step', message: 'restoring into a second database (demo_restored) …' })
    const targetUrl = new Secret(postgres.urlFor('demo_restored'))
    const restore = await runRestore(
      {
        store,
        emit,
        tempDir: tmpdir(),
        decrypt: () => new PassThrough(),
        trust: { keys: parsePublicKeyList(keys.publicKeyFile).keys, allowUnsigned: false },
      },
      {
        what: backup.id,
        target: targetUrl,
        targetSetting: 'TARGET_DATABASE_URL',
        createSchema: true,
        truncate: false,
        verify: true,
        production: [{ setting: 'DATABASE_URL', url: sourceUrl }],
      },
    )
    const restoreSeconds = (Date.now() - restoreStart) / 1000
    emit({ type: 'step', message: 'comparing every table of the two databases …' })
    const comparisons = await compareDemoDatabases(sourceUrl, targetUrl, backup)
    const reexport = new Map(restore.tables.map((t) => [t.table, t.sha256Match === true]))
    return {
      id: backup.id,
      archive,
      tables: backup.manifest.totals.tables,
      rows: backup.manifest.totals.rows,
      archiveBytes: backup.archiveBytes,
      verified,
      restored: comparisons.map((c) => ({ ...c, reexportMatches: reexport.get(c.table) ?? false })),
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

/** The source (with sample data) and the empty restore target; returns the source's URL. */
async function createDemoDatabases(postgres: Postgres, options: DemoOptions): Promise<Secret> {
  const admin = await connect(new Secret(postgres.url))
  await admin.query('CREATE DATABASE demo_source')
  await admin.query('CREATE DATABASE demo_restored')
  await admin.end()
  const sourceUrl = new Secret(postgres.urlFor('demo_source'))
  options.emit({
    type: 'step',
    message: `creating sample data (${formatCount(options.metricsRows)} metric rows) …`,
  })
  const source = await connect(sourceUrl)
  await createSampleData(source, { metricsRows: options.metricsRows })
  await source.end()
  return sourceUrl
}

async function backUpDemo(
  store: FileStore,
  keys: SigningKeyPair,
  sourceUrl: Secret,
  options: DemoOptions,
): Promise<DemoBackup> {
  const backup = await runBackup(
    {
      store,
      emit: options.emit,
      signingKey: parseSigningKey(keys.secretKeyFile),
      now: () => new Date(),
      tempDir: tmpdir(),
      ...(options.generateSchemaSql ? { generateSchemaSql: options.generateSchemaSql } : {}),
    },
    { source: sourceUrl, sourceSetting: 'DATABASE_URL', selection: selectEverything, jobs: 2, gzipLevel: 6 },
  )
  options.emit({ type: 'step', message: `backup ${backup.id} written to ${backup.location}` })
  return backup
}

async function verifyDemoArchive(archive: string, backup: DemoBackup, emit: EmitEvent): Promise<boolean> {
  const verification = await verifyArchive(createReadStream(archive), {
    where: archive,
    expected: backup.manifest,
  })
  emit({
    type: 'step',
    message: verification.ok
      ? `verified: ${plural(verification.files.length, 'file')} ${verification.files.length === 1 ? 'matches its' : 'match their'} sha256`
      : `verification FAILED: ${verification.problems.join('; ')}`,
  })
  return verification.ok
}

async function compareDemoDatabases(
  sourceUrl: Secret,
  targetUrl: Secret,
  backup: DemoBackup,
): Promise<TableComparison[]> {
  const [a, b] = await Promise.all([connect(sourceUrl), connect(targetUrl)])
  try {
    return await compareTables(a, b, backup.manifest.tables)
  } finally {
    await Promise.all([a.end(), b.end()])
  }
}
