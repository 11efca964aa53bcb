// backup:list against a folder store and the S3 API: complete backups newest first,
// from the sidecars alone; unfinished uploads counted, never listed as restorable.
import { copyFileSync } from 'node:fs'
import { generateIdentity, identityToRecipient } from 'age-encryption'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { encryptStream } from '../../lib/adapters/crypto/age.ts'
import type { FileStore } from '../../lib/adapters/store/file-store.ts'
import type { Store } from '../../lib/adapters/store/store.ts'
import { runBackup } from '../../lib/backup/postgres-source.ts'
import { Secret } from '../../lib/core/secret.ts'
import { selectEverything } from '../../lib/core/selection.ts'
import { createSampleData } from '../../lib/demo/sample-data.ts'
import { listBackups } from '../../lib/inventory/list.ts'
import { createDatabase, dropDatabase, withClient } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { s3Env } from '../helpers/s3-server.ts'
import { folderStore, tempFolder } from './restore-fixtures.ts'

let source: { name: string; url: string }
let store: FileStore
const ids: string[] = []

async function backupAt(target: Parameters<typeof runBackup>[0]['store'], time: string, encrypt = false) {
  const recipient = encrypt ? await identityToRecipient(await generateIdentity()) : undefined
  const result = await runBackup(
    {
      store: target,
      emit: () => {},
      now: () => new Date(time),
      tempDir: tempFolder('list-spool'),
      ...(recipient ? { encrypt: () => encryptStream([recipient]) } : {}),
    },
    {
      source: new Secret(source.url),
      sourceSetting: 'DATABASE_URL',
      selection: selectEverything,
      jobs: 1,
      gzipLevel: 1,
    },
  )
  return result
}

beforeAll(async () => {
  source = await createDatabase('list_src')
  await withClient(source.url, (client) => createSampleData(client, { metricsRows: 200 }))
  store = folderStore()
  ids.push((await backupAt(store, '2026-03-01T02:00:00Z')).id)
  ids.push((await backupAt(store, '2026-03-02T02:00:00Z', true)).id)
  // An upload that never got its sidecar: an archive alone.
  copyFileSync(
    store.locate(`database-backups/${ids[0]}.tar.gz`),
    store.locate('database-backups/backup-2026-03-03T020000Z.tar.gz'),
  )
})
afterAll(() => dropDatabase(source.name))

describe('backup:list', () => {
  it('prints complete backups newest first: id, time, size, tables, rows, encrypted', async () => {
    const run = await runJobProcess('list', [], { BACKUP_STORE: `file://${store.location}` })
    expect(run.code, run.stderr).toBe(0)
    const lines = run.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^id\s+time \(UTC\)\s+size\s+tables\s+rows\s+encrypted$/)
    expect(lines[1]).toMatch(
      /^backup-2026-03-02T020000Z\s+2026-03-02 02:00:00Z\s+[\d.]+ KiB\s+14\s+[\d,]+\s+yes$/,
    )
    expect(lines[2]).toMatch(
      /^backup-2026-03-01T020000Z\s+2026-03-01 02:00:00Z\s+[\d.]+ KiB\s+14\s+[\d,]+\s+no$/,
    )
    expect(lines[3]).toBe(`2 complete backups in ${store.location}`)
    expect(lines[4]).toContain(
      '1 incomplete upload without a sidecar, not restorable: backup-2026-03-03T020000Z',
    )
  })

  it('--json lists the same, with sizes and totals from the sidecars', async () => {
    const run = await runJobProcess('list', ['--json'], { BACKUP_STORE: store.location })
    expect(run.code, run.stderr).toBe(0)
    const backups = run.json!.backups as Record<string, unknown>[]
    expect(backups.map((b) => b.id)).toEqual([ids[1], ids[0]])
    expect(backups[0]).toMatchObject({
      encrypted: true,
      tables: 14,
      schemaSql: false,
      time: '2026-03-02T02:00:00.000Z',
    })
    expect(backups[1]!.rows).toBeGreaterThan(200)
    expect(run.json!.incomplete).toEqual(['backup-2026-03-03T020000Z'])
  })

  it('reads no archive, only sidecars', async () => {
    const read: string[] = []
    const spy: Store = {
      location: store.location,
      locate: (key) => store.locate(key),
      put: (key, body) => store.put(key, body),
      head: (key) => store.head(key),
      list: (prefix) => store.list(prefix),
      delete: (keys) => store.delete(keys),
      get: (key) => {
        read.push(key)
        return store.get(key)
      },
    }
    const listing = await listBackups(spy)
    expect(listing.backups).toHaveLength(2)
    expect(read).toHaveLength(2)
    expect(read.every((key) => key.endsWith('.manifest.json'))).toBe(true)
  })

  it('says so when the store holds no backup, and works against the S3 API', async () => {
    const empty = await runJobProcess('list', [], { BACKUP_STORE: tempFolder('empty-store') })
    expect(empty.code).toBe(0)
    expect(empty.stdout).toContain('no complete backups in')

    const env = s3Env(inject('s3Endpoint'), `list-${process.pid}`)
    const { openStore } = await import('../../lib/adapters/store/open-store.ts')
    const { SettingsReader, readStoreConfig } = await import('../../lib/core/config.ts')
    const s3 = openStore(readStoreConfig(new SettingsReader(env))!)
    const made = await backupAt(s3, '2026-04-01T02:00:00Z')
    const run = await runJobProcess('list', ['--json'], env)
    expect(run.code, run.stderr).toBe(0)
    expect(run.json!.backups).toEqual([
      expect.objectContaining({ id: made.id, archiveBytes: made.archiveBytes }),
    ])
  })

  it('needs BACKUP_STORE (exit 2)', async () => {
    const run = await runJobProcess('list', [], {})
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('BACKUP_STORE or --store is not set')
  })
})
