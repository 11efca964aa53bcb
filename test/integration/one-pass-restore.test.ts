// The restore reads a stored archive once: each data file is loaded while it is checked
// against the signed sidecar. A file that turns out wrong after earlier tables loaded
// fails the restore with VERIFY_FAILED naming it, and the transaction takes everything
// back: no rows, no created schema. The archives here are signed with the test key
// over their tampered bytes, so only the per-file checks inside the load can catch them.

import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { constants, gunzipSync, gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FileStore } from '../../lib/adapters/store/file-store.ts'
import type { Store } from '../../lib/adapters/store/store.ts'
import { sidecarKey } from '../../lib/archive/layout.ts'
import type { Manifest } from '../../lib/archive/manifest.ts'
import type { BackupResult } from '../../lib/backup/postgres-source.ts'
import type { LifeboatError } from '../../lib/core/errors.ts'
import type { ProgressEvent } from '../../lib/core/events.ts'
import type { RestoreDeps } from '../../lib/restore/restore.ts'
import { sidecarSignatureKey, signSidecar } from '../../lib/trust/backup-signature.ts'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'
import { servedBytes, servingArchives, socketReset } from '../helpers/served-bytes.ts'
import { testSigningKey } from '../helpers/signing.ts'
import { backupOf, fingerprint, folderStore, restore, restoreDeps } from './restore-fixtures.ts'

const ROWS = 3000
let source: { name: string; url: string }
const created: string[] = []

/** Three tables, each row's note naming its table, so a byte can be changed in one of them. */
const SCHEMA = ['first', 'second', 'third']
  .map(
    (t) => `CREATE TABLE app.${t} (id bigint PRIMARY KEY, note text NOT NULL);
     INSERT INTO app.${t} SELECT i, '${t} note ' || i FROM generate_series(1, ${ROWS}) i;`,
  )
  .join('\n')

beforeAll(async () => {
  source = await createDatabase('one_pass_src')
  await sql(source.url, `CREATE SCHEMA app;\n${SCHEMA}`)
})
afterAll(async () => {
  await Promise.all([source.name, ...created].map(dropDatabase))
})

async function emptyTarget(label: string): Promise<string> {
  const db = await createDatabase(label)
  created.push(db.name)
  return db.url
}

/**
 * A fresh backup whose tar is rewritten by `change` (applied to the last data file in
 * archive order), with its sidecar's archive size and sha256 made to match and signed
 * again: authentic bytes that are not the manifest's.
 */
async function tamperedBackup(change: (content: string) => string): Promise<{
  store: FileStore
  backup: BackupResult
  late: string
}> {
  const store = folderStore()
  const backup = await backupOf(source.url, store)
  const late = backup.manifest.tables.at(-1)!.file
  const path = store.locate(backup.key)
  const tar = gunzipSync(readFileSync(path))
  const name = `${backup.id}/${late}`
  const header = tar.indexOf(Buffer.from(`${name}\0`))
  expect(header).toBeGreaterThanOrEqual(0)
  const size = Number.parseInt(tar.subarray(header + 124, header + 136).toString('ascii'), 8)
  const start = header + 512
  const content = tar.subarray(start, start + size).toString('utf8')
  const changed = Buffer.from(change(content))
  expect(changed.length).toBe(size)
  changed.copy(tar, start)
  const archive = gzipSync(tar, { level: 1 })
  writeFileSync(path, archive)
  const sidecarPath = store.locate(sidecarKey(backup.id))
  const sidecar = JSON.parse(readFileSync(sidecarPath, 'utf8')) as Manifest
  sidecar.archive = {
    ...sidecar.archive!,
    bytes: archive.length,
    sha256: createHash('sha256').update(archive).digest('hex'),
  }
  const text = Buffer.from(`${JSON.stringify(sidecar, null, 2)}\n`)
  writeFileSync(sidecarPath, text)
  writeFileSync(
    store.locate(sidecarSignatureKey(backup.id)),
    signSidecar(text, backup.id, testSigningKey(), new Date()),
  )
  return { store, backup, late }
}

async function failure(promise: Promise<unknown>): Promise<LifeboatError> {
  try {
    await promise
  } catch (error) {
    return error as LifeboatError
  }
  throw new Error('expected the restore to fail')
}

const loaded = (events: ProgressEvent[]) => events.flatMap((e) => (e.type === 'table-done' ? [e.table] : []))

