// The archive writer's multi-member gzip, read back by Lifeboat's reader and by GNU tar.
import { execFileSync } from 'node:child_process'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { text } from 'node:stream/consumers'
import { pipeline } from 'node:stream/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readArchive } from '../../lib/archive/reader.ts'
import { ArchiveWriter } from '../../lib/archive/writer.ts'

const ROOT = 'backup-2026-11-25T020000Z'
const LONG = `data/${'s'.repeat(63)}.${'t'.repeat(63)}.ndjson`
const ROWS = Array.from({ length: 300_000 }, (_, i) => `{"id":"${i}","note":"row ${i}"}\n`).join('')

describe('ArchiveWriter', () => {
  let dir: string
  let archive: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'archive-writer-'))
    archive = join(dir, 'archive.tar.gz')
    const writer = new ArchiveWriter({
      root: ROOT,
      workDir: join(dir, 'work'),
      gzipLevel: 6,
      mtime: new Date('2026-11-25T02:00:00Z'),
    })
    const written = pipeline(writer.output, createWriteStream(archive))
    await writer.open()
    // A file compressed as it is written, one spooled plain, and a text entry.
    const spool = writer.spool(LONG)
    await pipeline(async function* () {
      for (let at = 0; at < ROWS.length; at += 100_000) yield Buffer.from(ROWS.slice(at, at + 100_000))
    }, spool)
    writer.add(LONG)
    await writeFile(writer.spoolPath('data/public.empty.ndjson'), '')
    writer.add('data/public.empty.ndjson')
    await writer.addText('manifest.json', '{"formatVersion":1}\n')
    await writer.finish()
    await written
  })

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('is read back entry by entry, in order, by the archive reader', async () => {
    const entries: { path: string; size: number; content: string }[] = []
    await readArchive(
      createReadStream(archive),
      async (entry) => {
        entries.push({ path: entry.path, size: entry.size, content: await text(entry.stream) })
      },
      { where: archive },
    )
    expect(entries.map((e) => e.path)).toEqual([LONG, 'data/public.empty.ndjson', 'manifest.json'])
    expect(entries[0]!.size).toBe(Buffer.byteLength(ROWS))
    expect(entries[0]!.content).toBe(ROWS)
    expect(entries[1]!.content).toBe('')
    expect(entries[2]!.content).toBe('{"formatVersion":1}\n')
  })

  it('extracts with tar -xzf, long names included', async () => {
    execFileSync('tar', ['-xzf', archive, '-C', dir])
    expect(await readFile(join(dir, ROOT, LONG), 'utf8')).toBe(ROWS)
    expect(await readFile(join(dir, ROOT, 'manifest.json'), 'utf8')).toBe('{"formatVersion":1}\n')
  })

  it('leaves no spooled file behind once finished', async () => {
    const left = execFileSync('find', [join(dir, 'work'), '-type', 'f'])
      .toString()
      .trim()
    expect(left).toBe('')
  })
})

describe('ArchiveWriter.reserve', () => {
  let dir: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'archive-slot-'))
  })

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  async function entriesOf(archive: string): Promise<string[]> {
    const paths: string[] = []
    await readArchive(createReadStream(archive), async (entry) => void paths.push(entry.path), {
      where: archive,
    })
    return paths
  }

  it('keeps entries given to a reserved place before what was added after it, however late they come', async () => {
    const archive = join(dir, 'archive.tar.gz')
    const writer = new ArchiveWriter({
      root: ROOT,
      workDir: join(dir, 'work'),
      gzipLevel: 6,
      mtime: new Date(0),
    })
    const written = pipeline(writer.output, createWriteStream(archive))
    await writer.open()
    const slot = writer.reserve()
    // The data file is finished and added first, as an export that outruns pg_dump does.
    await writeFile(writer.spoolPath('data/public.a.ndjson'), '{"id":"1"}\n')
    writer.add('data/public.a.ndjson')
    await new Promise((done) => setTimeout(done, 50))
    await slot.addText('roles.sql', '-- roles\n')
    await slot.addText('schema.sql', '-- schema\n')
    slot.close()
    await writer.addText('manifest.json', '{}\n')
    await writer.finish()
    await written
    expect(await entriesOf(archive)).toEqual([
      'roles.sql',
      'schema.sql',
      'data/public.a.ndjson',
      'manifest.json',
    ])
  })

  it('holds back what comes after it until it is closed', async () => {
    const writer = new ArchiveWriter({
      root: ROOT,
      workDir: join(dir, 'work'),
      gzipLevel: 6,
      mtime: new Date(0),
    })
    const sink = pipeline(writer.output, createWriteStream(join(dir, 'held.tar.gz')))
    await writer.open()
    const slot = writer.reserve()
    await writer.addText('manifest.json', '{}\n')
    const finished = writer.finish()
    const state = await Promise.race([
      finished.then(() => 'finished'),
      new Promise((done) => setTimeout(() => done('waiting'), 200)),
    ])
    expect(state).toBe('waiting')
    slot.close()
    await finished
    await sink
  })
})
