// Finding a pg_dump at least as new as the server, and running it: its version,
// its arguments (the password never in argv) and its output cleaned for any client.
import { spawn } from 'node:child_process'
import { access, constants, mkdtemp, readdir, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'

export interface PgDumpTool {
  path: string
  version: string
  major: number
  /** The pg_restore beside it: reads the dump's table of contents to leave entries out. */
  restorePath: string
}

/** Dumps of a newer server may use syntax an older pg_dump cannot read, so it refuses. */
export function serverMajor(serverVersionNum: number): number {
  return Math.floor(serverVersionNum / 10000)
}

/** `pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` → 15.18, major 15. */
export function parsePgDumpVersion(output: string): { version: string; major: number } | undefined {
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(output)
  if (!match) return undefined
  const major = Number(match[1])
  const version = [match[1], match[2], match[3]].filter((p) => p !== undefined).join('.')
  return { version, major }
}

/** pg_dump's -n takes a pattern; double quotes make every character (dots, `*`, case) literal. */
export function pgDumpSchemaPattern(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/**
 * A libpq URL without the password (argv is visible to every user of the host)
 * and the password separately, for PGPASSWORD.
 */
export function splitConnectionUrl(url: string): { dbname: string; password: string | undefined } {
  const parsed = new URL(url)
  let password = parsed.password ? decodeURIComponent(parsed.password) : undefined
  parsed.password = ''
  const fromQuery = parsed.searchParams.get('password')
  if (fromQuery !== null) {
    password = fromQuery
    parsed.searchParams.delete('password')
  }
  return { dbname: parsed.toString(), password }
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** pg_dump on PATH first, then the versioned install folders, newest first. */
export async function listPgDumpCandidates(env: NodeJS.ProcessEnv): Promise<string[]> {
  const found: string[] = []
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir) found.push(join(dir, 'pg_dump'))
  }
  const versioned = async (root: string, prefix: string, suffix: string) => {
    const names = await readdir(root).catch(() => [] as string[])
    return names
      .filter((n) => n.startsWith(prefix) && /^\d+/.test(n.slice(prefix.length)))
      .sort((a, b) => Number.parseFloat(b.slice(prefix.length)) - Number.parseFloat(a.slice(prefix.length)))
      .map((n) => join(root, n, suffix))
  }
  found.push(...(await versioned('/usr/lib/postgresql', '', 'bin/pg_dump')))
  found.push(...(await versioned('/usr', 'pgsql-', 'bin/pg_dump')))
  const unique: string[] = []
  const seen = new Set<string>()
  for (const path of found) {
    if (!(await isExecutable(path))) continue
    const real = await realpath(path).catch(() => path)
    if (seen.has(real)) continue
    seen.add(real)
    unique.push(path)
  }
  return unique
}

export function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
    child.once('error', fail)
    child.once('close', (code) =>
      done({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    )
  })
}

export async function readPgDumpVersion(
  path: string,
  env: NodeJS.ProcessEnv,
): Promise<PgDumpTool | undefined> {
  try {
    const result = await run(path, ['--version'], env)
    const parsed = result.code === 0 ? parsePgDumpVersion(result.stdout) : undefined
    return parsed ? { path, ...parsed, restorePath: join(dirname(path), 'pg_restore') } : undefined
  } catch {
    return undefined
  }
}

/** The first pg_dump whose major version is at least the server's, or why there is none. */
export async function findPgDump(options: {
  serverVersionNum: number
  pgDumpPath?: string
  env: NodeJS.ProcessEnv
}): Promise<{ tool: PgDumpTool } | { reason: string }> {
  const major = serverMajor(options.serverVersionNum)
  const candidates = options.pgDumpPath ? [options.pgDumpPath] : await listPgDumpCandidates(options.env)
  const seen: string[] = []
  for (const path of candidates) {
    const tool = await readPgDumpVersion(path, options.env)
    if (!tool) continue
    if (tool.major < major) seen.push(`${tool.path} is ${tool.version}`)
    else if (!(await isExecutable(tool.restorePath))) seen.push(`${tool.path} has no pg_restore beside it`)
    else return { tool }
  }
  const found = seen.length > 0 ? seen.join(', ') : 'none found'
  return { reason: `no pg_dump ${major} or newer for this PostgreSQL ${major} server (${found})` }
}

/**
 * Makes pg_dump's plain output load with any client into an empty database:
 * no psql meta-commands (`\restrict` keys), CREATE SCHEMA that tolerates an existing
 * schema, and the built-in `public` schema left alone (it exists, maybe not ours to alter).
 */
export function cleanPgDumpOutput(text: string): string {
  const toc = (name: string, type: string) =>
    `(--\\n-- Name: ${name}; Type: ${type}; Schema: -; Owner: [^\\n]*\\n--\\n\\n)`
  return text
    .replace(/^\\(?:un)?restrict [A-Za-z0-9]+\n/gm, '')
    .replace(
      new RegExp(`${toc('[^\\n]*', 'SCHEMA')}CREATE SCHEMA ([^\\n]*);\\n`, 'g'),
      (_m, head: string, name: string) =>
        name === 'public'
          ? `${head}-- public exists in every database.\n`
          : `${head}CREATE SCHEMA IF NOT EXISTS ${name};\n`,
    )
    .replace(
      new RegExp(
        `${toc('SCHEMA public', 'COMMENT')}COMMENT ON SCHEMA public IS 'standard public schema';\\n`,
        'g',
      ),
      '$1-- (the default comment of public)\n',
    )
}

/**
 * Entries of a dump's table of contents (`pg_restore --list`) that schema.sql leaves
 * out: privileges and default privileges, which its access part writes absolutely
 * (pg_dump's are relative to the built-in defaults, and need a superuser where another
 * role granted them or holds the defaults).
 */
export function keepTocEntry(line: string): boolean {
  return !/^\d+; \d+ \d+ (ACL|DEFAULT ACL) /.test(line)
}

async function runOk(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  const result = await run(command, args, env)
  if (result.code !== 0) {
    const name = command.split('/').at(-1)
    throw new Error(`${name} exited with ${result.code}: ${result.stderr.trim().slice(0, 2000)}`)
  }
  return result.stdout
}

/**
 * `pg_dump --schema-only --format=custom` into a private temporary folder, then
 * pg_restore writes each section as SQL, without the entries `keepTocEntry` drops.
 */
export async function dumpSchemaSections(
  tool: PgDumpTool,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ preData: string; postData: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-schema-'))
  try {
    const archive = join(dir, 'schema.dump')
    await runOk(tool.path, ['--schema-only', '--format=custom', `--file=${archive}`, ...args], env)
    const toc = await runOk(tool.restorePath, ['--list', archive], env)
    const list = join(dir, 'toc.list')
    await writeFile(list, `${toc.split('\n').filter(keepTocEntry).join('\n')}\n`)
    const section = (name: string) =>
      runOk(tool.restorePath, [`--section=${name}`, `--use-list=${list}`, '--file=-', archive], env)
    return {
      preData: cleanPgDumpOutput(await section('pre-data')),
      postData: cleanPgDumpOutput(await section('post-data')),
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