describe('a data file that is not the manifest’s, found while loading', () => {
  it('fails with VERIFY_FAILED naming it, after earlier tables loaded; no rows and no schema remain', async () => {
    // A digit for another digit: every line still loads, only the checksum can tell.
    const { store, late } = await tamperedBackup((content) => content.replace(' note 1234"', ' note 1235"'))
    const target = await emptyTarget('one_pass_late')
    const before = await fingerprint(target)
    const events: ProgressEvent[] = []
    const error = await failure(restore(restoreDeps(store, events), 'latest', target, { createSchema: true }))
    expect(error.code).toBe('VERIFY_FAILED')
    expect(error.message).toContain(`${late}: sha256 does not match the manifest`)
    expect(error.message).toContain('the target is unchanged')
    // One pass: the tables before it were loaded before its check failed.
    expect(loaded(events)).toEqual(['app.first', 'app.second'])
    expect(events.some((e) => e.type === 'phase-start' && e.phase === 'verify')).toBe(false)
    expect(await fingerprint(target)).toEqual(before)
    const schemas = await sql(target, `SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'app'`)
    expect(schemas.rows[0].n).toBe(0)
  })

  it('leaves rows a target already held as they were (--truncate rolled back)', async () => {
    const { store, late } = await tamperedBackup((content) => content.replace(' note 2999"', ' note 2998"'))
    const target = await emptyTarget('one_pass_truncate')
    await sql(target, `CREATE SCHEMA app;\n${SCHEMA.replaceAll(`${ROWS})`, '5)')}`)
    const before = await fingerprint(target)
    const error = await failure(restore(restoreDeps(store), 'latest', target, { truncate: true }))
    expect(error.code).toBe('VERIFY_FAILED')
    expect(error.message).toContain(late)
    expect(await fingerprint(target)).toEqual(before)
  })

  it('blames the archive, not the target, when the changed file breaks its load before its end', async () => {
    // A quote made a letter: the line is no longer JSON, so the load stops on it.
    const { store, late } = await tamperedBackup((content) =>
      content.replace('"third note 10"', '"third note 10x'),
    )
    const target = await emptyTarget('one_pass_malformed')
    const before = await fingerprint(target)
    const error = await failure(restore(restoreDeps(store), 'latest', target, { createSchema: true }))
    expect(error.code).toBe('VERIFY_FAILED')
    expect(error.message).toContain(`failing: ${late}`)
    expect(await fingerprint(target)).toEqual(before)
  })

  it('restores an untampered stored archive in one pass: no verify pass, every table proven', async () => {
    const store = folderStore()
    await backupOf(source.url, store)
    const target = await emptyTarget('one_pass_good')
    const events: ProgressEvent[] = []
    const result = await restore(restoreDeps(store, events), 'latest', target, { createSchema: true })
    expect(result.phases.map((p) => p.phase)).not.toContain('verify-archive')
    expect(result.phases.map((p) => p.phase)).toContain('open-archive')
    expect(result.tables.map((t) => [t.table, t.rowsLoaded, t.sha256Match])).toEqual(
      ['first', 'second', 'third'].map((t) => [`app.${t}`, ROWS, true]),
    )
  })
})

/**
 * The store, with an archive's bytes from `at` on held back until `until` settles (or
 * 10 s pass, so a restore that waits for the whole download still ends); with `cut`,
 * the connection then drops there. Sidecars and listings are read as they are.
 */
function heldStore(
  store: FileStore,
  hold: { at: (archive: Buffer) => number; until: Promise<void>; cut?: boolean },
): Store {
  return servingArchives(store, (whole) => {
    const at = hold.at(whole)
    return Readable.from(
      (async function* () {
        yield whole.subarray(0, at)
        await Promise.race([hold.until, sleep(10_000)])
        if (hold.cut) throw new Error('connection reset by peer')
        yield whole.subarray(at)
      })(),
    )
  })
}

/** The first byte of the compressed archive from which on `marker` has been decoded. */
function offsetPast(archive: Buffer, marker: string): number {
  const decoded = (bytes: number) => {
    try {
      return gunzipSync(archive.subarray(0, bytes), { finishFlush: constants.Z_SYNC_FLUSH })
    } catch {
      return Buffer.alloc(0)
    }
  }
  let low = 0
  let high = archive.length
  while (low < high) {
    const middle = (low + high) >> 1
    if (decoded(middle).includes(marker)) high = middle
    else low = middle + 1
  }
  expect(decoded(low).includes('"first note 3000"')).toBe(false)
  return low
}

/** Resolves when the restore starts loading its first table. */
function loadStarted(deps: RestoreDeps): Promise<void> {
  return new Promise((resolve) => {
    const emit = deps.emit
    deps.emit = (event) => {
      emit(event)
      if (event.type === 'table-start' && event.phase === 'load') resolve()
    }
  })
}

