// `npm run backup:drill` end to end, as the monthly workflow runs it: a backup made by
// the real backup job in the S3 API server, restored into a throwaway PostgreSQL (or a
// staging database), proven, timed, reported to drills/ and through the alert path.
import { execFileSync } from 'node:child_process'
import { createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { generateIdentity, identityToRecipient } from 'age-encryption'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startThrowawayPostgres } from '../../lib/adapters/postgres/throwaway.ts'
import { timeOfBackupId } from '../../lib/archive/layout.ts'
import { qualifiedName } from '../../lib/archive/manifest.ts'
import { runDrill } from '../../lib/drills/drill.ts'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'
import { alertEnv, type HttpReceiver, startSlackReceiver } from '../helpers/receivers.ts'
import { reportSchemaProblems } from '../helpers/report-schema.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { type BackedUpSource, backedUpSource, readReport, stateEnv, tempDir } from './drill-fixtures.ts'
import { restoreDeps } from './restore-fixtures.ts'

let source: BackedUpSource
let slack: HttpReceiver
const databases: string[] = []

beforeAll(async () => {
  source = await backedUpSource('drill_src')
  databases.push(source.db.name)
})
afterAll(async () => {
  await Promise.all(databases.map(dropDatabase))
})
beforeEach(async () => {
  slack = await startSlackReceiver()
})
afterEach(async () => {
  await slack.close()
})

function drillEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { ...source.env, ...alertEnv({ slack }), ...stateEnv(), ...extra }
}

