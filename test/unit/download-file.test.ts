// A stored archive is read while it downloads (lib/archive/download-file.ts): a reader
// follows the bytes on disk, waits at their end for more, and ends with the download,
// or with its failure. Real files, a writer fed by hand.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { DownloadFile } from '../../lib/archive/download-file.ts'

const folders: string[] = []
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true })
})

function downloadFile(): DownloadFile {
  const folder = mkdtempSync(join(tmpdir(), 'download-file-'))
  folders.push(folder)
  return new DownloadFile(join(folder, 'archive.tar.gz'), (error) => new Error(`described: ${error.message}`))
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** Writes one chunk and waits until it is on disk. */
function write(file: DownloadFile, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => file.write(chunk, (error) => (error ? reject(error) : resolve())))
}

const turn = () => new Promise((resolve) => setTimeout(resolve, 20))

describe('DownloadFile', () => {
  it('gives a reader started before the first byte every byte, in order, once the download ends', async () => {
    const file = downloadFile()
    const reader = readAll(file.follow(1000))
    const parts = [randomBytes(3000), randomBytes(10), randomBytes(70_000)]
    for (const part of parts) {
      await write(file, part)
      await turn()
    }
    file.end()
    expect((await reader).equals(Buffer.concat(parts))).toBe(true)
  })

  it('does not end a reader that caught up while the download goes on', async () => {
    const file = downloadFile()
    const stream = file.follow(64)
    let ended = false
    const reader = readAll(stream).then((bytes) => {
      ended = true
      return bytes
    })
    await write(file, Buffer.from('first'))
    await turn()
    expect(ended).toBe(false)
    await write(file, Buffer.from(' second'))
    file.end()
    expect((await reader).toString()).toBe('first second')
  })

  it('gives a reader opened after the download the whole file', async () => {
    const file = downloadFile()
    const bytes = randomBytes(200_000)
    await write(file, bytes)
    await new Promise<void>((resolve) => file.end(resolve))
    expect((await readAll(file.follow(4096))).equals(bytes)).toBe(true)
  })

  it('ends a waiting reader with the download’s failure, as described for the user', async () => {
    const file = downloadFile()
    const reader = readAll(file.follow(1024))
    await write(file, Buffer.from('half an archive'))
    await turn()
    file.destroy(new Error('connection reset'))
    await expect(reader).rejects.toThrow('described: connection reset')
  })

  it('fails a reader opened after the download failed', async () => {
    const file = downloadFile()
    await write(file, Buffer.from('a start'))
    file.destroy(new Error('socket hang up'))
    await turn()
    await expect(readAll(file.follow(1024))).rejects.toThrow('described: socket hang up')
  })
})