describe('a stored archive is loaded while it downloads', () => {
  it('starts loading before the download ends, and proves every table', async () => {
    const store = folderStore()
    await backupOf(source.url, store)
    const target = await emptyTarget('one_pass_streamed')
    const events: ProgressEvent[] = []
    const deps = restoreDeps(store, events)
    deps.store = heldStore(store, { at: (archive) => archive.length - 100, until: loadStarted(deps) })
    const result = await restore(deps, 'latest', target, { createSchema: true })
    const firstLoad = events.findIndex((e) => e.type === 'table-start' && e.phase === 'load')
    const downloaded = events.findIndex((e) => e.type === 'phase-done' && e.phase === 'download')
    expect(firstLoad).toBeGreaterThanOrEqual(0)
    expect(firstLoad).toBeLessThan(downloaded)
    expect(result.tables.map((t) => [t.table, t.rowsLoaded, t.sha256Match])).toEqual(
      ['first', 'second', 'third'].map((t) => [`app.${t}`, ROWS, true]),
    )
  })

  it('a download cut off mid-way: the restore fails naming the archive and rolls back; no temp file left', async () => {
    const store = folderStore()
    const backup = await backupOf(source.url, store)
    const target = await emptyTarget('one_pass_cut')
    const before = await fingerprint(target)
    const deps = restoreDeps(store)
    deps.store = heldStore(store, {
      at: (archive) => archive.length >> 1,
      until: loadStarted(deps),
      cut: true,
    })
    const error = await failure(restore(deps, 'latest', target, { createSchema: true }))
    expect(error.code).toBe('RESTORE_FAILED')
    expect(error.message).toContain('[STORE_IO]')
    expect(error.message).toContain('the target is unchanged')
    expect(error.message).toContain(`cannot download ${store.locate(backup.key)}: connection reset by peer`)
    expect(await fingerprint(target)).toEqual(before)
    expect(readdirSync(deps.tempDir)).toEqual([])
  })

  it('a download whose connection resets resumes where it broke off, and every table is proven', async () => {
    const store = folderStore()
    await backupOf(source.url, store)
    const target = await emptyTarget('one_pass_resumed')
    const deps = restoreDeps(store)
    const requested: number[] = []
    deps.store = servingArchives(store, (archive, from) => {
      requested.push(from)
      return from === 0
        ? servedBytes(archive, archive.length >> 1, socketReset)
        : servedBytes(archive.subarray(from))
    })
    const result = await restore(deps, 'latest', target, { createSchema: true })
    expect(requested).toHaveLength(2)
    expect(requested[1]).toBeGreaterThanOrEqual(result.archiveBytes >> 1)
    expect(result.warnings.some((w) => /broke off after .* \(aborted\); resuming from there/.test(w))).toBe(
      true,
    )
    expect(result.tables.map((t) => [t.table, t.rowsLoaded, t.sha256Match])).toEqual(
      ['first', 'second', 'third'].map((t) => [`app.${t}`, ROWS, true]),
    )
  })

  it('a resumed download that continues with other bytes is refused, and changes nothing', async () => {
    const store = folderStore()
    await backupOf(source.url, store)
    const target = await emptyTarget('one_pass_resumed_other')
    const before = await fingerprint(target)
    const deps = restoreDeps(store)
    deps.store = servingArchives(store, (archive, from) => {
      if (from === 0) return servedBytes(archive, archive.length >> 1, socketReset)
      const other = Buffer.from(archive)
      other[other.length - 100]! ^= 0xff
      return servedBytes(other.subarray(from))
    })
    const error = await failure(restore(deps, 'latest', target, { createSchema: true }))
    expect(error.code).toBe('VERIFY_FAILED')
    expect(error.message).toContain('is not a valid gzip stream (incorrect data check)')
    expect(await fingerprint(target)).toEqual(before)
  })

  it('a download cut off inside the table being loaded: the download is named, not the archive', async () => {
    const store = folderStore()
    const backup = await backupOf(source.url, store)
    const target = await emptyTarget('one_pass_cut_inside')
    const before = await fingerprint(target)
    const events: ProgressEvent[] = []
    const deps = restoreDeps(store, events)
    // app.first's load has begun and cannot end: the rest of its rows are behind the cut.
    const at = (archive: Buffer) => offsetPast(archive, '"first note 100"')
    deps.store = heldStore(store, { at, until: loadStarted(deps), cut: true })
    const error = await failure(restore(deps, 'latest', target, { createSchema: true }))
    expect(error.code).toBe('RESTORE_FAILED')
    expect(error.message).toContain(
      'loading app.first failed [STORE_IO], rolled back; the target is unchanged',
    )
    expect(error.message).toContain(`cannot download ${store.locate(backup.key)}: connection reset by peer`)
    expect(loaded(events)).toEqual([])
    expect(await fingerprint(target)).toEqual(before)
    expect(readdirSync(deps.tempDir)).toEqual([])
  })

  it('bytes that are not the signed ones, though every file inside is: VERIFY_FAILED before the commit', async () => {
    const store = folderStore()
    const backup = await backupOf(source.url, store)
    // The same tar compressed again: every file and the manifest match, the stored bytes do not.
    const path = store.locate(backup.key)
    writeFileSync(path, gzipSync(gunzipSync(readFileSync(path)), { level: 1 }))
    const target = await emptyTarget('one_pass_resigned')
    const before = await fingerprint(target)
    const events: ProgressEvent[] = []
    const error = await failure(restore(restoreDeps(store, events), 'latest', target, { createSchema: true }))
    expect(error.code).toBe('VERIFY_FAILED')
    expect(error.message).toContain('sha256 of the stored archive differs from its sidecar')
    expect(loaded(events)).toEqual(['app.first', 'app.second', 'app.third'])
    expect(await fingerprint(target)).toEqual(before)
  })
})
