// The shape of the code, kept by tests rather than by memory: files and functions stay
// small enough to read, and modules that promise to be pure import no I/O.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const ROOTS = ['lib', 'jobs', 'infra']
const MAX_FILE_LINES = 400
const MAX_FUNCTION_LINES = 80

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

const files = ROOTS.flatMap((root) => sourceFiles(root))

function parse(path: string): ts.SourceFile {
  return ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true)
}

/** Every function-like node with its name and length in lines. */
function functionsOf(file: ts.SourceFile): { name: string; lines: number }[] {
  const found: { name: string; lines: number }[] = []
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = file.getLineAndCharacterOfPosition(node.getStart(file)).line
      const end = file.getLineAndCharacterOfPosition(node.getEnd()).line
      const name =
        (node.name && ts.isIdentifier(node.name) ? node.name.text : undefined) ??
        (ts.isVariableDeclaration(node.parent) && ts.isIdentifier(node.parent.name)
          ? node.parent.name.text
          : '(anonymous)')
      found.push({ name, lines: end - start + 1 })
    }
    ts.forEachChild(node, visit)
  }
  visit(file)
  return found
}

/** Relative imports of a module, resolved to repository paths. */
function importsOf(path: string): string[] {
  const file = parse(path)
  const specifiers: string[] = []
  for (const statement of file.statements) {
    if (
      (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) &&
      statement.moduleSpecifier
    ) {
      const typeOnly = ts.isImportDeclaration(statement)
        ? statement.importClause?.isTypeOnly === true
        : statement.isTypeOnly
      if (!typeOnly) specifiers.push((statement.moduleSpecifier as ts.StringLiteral).text)
    }
  }
  return specifiers.map((s) => (s.startsWith('.') ? relative(resolve('.'), resolve(dirname(path), s)) : s))
}

/** A module declares itself pure with a header line saying so; it then imports no I/O, ever. */
const PURE = /^\/\/.*(?:\bPure[.,;:]|\bpure: no I\/O)/m
const IO_MODULES =
  /^(node:(fs|net|http|https|child_process|dgram|dns|tls|worker_threads)|pg|pg-copy-streams|@aws-sdk\/|nodemailer|@supabase\/)/

describe('the size of things', () => {
  it(`keeps every source file under ${MAX_FILE_LINES} lines`, () => {
    const long = files
      .map((path) => ({ path, lines: readFileSync(path, 'utf8').split('\n').length }))
      .filter((f) => f.lines > MAX_FILE_LINES)
      .map((f) => `${f.path}: ${f.lines} lines`)
    expect(long).toEqual([])
  })

  it(`keeps every function under ${MAX_FUNCTION_LINES} lines`, () => {
    const long = files.flatMap((path) =>
      functionsOf(parse(path))
        .filter((f) => f.lines > MAX_FUNCTION_LINES)
        .map((f) => `${path}: ${f.name} ${f.lines} lines`),
    )
    expect(long).toEqual([])
  })
})

describe('the dependency rules', () => {
  const header = (path: string) => readFileSync(path, 'utf8').split('\n').slice(0, 4).join('\n')
  const pure = files.filter((path) => path.startsWith('lib/') && PURE.test(header(path)))

  it('has pure modules to check', () => {
    expect(pure.length).toBeGreaterThan(10)
  })

  it('keeps pure modules free of I/O, directly and through what they import', () => {
    const offending: string[] = []
    const seen = new Map<string, string | undefined>()
    const firstIo = (path: string, trail: string[]): string | undefined => {
      if (seen.has(path)) return seen.get(path)
      seen.set(path, undefined)
      for (const target of importsOf(path)) {
        if (IO_MODULES.test(target))
          return seen.set(path, `${[...trail, path].join(' -> ')} -> ${target}`).get(path)
        if (target.startsWith('lib/') && target.endsWith('.ts')) {
          const found = firstIo(target, [...trail, path])
          if (found) return seen.set(path, found).get(path)
        }
      }
      return undefined
    }
    for (const path of pure) {
      const io = firstIo(path, [])
      if (io) offending.push(io)
    }
    expect(offending).toEqual([])
  })

  it('lets the Pulumi program use only pure modules of lib/', () => {
    const impure = files
      .filter((path) => path.startsWith('infra/'))
      .flatMap((path) =>
        importsOf(path)
          .filter((t) => t.startsWith('lib/') && !PURE.test(header(t)))
          .map((t) => `${path} -> ${t}`),
      )
    expect(impure).toEqual([])
  })

  it('never lets lib/ import the job scripts or the Pulumi program', () => {
    const upward = files
      .filter((path) => path.startsWith('lib/'))
      .flatMap((path) =>
        importsOf(path)
          .filter((t) => t.startsWith('jobs/') || t.startsWith('infra/'))
          .map((t) => `${path} -> ${t}`),
      )
    expect(upward).toEqual([])
  })
})

describe('what the jobs keep resident', () => {
  // The first locale-aware call maps ICU's data into the process for the rest of its
  // life: about 5 MB of a backup's peak for commas (bench/README.md). Counts go through
  // formatCount, string order through byText.
  const LOCALE_CALLS = /\.toLocaleString\(|\.localeCompare\(|\bIntl\./

  it('formats and sorts without ICU in lib/ and jobs/', () => {
    const users = files
      .filter((path) => !path.startsWith('infra/'))
      .flatMap((path) =>
        readFileSync(path, 'utf8')
          .split('\n')
          .flatMap((line, i) => (LOCALE_CALLS.test(line) ? [`${path}:${i + 1}: ${line.trim()}`] : [])),
      )
    expect(users).toEqual([])
  })
})
