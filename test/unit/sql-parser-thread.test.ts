// The SQL parser's thread is started early (while a restore checks its target, while a
// backup's pg_dump runs) and used later: it must parse when asked, stay open for its
// owner, and never keep a finished job's process alive.
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { openSqlParser, SqlParseError } from '../../lib/trust/sql-parser-thread.ts'
import { splitSqlScript } from '../../lib/trust/sql-script.ts'

const run = promisify(execFile)

describe('a parser started before it is needed', () => {
  it('parses two scripts it is handed and stays open for its owner', async () => {
    const parser = openSqlParser()
    try {
      const first = await splitSqlScript('CREATE TABLE a (id int);\nCREATE INDEX ON a (id);\n', parser)
      const second = await splitSqlScript('CREATE SCHEMA s;\n', parser)
      expect(first.statements.map((s) => s.type)).toEqual(['CreateStmt', 'IndexStmt'])
      expect(second.statements.map((s) => s.type)).toEqual(['CreateSchemaStmt'])
    } finally {
      await parser.close()
    }
  })

  it('reports a statement that does not parse with where it stopped', async () => {
    const parser = openSqlParser()
    try {
      const error = await parser.parse('CREATE TABLE (;').catch((e: unknown) => e)
      expect(error).toBeInstanceOf(SqlParseError)
      expect((error as SqlParseError).cursorPosition).toBeGreaterThan(0)
    } finally {
      await parser.close()
    }
  })

  it('never keeps a process alive when it was started and not used', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'parser-thread-'))
    const script = join(folder, 'start.mjs')
    const module = new URL('../../lib/trust/sql-parser-thread.ts', import.meta.url).href
    // Started, ready, never asked: the process ends on its own, without close().
    await writeFile(
      script,
      `const { openSqlParser } = await import(${JSON.stringify(module)})\nconst parser = openSqlParser()\nawait new Promise((done) => setTimeout(done, 2000))\nconsole.log('started')\n`,
    )
    try {
      const began = performance.now()
      const { stdout } = await run(process.execPath, ['--import', 'tsx', script], { timeout: 20_000 })
      expect(stdout.trim()).toBe('started')
      expect(performance.now() - began).toBeLessThan(15_000)
    } finally {
      await rm(folder, { recursive: true, force: true })
    }
  })
})
