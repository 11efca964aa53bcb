// Progress of a real backup of a multi-million-row table: under a pseudo-terminal one
// line redrawn in place, fitting the terminal, with a share and a time left that move;
// piped (as in CI), a plain line per running phase at the configured interval.
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'

const ROWS = 3_000_000
const COLUMNS = 60
let db: { name: string; url: string }

beforeAll(async () => {
  db = await createDatabase('progress')
  await sql(
    db.url,
    `CREATE TABLE public.readings AS
       SELECT g AS id, md5(g::text) AS sensor, g % 1000 AS value FROM generate_series(1, ${ROWS}) g;
     ALTER TABLE public.readings ADD PRIMARY KEY (id);
     CREATE TABLE public.sites AS SELECT g AS id FROM generate_series(1, 10) g;
     ANALYZE;`,
  )
}, 300_000)
afterAll(async () => dropDatabase(db.name))

function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'TMPDIR']
  return Object.fromEntries(keep.flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])))
}

function backupArgs(): string[] {
  return [
    '--import',
    'tsx',
    'jobs/backup.ts',
    '--compress',
    '1',
    '--store',
    mkdtempSync(join(resolve('.tmp'), 'progress-')),
  ]
}

/** Runs a command, keeping each chunk of output with the time it arrived. */
function run(command: string, args: string[], env: Record<string, string>, stream: 'stdout' | 'stderr') {
  return new Promise<{ code: number; chunks: { at: number; text: string }[] }>((done) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    const chunks: { at: number; text: string }[] = []
    child[stream].on('data', (data: Buffer) => chunks.push({ at: Date.now(), text: data.toString() }))
    child.on('close', (code) => done({ code: code ?? 1, chunks }))
  })
}

describe('a backup of a 3-million-row table', () => {
  it('under a pseudo-terminal redraws one line with a share and an ETA that move, never wider than the terminal', async () => {
    const quoted = ['node', ...backupArgs()].map((a) => `'${a}'`).join(' ')
    const { code, chunks } = await run(
      'script',
      ['-qfec', `stty cols ${COLUMNS} rows 24; exec ${quoted}`, '/dev/null'],
      { ...baseEnv(), DATABASE_URL: db.url, TERM: 'xterm' },
      'stdout',
    )
    const output = chunks.map((c) => c.text).join('')
    expect(code, output.slice(-2000)).toBe(0)
    expect(output).toContain('\r\x1b[2K')
    const drawn = output
      .split(/\r\x1b\[2K|\r?\n/)
      .filter((s) => s.startsWith('export '))
      .map((s) => s.replace(/\r$/, ''))
    const shares = drawn.flatMap((s) => /^export (\d+)%/.exec(s)?.[1] ?? []).map(Number)
    const etas = new Set(drawn.flatMap((s) => / ETA (\S+)/.exec(s)?.[1] ?? []))
    expect(new Set(shares).size, drawn.join('\n')).toBeGreaterThanOrEqual(3)
    expect(shares).toEqual([...shares].sort((a, b) => a - b))
    expect(etas.size).toBeGreaterThanOrEqual(2)
    for (const line of drawn) expect([...line].length).toBeLessThan(COLUMNS)
    expect(output).toMatch(/public\.readings: 3,000,000 rows, [\d.]+ MiB in [\d.]+ s/)
  }, 240_000)

  it('piped prints a plain progress line at least every interval', async () => {
    const interval = 2
    const { code, chunks } = await run(
      process.execPath,
      backupArgs(),
      { ...baseEnv(), DATABASE_URL: db.url, CI: 'true', LIFEBOAT_PROGRESS_INTERVAL: String(interval) },
      'stderr',
    )
    const lines = chunks.flatMap((c) =>
      c.text
        .split('\n')
        .filter(Boolean)
        .map((text) => ({ at: c.at, text })),
    )
    expect(code, lines.map((l) => l.text).join('\n')).toBe(0)
    expect(lines.map((l) => l.text).join('\n')).not.toContain('\r')
    const start = lines.find((l) => l.text.startsWith('export: started'))!
    // The catalog's estimate (reltuples after ANALYZE), close to the 3,000,010 rows.
    const estimate = Number(
      /^export: started \(2 tables, ~([\d,]+) rows\)$/.exec(start.text)?.[1]?.replaceAll(',', ''),
    )
    expect(Math.abs(estimate - 3_000_010)).toBeLessThan(30_000)
    const done = lines.find((l) => l.text.startsWith('export done'))!
    const progress = lines.filter((l) => l.text.startsWith('export: '))
    expect(progress.length).toBeGreaterThanOrEqual(2)
    const moving = progress.find((l) => l.text.includes('rows/s'))
    expect(moving?.text, lines.map((l) => l.text).join('\n')).toMatch(
      /^export: \d+% \([\d,]+ of ~[\d,]+ rows\), [\d,]+ rows\/s, ETA \S+, \d+ s elapsed/,
    )
    // Between the start of the export and its end, no silence longer than the interval
    // (plus the slack of a shared, busy machine): well within the 10 s CI promises.
    const times = [start.at, ...progress.map((l) => l.at), done.at]
    const gaps = times.slice(1).map((t, i) => t - times[i]!)
    expect(
      Math.max(...gaps),
      `gaps ${gaps.join(', ')} ms:\n${lines.map((l) => `${l.at} ${l.text}`).join('\n')}`,
    ).toBeLessThanOrEqual(interval * 1000 + 3000)
  }, 240_000)
})