describe('backup:drill', () => {
  it('restores a random recent backup into a throwaway PostgreSQL and reports it field by field', async () => {
    const summary = join(tempDir('summary'), 'summary.md')
    const run = await runJobProcess(
      'drill',
      ['--json', '--seed', 'monthly'],
      drillEnv({ GITHUB_STEP_SUMMARY: summary }),
    )
    expect(run.code, run.stderr).toBe(0)
    const id = String(run.json!.id)
    expect(id).toMatch(/^drill-\d{4}-\d{2}-\d{2}T\d{6}Z$/)

    // The stored report, read back from the store.
    const report = await readReport(source.store, id)
    const { manifest } = source
    expect(report.format).toBe(1)
    expect(report.kind).toBe('drill')
    expect(report.id).toBe(id)
    expect(report.tool).toEqual({ name: 'lifeboat', version: expect.any(String) })
    expect(report.backupId).toBe(source.backupId)
    expect(report.backupTime).toBe(timeOfBackupId(source.backupId)!.toISOString())
    expect(report.pick).toEqual({ method: 'random', seed: 'monthly', windowDays: 30, candidates: 1 })
    expect(Date.parse(report.startedAt)).toBeLessThanOrEqual(Date.parse(report.finishedAt))
    expect(report.target).toEqual({
      kind: 'throwaway',
      host: '127.0.0.1',
      port: expect.any(Number),
      database: 'lifeboat_drill',
    })
    const { phases } = report
    for (const phase of ['prepare', 'download', 'verify', 'load', 'verifyTables', 'postChecks'] as const) {
      expect(phases[phase], phase).toBeGreaterThan(0)
    }
    const parts =
      phases.prepare! +
      phases.download! +
      phases.verify! +
      phases.load! +
      phases.verifyTables! +
      phases.postChecks!
    expect(phases.total).toBeGreaterThanOrEqual(parts - 0.01)
    expect(report.rto).toEqual({ targetSeconds: 14_400, measuredSeconds: phases.total, met: true })
    expect(report.rpo).toBeNull()
    expect(report.projection).toEqual({
      productionBackupId: source.backupId,
      productionBytes: manifest.totals.bytes,
      restoredBytes: manifest.totals.bytes,
      throughputBytesPerSecond: expect.any(Number),
      projectedSeconds: phases.total,
      met: true,
    })
    expect(report.sizes).toEqual({
      tables: manifest.totals.tables,
      rows: manifest.totals.rows,
      dataBytes: manifest.totals.bytes,
      archiveBytes: manifest.archive!.bytes,
    })
    expect(report.tables).toEqual(
      manifest.tables.map((t) => ({
        table: qualifiedName(t),
        rowsExpected: t.rows,
        rowsRestored: t.rows,
        sha256Match: true,
      })),
    )
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ['archive', true],
      ['tables', true],
      ['foreign keys', true],
      ['sequences', true],
    ])
    expect(report.checks.find((c) => c.name === 'sequences')!.detail).toMatch(
      /^\d+ sequences hand out ids above/,
    )
    expect(report.checks.find((c) => c.name === 'foreign keys')!.detail).toMatch(
      /^\d+ foreign keys present and validated/,
    )
    expect(report.outcome).toBe('success')
    expect(report.warnings).toEqual([])
    expect(report.failedTables).toEqual([])
    expect(report.recommendation).toMatch(/^RTO_TARGET could be tightened to/)
    expect(report.error).toBeNull()
    expect(reportSchemaProblems(report)).toEqual([])
    // --json prints the same report.
    expect(run.json).toMatchObject({ ok: true, job: 'drill', ...report })

    // Markdown in the GitHub job summary; the success went through the alert path.
    const markdown = readFileSync(summary, 'utf8')
    expect(markdown).toContain(`## Restore drill passed: ${source.backupId}`)
    expect(markdown).toContain('| public.organizations | 20 | 20 | match |')
    expect(slack.requests).toHaveLength(1)
    expect(JSON.stringify(slack.requests[0]!.json)).toContain(source.backupId)
    // It started its own cluster (and stops it in a finally).
    expect(run.stderr).toContain('starting a throwaway PostgreSQL')
  })

  it('warns, and exits 0, when the restore passes but takes longer than a tiny RTO target', async () => {
    const run = await runJobProcess(
      'drill',
      ['--backup', source.backupId],
      drillEnv({ RTO_TARGET: '0.001s' }),
    )
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('## Restore drill passed with warnings')
    expect(run.stdout).toContain('**exceeded**')
    const id = /`(drill-[^`]+)`/.exec(run.stdout)![1]!
    const report = await readReport(source.store, id)
    expect(report.outcome).toBe('warning')
    expect(report.pick.method).toBe('forced')
    expect(report.tables.every((t) => t.sha256Match)).toBe(true)
    expect(report.rto).toMatchObject({ targetSeconds: 0.001, met: false })
    expect(report.warnings[0]).toMatch(
      /^RTO exceeded: the restore took .* more than the RTO target of 0\.001 s/,
    )
    expect(report.recommendation).toMatch(/^Raise RTO_TARGET to at least/)
    await slack.waitFor(1)
    const alert = JSON.stringify(slack.requests[0]!.json)
    expect(alert).toMatch(/warning/i)
    expect(alert).toContain('RTO exceeded')
  })

  it('restores into an empty staging database (STAGING_DATABASE_URL), creating the schema', async () => {
    const staging = await createDatabase('drill_staging')
    databases.push(staging.name)
    const run = await runJobProcess('drill', ['--json'], drillEnv({ STAGING_DATABASE_URL: staging.url }))
    expect(run.code, run.stderr).toBe(0)
    expect(run.json).toMatchObject({
      outcome: 'success',
      target: { kind: 'staging', host: new URL(staging.url).hostname, database: staging.name },
    })
    const rows = await sql(staging.url, 'SELECT count(*)::int AS n FROM public.metrics')
    expect(rows.rows[0].n).toBe(300)
  })

  it('refuses the backup source as staging, with exit 2 and nothing written', async () => {
    const before = await sql(source.db.url, 'SELECT count(*)::int AS n FROM public.metrics')
    const run = await runJobProcess(
      'drill',
      [],
      drillEnv({ STAGING_DATABASE_URL: source.db.url, DATABASE_URL: '' }),
    )
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('TARGET_PROTECTED')
    expect(run.stderr).toContain('a drill never restores into production')
    expect(run.stderr).toContain('it is the database this backup was taken from')
    const after = await sql(source.db.url, 'SELECT count(*)::int AS n FROM public.metrics')
    expect(after.rows[0].n).toBe(before.rows[0].n)
  })
})

describe('an encrypted backup', () => {
  it('is drilled with the age identity, which the backup runner never had', async () => {
    const identity = await generateIdentity()
    const encrypted = await backedUpSource('drill_age', {
      BACKUP_AGE_RECIPIENTS: await identityToRecipient(identity),
    })
    databases.push(encrypted.db.name)
    expect(encrypted.manifest.encrypted).toBe(true)
    const staging = await createDatabase('drill_age_staging')
    databases.push(staging.name)
    const env = { ...encrypted.env, ...stateEnv(), STAGING_DATABASE_URL: staging.url }

    const without = await runJobProcess('drill', [], env)
    expect(without.code).toBe(1)
    expect(without.stderr).toContain('DECRYPT_FAILED')

    const run = await runJobProcess('drill', ['--json'], { ...env, BACKUP_AGE_IDENTITY: identity })
    expect(run.code, run.stderr).toBe(0)
    expect(run.json).toMatchObject({ outcome: 'success', backupId: encrypted.backupId })
    expect(run.stdout).not.toContain(identity)
  })
})

describe('a corrupted backup', () => {
  let broken: BackedUpSource

  beforeAll(async () => {
    broken = await backedUpSource('drill_broken')
    databases.push(broken.db.name)
    await alterDataFile(broken, 'data/public.devices.ndjson')
  })

  it('fails the drill (exit 1), alerts, and reports which table failed', async () => {
    const env = { ...broken.env, ...alertEnv({ slack }), ...stateEnv() }
    const run = await runJobProcess('drill', ['--seed', 'x'], env)
    expect(run.code, run.stderr).toBe(1)
    expect(run.stderr).toContain('DRILL_FAILED')
    expect(run.stderr).toContain('failed tables: public.devices')
    expect(run.stdout).toContain('## Restore drill FAILED')
    expect(run.stdout).toContain('**Failed tables:** `public.devices`')

    const id = /`(drill-[^`]+)`/.exec(run.stdout)![1]!
    const report = await readReport(broken.store, id)
    expect(report.outcome).toBe('failure')
    expect(report.backupId).toBe(broken.backupId)
    expect(report.failedTables).toEqual(['public.devices'])
    expect(report.error!.code).toBe('VERIFY_FAILED')
    expect(report.error!.message).toContain('data/public.devices.ndjson')
    expect(report.rto).toEqual({ targetSeconds: 14_400, measuredSeconds: null, met: null })
    expect(report.tables.find((t) => t.table === 'public.devices')).toEqual({
      table: 'public.devices',
      rowsExpected: expect.any(Number),
      rowsRestored: null,
      sha256Match: null,
    })
    expect(reportSchemaProblems(report)).toEqual([])

    await slack.waitFor(1)
    const alert = JSON.stringify(slack.requests[0]!.json)
    expect(alert).toContain('DRILL_FAILED')
    expect(alert).toContain('public.devices')
    expect(alert).toContain(broken.backupId)
  })
})

