// Verifies an archive stream without a database: format version, manifest,
// SHA256SUMS, and every file's hash, size and row count. Lists every failing file.
import { createHash } from 'node:crypto'
import type { Readable, Transform } from 'node:stream'
import { isLifeboatError, LifeboatError } from '../core/errors.ts'
import { formatCount } from '../core/format.ts'
import { INNER_SIGNATURE_FILE } from '../trust/backup-signature.ts'
import { METADATA_LIMITS, tooLarge } from '../trust/bounded.ts'
import { type Manifest, parseManifest } from './manifest.ts'
import { type ArchiveEntry, readArchive } from './reader.ts'

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
  /** roles.sql's text, kept for the restore's check against the manifest's roles. */
  rolesSql?: string
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
  ['roles.sql', METADATA_LIMITS.manifest],
])

/** What reading the archive found: every file measured, the small ones kept, each problem. */
interface Findings {
  files: FileCheck[]
  small: Map<string, string>
  roots: Set<string>
  problems: string[]
  failed: Set<string>
}

function fail(findings: Findings, file: string, problem: string): void {
  findings.failed.add(file)
  findings.problems.push(`${file}: ${problem}`)
}

function failure(findings: Findings, manifest?: Manifest): ArchiveVerification {
  return {
    ok: false,
    ...(manifest ? { manifest } : {}),
    files: findings.files,
    problems: findings.problems,
    failedFiles: [...findings.failed],
  }
}

export async function verifyArchive(input: Readable, options: VerifyOptions): Promise<ArchiveVerification> {
  const findings: Findings = {
    files: [],
    small: new Map(),
    roots: new Set(),
    problems: [],
    failed: new Set(),
  }
  await readAndMeasure(input, options, findings)
  const manifestText = findings.small.get('manifest.json')
  if (manifestText === undefined) {
    findings.problems.push(`${options.where}: manifest.json is missing`)
    return failure(findings)
  }
  options.authenticate?.(manifestText, findings.small.get(INNER_SIGNATURE_FILE))
  let manifest: Manifest
  try {
    manifest = parseManifest(manifestText, options.where)
  } catch (error) {
    if (isLifeboatError(error) && error.code === 'ARCHIVE_FORMAT') throw error
    findings.problems.push((error as Error).message)
    return failure(findings)
  }
  const { roots, problems } = findings
  if (roots.size !== 1 || !roots.has(manifest.id)) {
    problems.push(
      `${options.where}: root folder ${[...roots].join(', ') || '(none)'} does not match backup id ${manifest.id}`,
    )
  }
  const byPath = new Map(findings.files.map((f) => [f.path, f]))
  checkFiles(manifest, byPath, findings)
  checkSums(findings.small.get('SHA256SUMS'), byPath, findings, options.where)
  const schemaSql = findings.small.get('schema.sql')
  const rolesSql = findings.small.get('roles.sql')
  return {
    ok: problems.length === 0,
    manifest,
    ...(schemaSql !== undefined ? { schemaSql } : {}),
    ...(rolesSql !== undefined ? { rolesSql } : {}),
    files: findings.files,
    problems,
    failedFiles: [...findings.failed],
  }
}

const NOT_A_VERDICT = new Set(['DECRYPT_FAILED', 'METADATA_TOO_LARGE', 'STORE_IO', 'INTERRUPTED'])

