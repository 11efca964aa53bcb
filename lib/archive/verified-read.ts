// Reads an archive once, checking every file against the expected manifest (a stored
// backup's sidecar) while the consumer streams it: a restore loads as it reads, inside
// its transaction, and rolls back on the first mismatch, instead of reading the whole
// archive twice. schema.sql and roles.sql are checked whole before the consumer sees
// them (they run SQL).
import { createHash } from 'node:crypto'
import type { Readable } from 'node:stream'
import { Transform, type TransformCallback } from 'node:stream'
import { finished } from 'node:stream/promises'
import { LifeboatError } from '../core/errors.ts'
import { formatCount } from '../core/format.ts'
import { INNER_SIGNATURE_FILE } from '../trust/backup-signature.ts'
import { METADATA_LIMITS, tooLarge } from '../trust/bounded.ts'
import { assertSameAsSidecar } from './authenticity.ts'
import { type Manifest, parseManifest, type TableEntry } from './manifest.ts'
import { type ArchiveEntry, type ReadArchiveOptions, readArchive } from './reader.ts'

/** What the consumer is handed: a data file (its manifest entry), or schema.sql / roles.sql (checked text). */
export type VerifiedEntry =
  | { kind: 'data'; path: string; table: TableEntry; stream: Readable }
  | { kind: 'schema'; path: 'schema.sql'; sql: string }
  | { kind: 'roles'; path: 'roles.sql'; sql: string }

/** Files held whole (bounded, as the verify pass bounds them: a decompression bomb stops there). */
const KEPT: ReadonlyMap<string, number> = new Map([
  ['manifest.json', METADATA_LIMITS.manifest],
  ['SHA256SUMS', METADATA_LIMITS.SHA256SUMS],
  [INNER_SIGNATURE_FILE, METADATA_LIMITS.signature],
  ['schema.sql', METADATA_LIMITS.manifest],
  ['roles.sql', METADATA_LIMITS.manifest],
])
const SMALL = new Set(['manifest.json', 'SHA256SUMS'])
/** Read and kept for the caller's authentication, not listed in SHA256SUMS. */
const OPTIONAL_SMALL = new Set([INNER_SIGNATURE_FILE])

/** Hashes and counts a data file as it passes; ends with VERIFY_FAILED when it is not the manifest's. */
class FileCheck extends Transform {
  readonly #hash = createHash('sha256')
  #bytes = 0
  #rows = 0
  readonly #expected: { file: string; sha256: string; bytes: number; rows: number }
  readonly #where: string