describe("the drill's measured time", () => {
  it('ends with the post-checks: removing the scratch cluster is not restore time', async () => {
    const teardownSeconds = 3
    const run = await runDrill(
      {
        ...restoreDeps(source.store),
        store: source.store,
        clock: () => new Date(),
        startThrowaway: async () => {
          const cluster = await startThrowawayPostgres()
          // A cluster that takes its time to go away, as a big one does.
          return { ...cluster, stop: () => sleep(teardownSeconds * 1000).then(cluster.stop) }
        },
      },
      {
        kind: 'drill',
        backup: source.backupId,
        days: 30,
        target: { kind: 'throwaway' },
        rtoTargetSeconds: 14_400,
        production: [],
      },
    )
    expect(run.error).toBeUndefined()
    const { report } = run
    const wallSeconds = (Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000
    expect(wallSeconds - report.phases.total).toBeGreaterThanOrEqual(teardownSeconds - 0.05)
    expect(report.rto.measuredSeconds).toBe(report.phases.total)
    expect(report.projection?.projectedSeconds).toBe(report.phases.total)
  })
})

/** Re-uploads the stored archive with one line of one data file changed, in the same tar order. */
async function alterDataFile(target: BackedUpSource, file: string): Promise<void> {
  const key = `database-backups/${target.backupId}.tar.gz`
  const dir = tempDir('corrupt')
  const original = join(dir, 'original.tar.gz')
  await pipeline(await target.store.get(key), createWriteStream(original))
  const entries = execFileSync('tar', ['-tzf', original]).toString().trim().split('\n')
  const extracted = join(dir, 'x')
  execFileSync('mkdir', ['-p', extracted])
  execFileSync('tar', ['-xzf', original, '-C', extracted])
  const path = join(extracted, target.backupId, file)
  const lines = readFileSync(path, 'utf8').split('\n')
  // One character more inside the first text value: still valid NDJSON, another sha256.
  lines[0] = lines[0]!.replace('":"', '":"X')
  writeFileSync(path, lines.join('\n'))
  const altered = join(dir, 'altered.tar.gz')
  execFileSync('tar', ['-czf', altered, '-C', extracted, '--no-recursion', ...entries])
  await target.store.put(key, createReadStream(altered))
}
