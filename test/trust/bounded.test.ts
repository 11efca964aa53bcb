// Bounded reading: metadata read whole only up to a limit, archives metered against their
// signed size and sha256, and a real gzip bomb refused by a child process under 200 MB.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Manifest, TableEntry } from '../../lib/archive/manifest.ts'
import { tarEnd, tarHeader, tarPadding } from '../../lib/archive/tar-blocks.ts'
import type { LifeboatError } from '../../lib/core/errors.ts'
import { ArchiveMeter, METADATA_LIMITS, readBounded, readBoundedText } from '../../lib/trust/bounded.ts'

const MiB = 1024 * 1024

async function caught(work: Promise<unknown>): Promise<LifeboatError> {
  try {
    await work
  } catch (error) {
    return error as LifeboatError
  }
  throw new Error('expected a rejection')
}

/** An endless stream of 64 KiB chunks that counts how many were pulled. */
function endless(): { stream: Readable; pulled: () => number } {
  let pulled = 0
  const chunk = Buffer.alloc(64 * 1024, 0x20)
  const stream = new Readable({
    read() {
      pulled++
      this.push(chunk)
    },
  })
  return { stream, pulled: () => pulled }
}

describe('readBounded', () => {
  it('returns a file under its limit whole', async () => {
    const bytes = await readBounded(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), {
      what: 'SHA256SUMS',
      limit: 4,
    })
    expect(bytes.toString()).toBe('abcd')
  })

  it('refuses one byte over the limit with METADATA_TOO_LARGE naming the file and the limit', async () => {
    const error = await caught(
      readBounded(Readable.from([Buffer.from('abcde')]), { what: 'SHA256SUMS in backup-x', limit: 4 }),
    )
    expect(error.code).toBe('METADATA_TOO_LARGE')
    expect(error.message).toContain('SHA256SUMS in backup-x')
    expect(error.message).toContain('limit of 4 bytes')
  })

  it('stops pulling from an endless stream right after the limit and destroys it', async () => {
    const { stream, pulled } = endless()
    const error = await caught(readBounded(stream, { what: 'manifest.json', limit: MiB }))
    expect(error.code).toBe('METADATA_TOO_LARGE')
    expect(pulled()).toBeLessThanOrEqual(MiB / (64 * 1024) + 2)
    expect(stream.destroyed).toBe(true)
  })

  it('refuses a declared size over the limit before reading a byte', async () => {
    const { stream, pulled } = endless()
    const error = await caught(
      readBounded(stream, { what: 'manifest.json', limit: MiB, declaredSize: 3 * 1024 * MiB }),
    )
    expect(error.code).toBe('METADATA_TOO_LARGE')
    expect(error.message).toContain('declares 3,221,225,472')
    expect(pulled()).toBe(0)
  })

  it('says a connection that drops mid-object is the store’s failure (STORE_IO), naming the object', async () => {
    const dropped = Readable.from(
      (async function* () {
        yield Buffer.from('{"id":')
        throw new Error('connection reset by peer')
      })(),
    )
    const error = await caught(readBounded(dropped, { what: 's3://b/backup-x.manifest.json', limit: MiB }))
    expect(error.code).toBe('STORE_IO')
    expect(error.message).toBe('cannot read s3://b/backup-x.manifest.json: connection reset by peer')
  })

  it('reads text only when it is valid UTF-8', async () => {
    expect(await readBoundedText(Readable.from([Buffer.from('é')]), { what: 'x', limit: 10 })).toBe('é')
    const error = await caught(
      readBoundedText(Readable.from([Buffer.from([0xff, 0xfe])]), { what: 'x', limit: 10 }),
    )
    expect(error.code).toBe('ARCHIVE_CORRUPT')
  })
})

describe('ArchiveMeter', () => {
  const archive = Buffer.alloc(300_000, 7)
  const sha256 = createHash('sha256').update(archive).digest('hex')
  const chunks = (buffer: Buffer) =>
    Array.from({ length: Math.ceil(buffer.length / 10_000) }, (_, i) =>
      buffer.subarray(i * 10_000, (i + 1) * 10_000),
    )

  async function meter(input: Buffer, expected = { bytes: archive.length, sha256 }) {
    const m = new ArchiveMeter({ what: 's3://bucket/backup-x.tar.gz', ...expected })
    let passed = 0
    const sink = new Writable({
      write(chunk: Buffer, _e, done) {
        passed += chunk.length
        done()
      },
    })
    const result = await pipeline(Readable.from(chunks(input)), m, sink).then(
      () => undefined,
      (error: LifeboatError) => error,
    )
    return { error: result, passed, meter: m }
  }

  it('passes the signed archive through and reports its sha256', async () => {
    const { error, passed, meter: m } = await meter(archive)
    expect(error).toBeUndefined()
    expect(passed).toBe(archive.length)
    expect(m.sha256).toBe(sha256)
  })

  it('fails as soon as the stream passes the signed size, handing on nothing beyond it', async () => {
    const { error, passed } = await meter(Buffer.concat([archive, Buffer.alloc(50_000)]))
    expect(error?.code).toBe('VERIFY_FAILED')
    expect(error?.message).toContain('longer than the 300,000 bytes')
    expect(passed).toBeLessThanOrEqual(archive.length)
  })

  it('fails a stream shorter than the signed size', async () => {
    const { error } = await meter(archive.subarray(0, 200_000))
    expect(error?.code).toBe('VERIFY_FAILED')
    expect(error?.message).toContain('ends after 200,000 of the 300,000 bytes')
  })

  it('fails a stream of the right size whose sha256 differs', async () => {
    const changed = Buffer.from(archive)
    changed[12_345] = 8
    const { error } = await meter(changed)
    expect(error?.code).toBe('VERIFY_FAILED')
    expect(error?.message).toContain('sha256 differs')
  })

  it('refuses a sidecar without a usable size or sha256', () => {
    expect(() => new ArchiveMeter({ what: 'x', bytes: -1, sha256 })).toThrow(/no valid archive size/)
    expect(() => new ArchiveMeter({ what: 'x', bytes: 1, sha256: 'abc' })).toThrow(/no valid archive size/)
  })
})

