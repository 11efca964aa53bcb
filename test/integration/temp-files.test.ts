// Temp files of an encrypted backup are ciphertext under a key that lives only in memory,
// and read back exactly (whole or from any offset); work folders are private and swept
// once their process is gone.
import { mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import { counterAt, encryptedTempFiles, plainTempFiles } from '../../lib/archive/temp-files.ts'
import { createWorkFolder, sweepStaleWorkFolders } from '../../lib/archive/work-folder.ts'

const folder = () => mkdtempSync(join(resolve('.tmp'), 'temp-files-'))
const rows = (n: number) =>
  Array.from({ length: n }, (_, i) => `{"id":"${i}","secret":"PLAINTEXT-ROW-${i}"}\n`).join('')

async function write(files: typeof plainTempFiles, path: string, text: string): Promise<void> {
  await pipeline(Readable.from([Buffer.from(text)]), files.createWriteStream(path))
}

async function readAll(files: typeof plainTempFiles, path: string): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of await files.createReadStream(path)) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

describe('encrypted temp files', () => {
  const text = rows(20_000)

  it('hold no plaintext on disk, are private, and read back exactly', async () => {
    const files = encryptedTempFiles()
    const path = join(folder(), 'data.ndjson.gz')
    await write(files, path, text)
    const onDisk = readFileSync(path)
    expect(onDisk.includes(Buffer.from('PLAINTEXT-ROW-'))).toBe(false)
    expect(onDisk.length).toBe(Buffer.byteLength(text) + 16)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(await files.size(path)).toBe(Buffer.byteLength(text))
    expect(await readAll(files, path)).toBe(text)
  })

  it('read any range from any offset (the API export re-sorts rows by offset)', async () => {
    const files = encryptedTempFiles()
    const path = join(folder(), 'unsorted')
    await write(files, path, text)
    const plain = Buffer.from(text)
    for (const [offset, length] of [
      [0, 10],
      [15, 2],
      [16, 16],
      [17, 100],
      [123_457, 999],
      [plain.length - 5, 5],
    ] as const) {
      expect((await files.readAt(path, offset, length)).equals(plain.subarray(offset, offset + length))).toBe(
        true,
      )
    }
  })

  it('read many ranges, in any order, through one open file (the API export re-sort)', async () => {
    const files = encryptedTempFiles()
    const path = join(folder(), 'unsorted')
    await write(files, path, text)
    const plain = Buffer.from(text)
    const lines: [number, number][] = []
    for (let offset = 0; offset < plain.length; ) {
      const end = plain.indexOf(10, offset) + 1
      lines.push([offset, end - offset])
      offset = end
    }
    const reader = await files.openRandom(path)
    const back: Buffer[] = []
    try {
      for (const [offset, length] of lines.reverse()) back.push(await reader.read(offset, length))
    } finally {
      await reader.close()
    }
    expect(Buffer.concat(back).toString('utf8')).toBe(`${text.trimEnd().split('\n').reverse().join('\n')}\n`)
  })

  it('cannot be read with another process key', async () => {
    const path = join(folder(), 'x')
    await write(encryptedTempFiles(), path, text)
    expect(await readAll(encryptedTempFiles(), path)).not.toBe(text)
  })

  it('counts CTR blocks with a carry across bytes', () => {
    const iv = Buffer.from('000000000000000000000000000000ff', 'hex')
    expect(counterAt(iv, 1).toString('hex')).toBe('00000000000000000000000000000100')
    expect(counterAt(Buffer.alloc(16, 0xff), 1).toString('hex')).toBe('00000000000000000000000000000000')
  })

  it('plain temp files stay plain (an unencrypted backup writes a plain archive anyway)', async () => {
    const path = join(folder(), 'plain')
    await write(plainTempFiles, path, 'a\n')
    expect(readFileSync(path, 'utf8')).toBe('a\n')
  })
})

describe('work folders', () => {
  it('are private to the job (0700) and carry its pid', async () => {
    const temp = folder()
    const work = await createWorkFolder(temp, 'backup')
    expect(statSync(work).mode & 0o777).toBe(0o700)
    expect(work).toContain(`lifeboat-backup-${process.pid}-`)
  })

  it('left by a process that is gone are swept; a running one, another kind and strangers stay', async () => {
    const temp = folder()
    for (const name of [
      'lifeboat-backup-999991-AAAAAA',
      'lifeboat-backup-999992-BBBBBB',
      'lifeboat-restore-999991-CCCCCC',
      'something-else',
    ]) {
      mkdirSync(join(temp, name, 'backup-x', 'data'), { recursive: true })
    }
    const swept = await sweepStaleWorkFolders(temp, 'backup', { isAlive: (pid) => pid === 999992 })
    expect(swept).toEqual([join(temp, 'lifeboat-backup-999991-AAAAAA')])
    expect((await readdir(temp)).sort()).toEqual([
      'lifeboat-backup-999992-BBBBBB',
      'lifeboat-restore-999991-CCCCCC',
      'something-else',
    ])
  })
})
