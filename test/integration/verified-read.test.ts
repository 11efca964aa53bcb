// The one-pass verified read a restore can load from (lib/archive/verified-read.ts): a
// good archive streams every file; a changed byte, a cut archive, an extra or missing
// file, a changed schema.sql or an inner manifest that is not the sidecar all fail,
// and a changed schema.sql is refused before the consumer sees any of it.
import { createHash } from 'node:crypto'
import { createReadStream, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { gunzipSync, gzipSync } from 'node:zlib'
import { beforeAll, describe, expect, it } from 'vitest'
import { FileStore } from '../../lib/adapters/store/file-store.ts'
import { archiveKey, sidecarKey } from '../../lib/archive/layout.ts'
import { FORMAT_VERSION, type Manifest, type TableEntry } from '../../lib/archive/manifest.ts'
import { sealArchive, startArchiveUpload, totalsOf } from '../../lib/archive/upload.ts'
import { readVerifiedArchive, type VerifiedEntry } from '../../lib/archive/verified-read.ts'
import { verifyArchive } from '../../lib/archive/verify.ts'
import type { LifeboatError } from '../../lib/core/errors.ts'
import { servedBytes } from '../helpers/served-bytes.ts'
import { tempFolder } from './restore-fixtures.ts'

const ROWS = Array.from({ length: 20_000 }, (_, i) => `{"id":"${i}","note":"row ${i}"}\n`).join('')
const SCHEMA = 'CREATE TABLE public.items (id bigint PRIMARY KEY, note text);\n'

let archive: string
let sidecar: Manifest

function entryFor(name: string, content: string): TableEntry {
  return {
    schema: 'public',
    name,
    file: `data/public.${name}.ndjson`,
    rows: content.split('\n').length - 1,
    bytes: Buffer.byteLength(content),
    sha256: createHash('sha256').update(content).digest('hex'),
    columns: [],
    primaryKey: [],
    foreignKeys: [],
    kind: 'r',
  }
}

beforeAll(async () => {
  const store = new FileStore(tempFolder('verified-read'))
  const started = new Date('2026-11-25T02:00:00Z')
  const { id, key, writer, upload } = await startArchiveUpload({
    store,
    started,
    tempDir: tempFolder('verified-read-spool'),
    gzipLevel: 1,
  })
  await writer.addText('schema.sql', SCHEMA)
  const tables = [entryFor('items', ROWS), entryFor('empty', '')]
  for (const [table, content] of [
    [tables[0]!, ROWS],
    [tables[1]!, ''],
  ] as const)
    await writer.addText(table.file, content)
  const manifest: Manifest = {
    format: FORMAT_VERSION,
    id,
    tool: { name: 'lifeboat', version: 'test' },
    startedAt: started.toISOString(),
    finishedAt: started.toISOString(),
    source: {
      kind: 'postgres',
      serverVersion: '15',
      database: 'd',
      host: 'h',
      snapshot: 's',
      consistent: true,
    },
    compression: { method: 'gzip', level: 1 },
    encrypted: false,
    schemaSql: {
      file: 'schema.sql',
      source: 'test',
      sha256: createHash('sha256').update(SCHEMA).digest('hex'),
      bytes: SCHEMA.length,
    },
    tables,
    sequences: [],
    restoreOrder: ['public.items', 'public.empty'],
    totals: totalsOf(tables),
  }
  await sealArchive({ writer, upload, store, key, manifest, now: () => started })
  await writer.dispose()
  archive = store.locate(archiveKey(id, false))
  sidecar = JSON.parse(readFileSync(store.locate(sidecarKey(id)), 'utf8'))
})

/** Reads `path` with the verified reader; every data file is consumed as a loader would. */
async function read(path: string | Readable, expected = sidecar) {
  const handed: { kind: string; path: string; content: string }[] = []
  const consume = async (entry: VerifiedEntry) => {
    const content = entry.kind === 'data' ? await text(entry.stream) : entry.sql
    handed.push({ kind: entry.kind, path: entry.path, content })
  }
  try {
    const input = typeof path === 'string' ? createReadStream(path) : path
    await readVerifiedArchive(input, expected, consume, { where: 'the archive' })
    return { handed }
  } catch (error) {
    return { handed, error: error as LifeboatError }
  }
}

/** A copy of the archive with the tar rewritten by `change` (gzip and tar stay valid). */
function rewritten(change: (tar: Buffer) => Buffer): string {
  const out = join(tempFolder('verified-read-bad'), 'archive.tar.gz')
  writeFileSync(out, gzipSync(change(gunzipSync(readFileSync(archive)))))
  return out
}

describe('readVerifiedArchive', () => {
  it('hands over schema.sql and every data file, checked, and returns the manifest', async () => {
    const { handed, error } = await read(archive)
    expect(error).toBeUndefined()
    expect(handed).toEqual([
      { kind: 'schema', path: 'schema.sql', content: SCHEMA },
      { kind: 'data', path: 'data/public.items.ndjson', content: ROWS },
      { kind: 'data', path: 'data/public.empty.ndjson', content: '' },
    ])
  })

  it('fails the data file whose bytes changed, at its end, naming it', async () => {
    const bad = rewritten((tar) => {
      const at = tar.indexOf('"row 17"')
      tar[at + 6] = 0x38
      return tar
    })
    const { error } = await read(bad)
    expect(error?.code).toBe('VERIFY_FAILED')
    expect(error?.message).toContain('data/public.items.ndjson: sha256 does not match the manifest')
  })

  it('refuses a changed schema.sql before the consumer sees it', async () => {
    const bad = rewritten((tar) => {
      const at = tar.indexOf('bigint PRIMARY')
      tar.write('BIGINT', at)
      return tar
    })
    const { handed, error } = await read(bad)
    expect(error?.message).toContain('schema.sql: sha256 does not match the manifest')
    expect(handed).toEqual([])
  })

  it('fails an archive cut short', async () => {
    const bytes = readFileSync(archive)
    const cut = join(tempFolder('verified-read-cut'), 'archive.tar.gz')
    writeFileSync(cut, bytes.subarray(0, bytes.length - 200))
    const { error } = await read(cut)
    expect(error?.code).toBe('ARCHIVE_CORRUPT')
  })

  it('fails when a file the manifest lists is missing', async () => {
    const expected = { ...sidecar, tables: [...sidecar.tables, entryFor('ghost', 'x\n')] }
    const { error } = await read(archive, expected)
    expect(error?.message).toContain('data/public.ghost.ndjson: missing from the archive')
  })

  it('fails a file the manifest does not list, before handing it over', async () => {
    const expected = { ...sidecar, tables: sidecar.tables.filter((t) => t.name !== 'empty') }
    const { handed, error } = await read(archive, expected)
    expect(error?.message).toContain('data/public.empty.ndjson: not listed in the manifest')
    expect(handed.map((h) => h.path)).not.toContain('data/public.empty.ndjson')
  })

  it('fails when the archive’s own manifest is not the sidecar', async () => {
    const { error } = await read(archive, { ...sidecar, startedAt: '2026-11-24T02:00:00.000Z' })
    expect(error?.message).toContain('manifest.json: differs from the manifest stored beside the archive')
  })
})

/** The archive with its deflate data overwritten early on: gunzip fails while bytes still come. */
function garbled(): Buffer {
  const bytes = Buffer.from(readFileSync(archive))
  bytes.fill(0xff, 200, 264)
  return bytes
}

describe('bytes that cannot be read are not a verdict on the archive', () => {
  it('the verified read fails with STORE_IO when its input breaks', async () => {
    const bytes = readFileSync(archive)
    const { error } = await read(servedBytes(bytes, bytes.length >> 1))
    expect(error?.code).toBe('STORE_IO')
    expect(error?.message).toBe('cannot read the archive: connection reset by peer')
  })

  it('the verify pass throws STORE_IO rather than reporting the archive as failed', async () => {
    const bytes = readFileSync(archive)
    const verifying = verifyArchive(servedBytes(bytes, bytes.length >> 1), {
      where: 'the archive',
      expected: sidecar,
    })
    await expect(verifying).rejects.toMatchObject({ code: 'STORE_IO' })
  })

  it('a broken gzip stream is still the archive’s fault, though the reader then stops its input', async () => {
    const { error } = await read(servedBytes(garbled()))
    expect(error?.code).toBe('ARCHIVE_CORRUPT')
    const verdict = await verifyArchive(servedBytes(garbled()), { where: 'the archive', expected: sidecar })
    expect(verdict.ok).toBe(false)
    expect(verdict.problems[0]).toContain('is not a valid gzip stream')
  })
})
