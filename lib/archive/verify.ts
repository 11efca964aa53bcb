// Verifies an archive stream without a database: format version, manifest,
// SHA256SUMS, and every file's hash, size and row count. Lists every failing file.
import { createHash } from 'node:crypto'
import type { Readable, Transform } from 'node:stream'
import { isLifeboatError, LifeboatError } from '../core/errors.ts'
import { INNER_SIGNATURE_FILE } from '../trust/backup-signature.ts'
import { METADATA_LIMITS, tooLarge } from '../trust/bounded.ts'
import { type Manifest, parseManifest } from './manifest.ts'
import { readArchive } from './reader.ts'

export interface FileCheck {
  path: string
  bytes: number
  rows?: number
  sha256: string
}

export interface ArchiveVerification {
  ok: boolean
  manifest?: Manifest
  /** schema.sql's text, kept for the restore (checked against the manifest like every file). */
  schemaSql?: string
  /** Every file read, with what was measured. */
  files: FileCheck[]
  /** One line per problem, each naming the file at fault. */
  problems: string[]
  /** Files whose content is wrong or missing, for reports ("which table failed"). */
  failedFiles: string[]
}

export interface VerifyOptions {
  where: string
  transforms?: Transform[]
  /** The sidecar manifest, when there is one: lets a bad file be named as soon as it is read. */
  expected?: Manifest
  signal?: AbortSignal | undefined
  /**
   * Called with manifest.json's text and its signature (when the archive holds one)
   * before the manifest is parsed; throws to refuse an unauthenticated archive.
   */
  authenticate?: (manifestText: string, signature: string | undefined) => void
}

const SMALL_FILES = new Set(['manifest.json', 'SHA256SUMS', INNER_SIGNATURE_FILE])
/** Read into memory on the way, each with a limit (a decompression bomb stops at it). */
const KEPT_FILES: ReadonlyMap<string, number> = new Map([
  ['manifest.json', METADATA_LIMITS.manifest],
  ['SHA256SUMS', METADATA_LIMITS.SHA256SUMS],
  [INNER_SIGNATURE_FILE, METADATA_LIMITS.signature],
  ['schema.sql', METADATA_LIMITS.manifest],
])

