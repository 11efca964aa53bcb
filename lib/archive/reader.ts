// Reads archive format v1 as one stream: [decrypt] -> gunzip -> tar entries, handed
// one at a time, in archive order, to a consumer that streams each one.
import { Readable, type Stream, type Transform, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { Parser, type ReadEntry } from 'tar'
import { isLifeboatError, LifeboatError } from '../core/errors.ts'

/**
 * Bytes per read and per gunzip output chunk: big enough that per-chunk costs vanish
 * (16 KiB chunks cost 2.7 s on 381 MB), small enough that the chunks in flight through
 * the restore's stages stay a few MB (bench/README.md, Memory).
 */
export const READ_CHUNK_BYTES = 256 * 1024

export interface ArchiveEntry {
  /** The archive's root folder (the backup id). */
  root: string
  /** Path inside the root folder, e.g. `data/public.users.ndjson`. */
  path: string
  size: number
  /** The entry's bytes; must be consumed (or `resume()`d) for reading to go on. */
  stream: Readable
}

export interface ReadArchiveOptions {
  /** The archive's name, for messages. */
  where: string
  /** Applied before gunzip (decryption). */
  transforms?: Transform[]
  /** Stops reading (and every entry's stream) when aborted. */
  signal?: AbortSignal | undefined
}

export async function readArchive(
  input: Readable,
  onEntry: (entry: ArchiveEntry) => Promise<void>,
  options: ReadArchiveOptions,
): Promise<void> {
  let chain: Promise<void> = Promise.resolve()
  let handlerError: unknown
  /** The input failed: entries still queued are destroyed and never handed over. */
  let readFailed = false
  // Named in errors, so a corrupt stream points at the file it broke in.
  let current: string | undefined
  // Entries still being consumed; a broken input must end them, or their readers wait forever.
  const open = new Set<Readable>()
  const parser = new Parser({
    strict: true,
    onReadEntry: (raw: ReadEntry) => {
      if (raw.type !== 'File' && raw.type !== 'OldFile') {
        raw.resume()
        return
      }
      const slash = raw.path.indexOf('/')
      const entry: ArchiveEntry = {
        root: slash === -1 ? '' : raw.path.slice(0, slash),
        path: slash === -1 ? raw.path : raw.path.slice(slash + 1),
        size: raw.size,
        stream: Readable.from(raw, { objectMode: false }),
      }
      open.add(entry.stream)
      // Entries queued behind a failed one are destroyed unread; an 'error' with no
      // listener would crash the process. Consumers still see errors through their own.
      entry.stream.on('error', () => {})
      entry.stream.once('close', () => open.delete(entry.stream))
      chain = chain.then(async () => {
        current = entry.path
        if (handlerError !== undefined || readFailed) {
          raw.resume()
          return
        }
        try {
          await onEntry(entry)
          // Whatever the consumer left unread is skipped, so the parser moves on.
          entry.stream.resume()
          current = undefined
        } catch (error) {
          handlerError ??= error
          raw.resume()
          parser.abort(error as Error)
        }
      })
    },
  })
  // READ_CHUNK_BYTES output chunks, not zlib's 16 KiB: each is a round trip to the thread pool.
  const stages = [
    ...(options.transforms ?? []),
    createGunzip({ chunkSize: READ_CHUNK_BYTES }),
    parserSink(parser),
  ]
  const source = watchInput(input, stages)
  try {
    await pipeline([input, ...stages], {
      ...(options.signal ? { signal: options.signal } : {}),
    })
    await chain
  } catch (error) {
    // gzip checks its CRC only at the very end: then no particular file is to blame.
    const crc = /incorrect data check/i.test((error as Error).message ?? '')
    const mapped =
      source.failure && !options.signal?.aborted
        ? unreadable(source.failure, options.where)
        : archiveError(error, current && !crc ? `${options.where} (in ${current})` : options.where)
    readFailed = true
    for (const stream of open) stream.destroy(mapped)
    await chain.catch(() => undefined)
    throw handlerError ?? mapped
  }
  if (handlerError !== undefined) throw handlerError
}

/**
 * Records the input's own failure (the store or the disk could not give its bytes), as
 * opposed to one of the stages after it, which the pipeline then passes back to the
 * input: listening before the pipeline does, the first 'error' tells which came first.
 */
function watchInput(input: Readable, stages: Stream[]): { failure?: Error } {
  const watch: { failure?: Error } = {}
  let downstream = false
  for (const stage of stages) stage.once('error', () => (downstream = true))
  input.once('error', (error: Error) => {
    if (!downstream) watch.failure = error
  })
  return watch
}

/** The bytes could not be read: not a verdict on the archive, whose remaining bytes nobody saw. */
function unreadable(error: Error, where: string): LifeboatError {
  if (isLifeboatError(error)) return error
  return new LifeboatError('STORE_IO', `cannot read ${where}: ${error.message}`, { cause: error })
}

/** The tar parser as the pipeline's last stage: it ends once the parser has read every entry. */
function parserSink(parser: Parser): Writable {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (parser.write(chunk)) done()
      else parser.once('drain', () => done())
    },
    final(done) {
      parser.once('end', () => done())
      parser.end()
    },
  })
  parser.on('error', (error: Error) => sink.destroy(error))
  return sink
}

function archiveError(error: unknown, where: string): LifeboatError {
  if (isLifeboatError(error)) return error
  const e = error as Error & { code?: string }
  if (e.code === 'Z_BUF_ERROR' || /unexpected end of file|Truncated input/i.test(e.message)) {
    return new LifeboatError('ARCHIVE_CORRUPT', `${where} is truncated (the archive ends early)`, {
      cause: error,
    })
  }
  if (e.code === 'Z_DATA_ERROR' || /incorrect header check|invalid/i.test(e.message)) {
    return new LifeboatError('ARCHIVE_CORRUPT', `${where} is not a valid gzip stream (${e.message})`, {
      cause: error,
    })
  }
  if (/TAR_|tar/i.test(`${e.code ?? ''} ${e.message}`)) {
    return new LifeboatError('ARCHIVE_CORRUPT', `${where} is not a valid tar archive (${e.message})`, {
      cause: error,
    })
  }
  return new LifeboatError('ARCHIVE_CORRUPT', `${where} cannot be read: ${e.message}`, { cause: error })
}
