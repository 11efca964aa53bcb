// `npm run backup:report` over real history: a backup by the backup job, two drills by
// the drill job, then the Markdown tables and a chart file that is a valid SVG image.
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, dropDatabase } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { parseSvg } from '../helpers/svg.ts'
import { type BackedUpSource, backedUpSource, stateEnv, tempDir } from './drill-fixtures.ts'

let source: BackedUpSource
const drills: string[] = []
const databases: string[] = []

beforeAll(async () => {
  source = await backedUpSource('report_src')
  databases.push(source.db.name)
  // Two real drills into staging databases: one within the RTO, one over a tiny target.
  for (const rto of ['4h', '0.001s']) {
    const staging = await createDatabase('report_staging')
    databases.push(staging.name)
    const run = await runJobProcess('drill', ['--json'], {
      ...source.env,
      ...stateEnv(),
      STAGING_DATABASE_URL: staging.url,
      RTO_TARGET: rto,
    })
    expect(run.code, run.stderr).toBe(0)
    drills.push(String(run.json!.id))
  }
  // One failed backup run, recorded by the audit trail.
  const failed = await runJobProcess('backup', [], {
    ...source.env,
    ...stateEnv(),
    DATABASE_URL: `${source.db.url.replace(/\/[^/?]*$/, '')}/no_such_database`,
  })
  expect(failed.code, failed.stderr).toBe(1)
})
afterAll(async () => {
  await Promise.all(databases.map(dropDatabase))
})

describe('backup:report', () => {
  it('prints the history as Markdown and writes a chart that is a valid SVG image', async () => {
    const out = join(tempDir('report'), 'charts', 'history.svg')
    const markdownFile = join(tempDir('report'), 'history.md')
    const run = await runJobProcess('report', ['--out', out, '--markdown', markdownFile], source.env)
    expect(run.code, run.stderr).toBe(0)

    expect(statSync(out).size).toBeGreaterThan(1000)
    const svg = parseSvg(readFileSync(out, 'utf8'))
    expect(svg.count('g', 'backup')).toBe(1)
    expect(svg.count('g', 'drill')).toBe(2)
    expect(svg.count('path', 'rto-target')).toBe(1)
    expect(svg.count('g', 'failed-run')).toBe(1)

    const markdown = run.stdout
    expect(readFileSync(markdownFile, 'utf8')).toBe(markdown)
    expect(markdown).toContain('## Lifeboat history')
    expect(markdown).toContain('1 complete backup, 1 failed run, 2 drills and DR tests')
    expect(markdown).toMatch(
      /### Failed runs\n\n\| when \(UTC\) \| job \| error \| message \|\n.*\n\| [\d-]+ [\d:]+ \| backup \| DB_NOT_FOUND \| the database at .*no_such_database does not exist \|/,
    )
    expect(markdown).toMatch(
      /### Store footprint\n\n.*\n.*\n\| current \| \d+ \| [\d.]+ KiB \| 0\.\d\d USD \|/,
    )
    // s3rver does not implement ListObjectVersions; a real bucket answers it (test/integration/s3-versions.test.ts).
    expect(markdown).toMatch(
      /Noncurrent versions: unknown: cannot list the versions in s3:\/\/.*MethodNotAllowed/,
    )
    expect(markdown).toContain(`| \`${source.backupId}\` |`)
    for (const id of drills) expect(markdown).toContain(`| \`${id}\` | drill |`)
    expect(markdown).toMatch(/\| success \| [\d.]+ s \| 4 h \| met \|/)
    expect(markdown).toMatch(/\| warning \| [\d.]+ s \| 0\.001 s \| \*\*exceeded\*\* \|/)
  })

  it('--json gives the same history to machines', async () => {
    const out = join(tempDir('report'), 'lifeboat-report.svg')
    const run = await runJobProcess('report', ['--json', '--out', out], {
      ...source.env,
      STORAGE_PRICE_GB_MONTH: '1024',
      STORAGE_PRICE_CURRENCY: 'EUR',
    })
    expect(run.code, run.stderr).toBe(0)
    const json = run.json as {
      backups: { id: string; rows: number }[]
      drills: { id: string }[]
      chart: string
    }
    expect(json.chart).toBe(out)
    expect(json.backups).toEqual([
      expect.objectContaining({ id: source.backupId, rows: source.manifest.totals.rows }),
    ])
    expect(json.drills.map((d) => d.id)).toEqual(drills)
    const { footprint, cost } = run.json as {
      footprint: { current: { objects: number; bytes: number }; noncurrent?: unknown }
      cost: { currency: string; current: number; total: number }
    }
    expect(footprint.current.objects).toBeGreaterThanOrEqual(5)
    expect(footprint.noncurrent).toBeUndefined()
    // 1024 per GiB-month is one per MiB-month: the cost is the size in MiB.
    expect(cost).toMatchObject({ currency: 'EUR', current: footprint.current.bytes / 1024 ** 2 })
    expect(cost.total).toBe(cost.current)
  })
})
