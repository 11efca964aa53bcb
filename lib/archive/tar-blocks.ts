// The blocks of a tar stream, built with node-tar's own Header and Pax (a PAX header
// when a path is longer than ustar allows), for a writer that compresses entries
// apart from their headers.
import { Header, Pax } from 'tar'

const BLOCK = 512

/** The header of a file, or of a folder when the path ends in `/`. */
export function tarHeader(entry: { path: string; size: number; mtime: Date }): Buffer {
  const folder = entry.path.endsWith('/')
  const fields = {
    path: entry.path,
    mode: folder ? 0o755 : 0o644,
    size: folder ? 0 : entry.size,
    mtime: entry.mtime,
    type: folder ? 'Directory' : 'File',
  } as const
  const header = new Header(fields)
  const needsPax = header.encode()
  const block = header.block!
  if (!needsPax) return block
  return Buffer.concat([new Pax({ path: entry.path, size: fields.size, mtime: entry.mtime }).encode(), block])
}

/** The zeros that round a file's content up to whole blocks. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK)
}

/** Two zero blocks end the archive. */
export function tarEnd(): Buffer {
  return Buffer.alloc(2 * BLOCK)
}