describe('metadata limits', () => {
  /** A manifest as the backup writes it (pretty JSON), tables of `columns` columns. */
  function manifestOf(tables: number, columns: number): string {
    const entry = (i: number): TableEntry => ({
      schema: 'public',
      name: `table_with_a_realistic_name_${i}`,
      file: `data/public.table_with_a_realistic_name_${i}.ndjson`,
      rows: 123_456_789,
      bytes: 98_765_432_109,
      sha256: 'f'.repeat(64),
      columns: Array.from({ length: columns }, (_, c) => ({
        name: `column_name_${c}`,
        type: 'timestamp with time zone',
        nullable: true,
        identity: null,
        generated: false,
      })),
      primaryKey: ['column_name_0'],
      foreignKeys: [0, 1].map((k) => ({
        name: `fk_${i}_${k}`,
        columns: [`column_name_${k + 1}`],
        referencedSchema: 'public',
        referencedTable: `table_with_a_realistic_name_${k}`,
        referencedColumns: ['column_name_0'],
      })),
      kind: 'r',
    })
    const list = Array.from({ length: tables }, (_, i) => entry(i))
    const manifest: Partial<Manifest> = {
      format: 1,
      id: 'backup-2026-01-01T000000Z',
      tables: list,
      restoreOrder: list.map((t) => `${t.schema}.${t.name}`),
    }
    return `${JSON.stringify(manifest, null, 2)}\n`
  }

  it('holds the manifest of 10,000 tables of 20 columns, keys and foreign keys', () => {
    const perTable20 = Buffer.byteLength(manifestOf(100, 20)) / 100
    const bytes = Buffer.byteLength(manifestOf(10_000, 20))
    console.info(
      `manifest: ${Math.round(perTable20)} bytes per 20-column table; 10,000 such tables = ${(bytes / MiB).toFixed(1)} MiB`,
    )
    expect(perTable20).toBeLessThan(5_000)
    expect(bytes).toBeLessThan(METADATA_LIMITS.manifest)
  })

  it('holds SHA256SUMS of 10,000 files with the longest names', () => {
    const name = 'ж'.repeat(31) // 62 bytes, the longest identifier of two-byte letters
    const line = `${'f'.repeat(64)}  data/${name}.${name}.ndjson\n`
    expect(Buffer.byteLength(line) * 10_001).toBeLessThan(METADATA_LIMITS.SHA256SUMS)
  })
})

describe('a gzip bomb in manifest.json', () => {
  let dir: string
  let bomb: string
  const inflated = 2 * 1024 * MiB

  beforeAll(async () => {
    await mkdir(resolve('.tmp'), { recursive: true })
    dir = await mkdtemp(join(resolve('.tmp'), 'bomb-'))
    bomb = join(dir, 'backup-2026-01-01T000000Z.tar.gz')
    // gzip members concatenate: one 64 MiB member of spaces, repeated, inflates to 2 GiB.
    const block = gzipSync(Buffer.alloc(64 * MiB, 0x20), { level: 9 })
    const header = tarHeader({
      path: 'backup-2026-01-01T000000Z/manifest.json',
      size: inflated,
      mtime: new Date(0),
    })
    const parts = [gzipSync(header), ...Array.from({ length: inflated / (64 * MiB) }, () => block)]
    parts.push(gzipSync(Buffer.concat([tarPadding(inflated), tarEnd()])))
    await writeFile(bomb, Buffer.concat(parts))
  })

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  function readInChild(mode: 'declared' | 'streamed') {
    return new Promise<{ code: string; message: string; peakRssBytes: number }>((done, fail) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', resolve('test/trust/fixtures/read-bomb.ts'), bomb, mode],
        { timeout: 60_000 },
        (error, stdout, stderr) =>
          error ? fail(new Error(stderr || String(error))) : done(JSON.parse(stdout)),
      )
    })
  }

  it('is small on disk and inflates to 2 GiB', async () => {
    const { stat } = await import('node:fs/promises')
    expect((await stat(bomb)).size).toBeLessThan(3 * MiB)
  })

  it('is refused from its tar header, under 200 MB peak RSS', async () => {
    const result = await readInChild('declared')
    console.info(`bomb refused from the header: peak RSS ${(result.peakRssBytes / MiB).toFixed(0)} MiB`)
    expect(result.code).toBe('METADATA_TOO_LARGE')
    expect(result.message).toContain('manifest.json')
    expect(result.peakRssBytes).toBeLessThan(200 * 1000 * 1000)
  })

  it('is refused while streaming when its size is not trusted, under 200 MB peak RSS', async () => {
    const result = await readInChild('streamed')
    console.info(`bomb refused while streaming: peak RSS ${(result.peakRssBytes / MiB).toFixed(0)} MiB`)
    expect(result.code).toBe('METADATA_TOO_LARGE')
    expect(result.message).toContain(`limit of ${METADATA_LIMITS.manifest.toLocaleString('en')} bytes`)
    expect(result.peakRssBytes).toBeLessThan(200 * 1000 * 1000)
  })
})