/** Streams every file once: its sha256, size and rows; the small files kept (bounded). */
async function readAndMeasure(input: Readable, options: VerifyOptions, findings: Findings): Promise<void> {
  const expectedByFile = new Map(options.expected?.tables.map((t) => [t.file, t]) ?? [])
  try {
    await readArchive(
      input,
      async (entry) => {
        findings.roots.add(entry.root)
        const limit = KEPT_FILES.get(entry.path)
        if (limit !== undefined && entry.size > limit)
          throw tooLarge(
            `${options.where} (${entry.path})`,
            limit,
            `its tar header says ${formatCount(entry.size)}`,
          )
        const { check, kept } = await measureFile(entry, limit, options.where)
        findings.files.push(check)
        if (kept) findings.small.set(entry.path, kept)
        const expected = expectedByFile.get(entry.path)
        if (expected && expected.sha256 !== check.sha256)
          fail(findings, entry.path, 'sha256 does not match the manifest')
      },
      { where: options.where, transforms: options.transforms ?? [], signal: options.signal },
    )
  } catch (error) {
    // Decryption problems are about the key, not the archive; an oversized file is refused
    // at once; bytes that could not be read (the store, the disk) say nothing of the archive.
    if (isLifeboatError(error) && NOT_A_VERDICT.has(error.code)) throw error
    const message = isLifeboatError(error) ? error.message : String(error)
    const broken = /\(in ([^)]+)\)/.exec(message)?.[1]
    if (broken) findings.failed.add(broken)
    // Still compare what was read with the manifest, if it got that far: gzip checks
    // its CRC only at the very end, after every file has passed by.
    findings.problems.push(message)
  }
}

/** One file's sha256, bytes and newline count; its text too when it is kept (up to `limit`). */
async function measureFile(
  entry: ArchiveEntry,
  limit: number | undefined,
  where: string,
): Promise<{ check: FileCheck; kept: string | undefined }> {
  const hash = createHash('sha256')
  const chunks: Buffer[] = []
  let bytes = 0
  let rows = 0
  for await (const chunk of entry.stream as AsyncIterable<Buffer>) {
    hash.update(chunk)
    bytes += chunk.length
    if (limit !== undefined) {
      if (bytes > limit)
        throw tooLarge(`${where} (${entry.path})`, limit, `more than ${formatCount(limit)} read`)
      chunks.push(chunk)
    }
    for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) rows++
  }
  const check: FileCheck = { path: entry.path, bytes, sha256: hash.digest('hex') }
  if (entry.path.startsWith('data/')) check.rows = rows
  return { check, kept: limit === undefined ? undefined : Buffer.concat(chunks).toString('utf8') }
}

/** Every file the manifest lists against what was read, and nothing read that it does not list. */
function checkFiles(manifest: Manifest, byPath: ReadonlyMap<string, FileCheck>, findings: Findings): void {
  const expectedFiles = new Map<string, { sha256: string; bytes: number; rows?: number }>()
  for (const t of manifest.tables) expectedFiles.set(t.file, t)
  if (manifest.schemaSql) expectedFiles.set('schema.sql', manifest.schemaSql)
  if (manifest.roles?.file) expectedFiles.set('roles.sql', manifest.roles.file)
  for (const [path, expected] of expectedFiles) {
    const actual = byPath.get(path)
    if (!actual) fail(findings, path, 'missing from the archive')
    else if (actual.sha256 !== expected.sha256) {
      if (!findings.failed.has(path)) fail(findings, path, 'sha256 does not match the manifest')
    } else if (actual.bytes !== expected.bytes)
      fail(findings, path, `size ${actual.bytes} differs from the manifest's ${expected.bytes}`)
    else if (expected.rows !== undefined && actual.rows !== expected.rows) {
      fail(findings, path, `${actual.rows} rows, the manifest says ${expected.rows}`)
    }
  }
  for (const file of findings.files) {
    if (!expectedFiles.has(file.path) && !SMALL_FILES.has(file.path))
      fail(findings, file.path, 'not listed in the manifest')
  }
}

/** SHA256SUMS, line by line, against what was read. */
function checkSums(
  sums: string | undefined,
  byPath: ReadonlyMap<string, FileCheck>,
  findings: Findings,
  where: string,
): void {
  if (sums === undefined) {
    findings.problems.push(`${where}: SHA256SUMS is missing`)
    return
  }
  for (const line of sums.split('\n').filter(Boolean)) {
    const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(line)
    if (!m) {
      findings.problems.push(`SHA256SUMS: malformed line "${line.slice(0, 80)}"`)
      continue
    }
    const actual = byPath.get(m[2]!)
    if (!actual) {
      if (!findings.failed.has(m[2]!)) fail(findings, m[2]!, 'listed in SHA256SUMS but missing')
    } else if (actual.sha256 !== m[1] && !findings.failed.has(m[2]!))
      fail(findings, m[2]!, 'sha256 does not match SHA256SUMS')
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
