// A store that breaks while an archive is read says nothing about the backup: a reset
// connection is read again from where it broke; a failure that stays is STORE_IO (retry
// the run), and the backup is not reported as failed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FileStore } from '../../lib/adapters/store/file-store.ts'
import type { Store } from '../../lib/adapters/store/store.ts'
import { LifeboatError } from '../../lib/core/errors.ts'
import { verifyBackups } from '../../lib/verify/verify-backups.ts'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'
import { servedBytes, servingArchives, socketReset } from '../helpers/served-bytes.ts'
import { testTrust } from '../helpers/signing.ts'
import { backupOf, folderStore } from './restore-fixtures.ts'

let source: { name: string; url: string }

beforeAll(async () => {
  source = await createDatabase('verify_unreadable')
  await sql(
    source.url,
    `CREATE TABLE items (id bigint PRIMARY KEY, note text);
     INSERT INTO items SELECT i, md5(i::text) FROM generate_series(1, 20000) i;`,
  )
})
afterAll(() => dropDatabase(source.name))

/** The store, whose archives' connections drop half-way through, as a socket's would. */
function breakingStore(store: FileStore): Store {
  return servingArchives(store, (archive) => servedBytes(archive, archive.length >> 1))
}

function verify(store: Store) {
  return verifyBackups(
    {
      store,
      emit: () => {},
      now: new Date(),
      decrypt: () => {
        throw new LifeboatError('DECRYPT_FAILED', 'no identity in this test')
      },
      trust: testTrust(),
    },
    { selection: 'latest', quick: false, orphanGraceHours: 24 },
  )
}

describe('backup:verify when the store breaks mid-read', () => {
  it('resumes a read whose connection resets, and passes the backup', async () => {
    const store = folderStore()
    await backupOf(source.url, store)
    const requested: number[] = []
    const resetting = servingArchives(store, (archive, from) => {
      requested.push(from)
      return from === 0
        ? servedBytes(archive, archive.length >> 1, socketReset)
        : servedBytes(archive.subarray(from))
    })
    const report = await verify(resetting)
    expect(report.backups.map((b) => b.verdict)).toEqual(['ok'])
    expect(requested).toEqual([0, expect.any(Number)])
    expect(requested[1]).toBeGreaterThan(0)
  })

  it('passes the backup when every byte arrives', async () => {
    const store = folderStore()
    await backupOf(source.url, store)
    const report = await verify(store)
    expect(report.backups.map((b) => b.verdict)).toEqual(['ok'])
  })

  it('fails the run with STORE_IO, naming the archive, instead of failing the backup', async () => {
    const store = folderStore()
    const backup = await backupOf(source.url, store)
    const error = await verify(breakingStore(store)).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'STORE_IO' })
    expect((error as Error).message).toBe(`cannot read ${store.locate(backup.key)}: connection reset by peer`)
  })
})