export async function verifyArchive(input: Readable, options: VerifyOptions): Promise<ArchiveVerification> {
  const files: FileCheck[] = []
  const small = new Map<string, string>()
  const roots = new Set<string>()
  const problems: string[] = []
  const failed = new Set<string>()
  const fail = (file: string, problem: string) => {
    failed.add(file)
    problems.push(`${file}: ${problem}`)
  }
  const expectedByFile = new Map(options.expected?.tables.map((t) => [t.file, t]) ?? [])

  try {
    await readArchive(
      input,
      async (entry) => {
        roots.add(entry.root)
        const hash = createHash('sha256')
        const limit = KEPT_FILES.get(entry.path)
        const keep = limit !== undefined
        if (keep && entry.size > limit)
          throw tooLarge(
            `${options.where} (${entry.path})`,
            limit,
            `its tar header says ${entry.size.toLocaleString('en')}`,
          )
        const chunks: Buffer[] = []
        let bytes = 0
        let rows = 0
        for await (const chunk of entry.stream as AsyncIterable<Buffer>) {
          hash.update(chunk)
          bytes += chunk.length
          if (keep) {
            if (bytes > limit)
              throw tooLarge(
                `${options.where} (${entry.path})`,
                limit,
                `more than ${limit.toLocaleString('en')} read`,
              )
            chunks.push(chunk)
          }
          let at = chunk.indexOf(0x0a)
          while (at !== -1) {
            rows++
            at = chunk.indexOf(0x0a, at + 1)
          }
        }
        const check: FileCheck = { path: entry.path, bytes, sha256: hash.digest('hex') }
        if (entry.path.startsWith('data/')) check.rows = rows
        files.push(check)
        if (keep) small.set(entry.path, Buffer.concat(chunks).toString('utf8'))
        const expected = expectedByFile.get(entry.path)
        if (expected && expected.sha256 !== check.sha256)
          fail(entry.path, 'sha256 does not match the manifest')
      },
      { where: options.where, transforms: options.transforms ?? [], signal: options.signal },
    )
  } catch (error) {
    // Decryption problems are about the key, not the archive; an oversized file is refused at once.
    if (isLifeboatError(error) && (error.code === 'DECRYPT_FAILED' || error.code === 'METADATA_TOO_LARGE'))
      throw error
    const message = isLifeboatError(error) ? error.message : String(error)
    const broken = /\(in ([^)]+)\)/.exec(message)?.[1]
    if (broken) failed.add(broken)
    // Still compare what was read with the manifest, if it got that far: gzip checks
    // its CRC only at the very end, after every file has passed by.
    problems.push(message)
  }

  const manifestText = small.get('manifest.json')
  if (manifestText === undefined) {
    problems.push(`${options.where}: manifest.json is missing`)
    return { ok: false, files, problems, failedFiles: [...failed] }
  }
  options.authenticate?.(manifestText, small.get(INNER_SIGNATURE_FILE))
  let manifest: Manifest
  try {
    manifest = parseManifest(manifestText, options.where)
  } catch (error) {
    if (isLifeboatError(error) && error.code === 'ARCHIVE_FORMAT') throw error
    problems.push((error as Error).message)
    return { ok: false, files, problems, failedFiles: [...failed] }
  }

  if (roots.size !== 1 || !roots.has(manifest.id)) {
    problems.push(
      `${options.where}: root folder ${[...roots].join(', ') || '(none)'} does not match backup id ${manifest.id}`,
    )
  }
  const byPath = new Map(files.map((f) => [f.path, f]))
  const expectedFiles = new Map<string, { sha256: string; bytes: number; rows?: number }>()
  for (const t of manifest.tables) expectedFiles.set(t.file, t)
  if (manifest.schemaSql) expectedFiles.set('schema.sql', manifest.schemaSql)

  for (const [path, expected] of expectedFiles) {
    const actual = byPath.get(path)
    if (!actual) fail(path, 'missing from the archive')
    else if (actual.sha256 !== expected.sha256) {
      if (!failed.has(path)) fail(path, 'sha256 does not match the manifest')
    } else if (actual.bytes !== expected.bytes)
      fail(path, `size ${actual.bytes} differs from the manifest's ${expected.bytes}`)
    else if (expected.rows !== undefined && actual.rows !== expected.rows) {
      fail(path, `${actual.rows} rows, the manifest says ${expected.rows}`)
    }
  }
  for (const file of files) {
    if (!expectedFiles.has(file.path) && !SMALL_FILES.has(file.path))
      fail(file.path, 'not listed in the manifest')
  }

  const sums = small.get('SHA256SUMS')
  if (sums === undefined) problems.push(`${options.where}: SHA256SUMS is missing`)
  else {
    for (const line of sums.split('\n').filter(Boolean)) {
      const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(line)
      if (!m) {
        problems.push(`SHA256SUMS: malformed line "${line.slice(0, 80)}"`)
        continue
      }
      const actual = byPath.get(m[2]!)
      if (!actual) {
        if (!failed.has(m[2]!)) fail(m[2]!, 'listed in SHA256SUMS but missing')
      } else if (actual.sha256 !== m[1] && !failed.has(m[2]!)) fail(m[2]!, 'sha256 does not match SHA256SUMS')
    }
  }
  const schemaSql = small.get('schema.sql')
  return {
    ok: problems.length === 0,
    manifest,
    ...(schemaSql !== undefined ? { schemaSql } : {}),
    files,
    problems,
    failedFiles: [...failed],
  }
}

/** Verification as a gate: throws VERIFY_FAILED naming every failing file. */
export function assertVerified(result: ArchiveVerification, where: string): Manifest {
  if (result.ok && result.manifest) return result.manifest
  const named = result.failedFiles.length > 0 ? ` (failing: ${result.failedFiles.join(', ')})` : ''
  throw new LifeboatError(
    'VERIFY_FAILED',
    `${where} failed verification${named}: ${result.problems[0] ?? 'unknown'}`,
    {
      details: result.problems,
    },
  )
}