  constructor(expected: { file: string; sha256: string; bytes: number; rows: number }, where: string) {
    super({ highWaterMark: 1024 * 1024 })
    this.#expected = expected
    this.#where = where
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#hash.update(chunk)
    this.#bytes += chunk.length
    for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) this.#rows++
    done(null, chunk)
  }

  /** Before the end reaches the consumer: a COPY fed from here fails rather than completes. */
  override _flush(done: TransformCallback): void {
    const e = this.#expected
    const sha256 = this.#hash.digest('hex')
    const problem =
      sha256 !== e.sha256
        ? 'sha256 does not match the manifest'
        : this.#bytes !== e.bytes
          ? `size ${this.#bytes} differs from the manifest's ${e.bytes}`
          : this.#rows !== e.rows
            ? `${this.#rows} rows, the manifest says ${e.rows}`
            : undefined
    done(problem ? verifyFailed(this.#where, e.file, problem) : null)
  }
}

function verifyFailed(where: string, file: string, problem: string): LifeboatError {
  return new LifeboatError(
    'VERIFY_FAILED',
    `${where} failed verification (failing: ${file}): ${file}: ${problem}`,
  )
}

async function readWhole(entry: ArchiveEntry, where: string): Promise<Buffer> {
  const limit = KEPT.get(entry.path)!
  const what = `${where} (${entry.path})`
  if (entry.size > limit) throw tooLarge(what, limit, `its tar header says ${formatCount(entry.size)}`)
  const chunks: Buffer[] = []
  let bytes = 0
  for await (const chunk of entry.stream as AsyncIterable<Buffer>) {
    bytes += chunk.length
    if (bytes > limit) throw tooLarge(what, limit, `more than ${formatCount(limit)} read`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/** schema.sql and roles.sql: what the manifest says of each (absent when it lists none). */
function sqlFiles(expected: Manifest): Map<string, { sha256: string; kind: 'schema' | 'roles' }> {
  const files = new Map<string, { sha256: string; kind: 'schema' | 'roles' }>()
  if (expected.schemaSql) files.set('schema.sql', { sha256: expected.schemaSql.sha256, kind: 'schema' })
  const roles = expected.roles?.file
  if (roles) files.set('roles.sql', { sha256: roles.sha256, kind: 'roles' })
  return files
}

const sha256Of = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

/**
 * Streams `input` to `consume` file by file, each checked against `expected`: a data
 * file's stream errors (VERIFY_FAILED) at its end if its hash, size or rows differ, an
 * unknown or repeated file fails before it is handed over, and once the archive ends,
 * its manifest.json must equal `expected` (less the sidecar's `archive`), SHA256SUMS
 * must agree, and no file may be missing. Any failure rejects; the caller rolls back.
 */
export async function readVerifiedArchive(
  input: Readable,
  expected: Manifest,
  consume: (entry: VerifiedEntry) => Promise<void>,
  options: ReadArchiveOptions,
): Promise<Manifest> {
  const where = options.where
  const tables = new Map(expected.tables.map((t) => [t.file, t]))
  const sql = sqlFiles(expected)
  const seen = new Map<string, string>()
  const small = new Map<string, Buffer>()
  await readArchive(
    input,
    async (entry) => {
      if (entry.root !== expected.id)
        throw verifyFailed(where, entry.path, `root folder ${entry.root} is not backup ${expected.id}`)
      if (seen.has(entry.path)) throw verifyFailed(where, entry.path, 'appears twice in the archive')
      const table = tables.get(entry.path)
      const script = sql.get(entry.path)
      if (table) {
        const checked = entry.stream.pipe(new FileCheck(table, where))
        entry.stream.on('error', (error) => checked.destroy(error))
        // A file left unread when the read stops is destroyed with no consumer listening.
        checked.on('error', () => {})
        await consume({ kind: 'data', path: entry.path, table, stream: checked })
        // A file the consumer skipped (not selected) is still read to its end and checked.
        checked.resume()
        await finished(checked)
        seen.set(entry.path, table.sha256)
      } else if (script) {
        const bytes = await readWhole(entry, where)
        const sha256 = sha256Of(bytes)
        if (sha256 !== script.sha256)
          throw verifyFailed(where, entry.path, 'sha256 does not match the manifest')
        seen.set(entry.path, sha256)
        const text = bytes.toString('utf8')
        await consume(
          script.kind === 'schema'
            ? { kind: 'schema', path: 'schema.sql', sql: text }
            : { kind: 'roles', path: 'roles.sql', sql: text },
        )
      } else if (SMALL.has(entry.path) || OPTIONAL_SMALL.has(entry.path)) {
        const bytes = await readWhole(entry, where)
        small.set(entry.path, bytes)
        seen.set(entry.path, sha256Of(bytes))
      } else {
        throw verifyFailed(where, entry.path, 'not listed in the manifest')
      }
    },
    options,
  )
  return checkEnd(expected, seen, small, where)
}

/** After the last entry: the archive's own manifest and SHA256SUMS, and nothing missing. */
function checkEnd(
  expected: Manifest,
  seen: ReadonlyMap<string, string>,
  small: ReadonlyMap<string, Buffer>,
  where: string,
): Manifest {
  const wanted = [...expected.tables.map((t) => t.file), ...sqlFiles(expected).keys()]
  const missing = [...wanted, ...SMALL].filter((file) => !seen.has(file))
  if (missing.length > 0) throw verifyFailed(where, missing.join(', '), 'missing from the archive')
  const inside = parseManifest(small.get('manifest.json')!.toString('utf8'), where)
  try {
    assertSameAsSidecar(inside, expected, where)
  } catch {
    throw verifyFailed(where, 'manifest.json', 'differs from the manifest stored beside the archive')
  }
  const sums = small.get('SHA256SUMS')!.toString('utf8').split('\n').filter(Boolean)
  for (const line of sums) {
    const match = /^([0-9a-f]{64}) {2}(.+)$/.exec(line)
    if (!match) throw verifyFailed(where, 'SHA256SUMS', `malformed line "${line.slice(0, 80)}"`)
    if (seen.get(match[2]!) !== match[1])
      throw verifyFailed(where, match[2]!, 'sha256 does not match SHA256SUMS')
  }
  const listable = [...seen.keys()].filter((f) => f !== 'SHA256SUMS' && !OPTIONAL_SMALL.has(f)).length
  if (sums.length !== listable)
    throw verifyFailed(where, 'SHA256SUMS', `lists ${sums.length} files, the archive holds ${listable}`)
  return inside
}
