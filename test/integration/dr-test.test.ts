// `npm run dr:test` from nothing but the store and credentials: the newest backup into
// a new empty database, verified, smoke-checked, with RPO and RTO achieved reported.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, dropDatabase, serverUrl, sql } from '../helpers/database.ts'
import { reportSchemaProblems } from '../helpers/report-schema.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { type BackedUpSource, backedUpSource, readReport, stateEnv, tempDir } from './drill-fixtures.ts'

const CHECKS = `-- Smoke checks: what the application needs to work after a disaster.

-- every organization kept its settings
SELECT NOT EXISTS (
  SELECT 1 FROM organizations o
  LEFT JOIN organization_settings s ON s.organization_id = o.id
  WHERE s.organization_id IS NULL
);

-- the users can sign in (auth schema restored)
SELECT count(*) = 200 FROM auth.users;

-- every device reaches its organization through its building
SELECT count(*) = (SELECT count(*) FROM public.devices)
  FROM public.devices d
  JOIN public.buildings b ON b.id = d.building_id
  JOIN public.organizations o ON o.id = b.organization_id;
`

let source: BackedUpSource
const databases: string[] = []

beforeAll(async () => {
  source = await backedUpSource('drtest_src')
  databases.push(source.db.name)
})
afterAll(async () => {
  await Promise.all(databases.map(dropDatabase))
})

function checksFile(text: string): string {
  const path = join(tempDir('checks'), 'smoke.sql')
  writeFileSync(path, text)
  return path
}

describe('dr:test', () => {
  it('goes from an empty database to passing smoke checks, reporting RPO and RTO achieved', async () => {
    const empty = await createDatabase('drtest_empty')
    databases.push(empty.name)
    const env = {
      ...source.env,
      ...stateEnv(),
      DR_TEST_DATABASE_URL: empty.url,
      DR_TEST_CHECKS: checksFile(CHECKS),
    }
    const run = await runJobProcess('dr-test', ['--json'], env)
    expect(run.code, run.stderr).toBe(0)
    const report = await readReport(source.store, String(run.json!.id))
    expect(report.kind).toBe('dr-test')
    expect(report.id).toMatch(/^dr-test-\d{4}-\d{2}-\d{2}T\d{6}Z$/)
    expect(report.backupId).toBe(source.backupId)
    expect(report.pick).toEqual({ method: 'newest', seed: null, windowDays: null, candidates: 1 })
    expect(report.target).toMatchObject({ kind: 'staging', database: empty.name })
    expect(report.outcome).toBe('success')
    expect(report.rpo!.targetSeconds).toBe(86_400)
    expect(report.rpo!.met).toBe(true)
    // The backup was taken moments ago: its age at restore is seconds, not hours.
    expect(report.rpo!.achievedSeconds).toBeGreaterThanOrEqual(0)
    expect(report.rpo!.achievedSeconds).toBeLessThan(300)
    expect(report.rto.met).toBe(true)
    expect(report.rto.measuredSeconds).toBe(report.phases.total)
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ['archive', true],
      ['tables', true],
      ['foreign keys', true],
      ['sequences', true],
      ['smoke: every organization kept its settings', true],
      ['smoke: the users can sign in (auth schema restored)', true],
      ['smoke: every device reaches its organization through its building', true],
    ])
    expect(report.tables.every((t) => t.sha256Match && t.rowsRestored === t.rowsExpected)).toBe(true)
    expect(reportSchemaProblems(report)).toEqual([])
    // The database that was empty now holds the backup.
    const users = await sql(empty.url, 'SELECT count(*)::int AS n FROM auth.users')
    expect(users.rows[0].n).toBe(200)
  })

  it('fails (exit 1) when a smoke check returns false, naming the check', async () => {
    const empty = await createDatabase('drtest_fail')
    databases.push(empty.name)
    const env = {
      ...source.env,
      ...stateEnv(),
      DR_TEST_DATABASE_URL: empty.url,
      DR_TEST_CHECKS: checksFile(
        `${CHECKS}\n-- the impossible\nSELECT count(*) = 0 FROM public.organizations;\n`,
      ),
    }
    const run = await runJobProcess('dr-test', [], env)
    expect(run.code, run.stderr).toBe(1)
    expect(run.stderr).toContain('DRILL_FAILED')
    expect(run.stderr).toContain('smoke: the impossible: returned false')
    expect(run.stdout).toContain('## Disaster-recovery test FAILED')
    expect(run.stdout).toContain('| smoke: the impossible | **FAILED** | returned false |')
  })

  it('creates a fresh database on the staging server when given one, and drops it afterwards', async () => {
    const env = { ...source.env, ...stateEnv(), STAGING_DATABASE_URL: serverUrl(), RPO_HOURS: '1' }
    const run = await runJobProcess('dr-test', ['--json', '--checks', checksFile(CHECKS)], env)
    expect(run.code, run.stderr).toBe(0)
    const report = await readReport(source.store, String(run.json!.id))
    expect(report.target!.kind).toBe('new-database')
    expect(report.target!.database).toMatch(/^lifeboat_dr_test_/)
    expect(report.rpo!.targetSeconds).toBe(3600)
    const left = await sql(serverUrl(), 'SELECT count(*)::int AS n FROM pg_database WHERE datname = $1', [
      report.target!.database,
    ])
    expect(left.rows[0].n).toBe(0)
  })

  it('reviews access: stores the review the stack publishes and reports what changed since the last one', async () => {
    const review = (trusts: string[]) =>
      JSON.stringify({
        version: 1,
        stack: 'prod',
        bucket: 'arn:aws:s3:::acme-lifeboat-backups',
        principals: [
          {
            name: 'writer',
            kind: 'role',
            arn: 'arn:aws:iam::123456789012:role/lifeboat-prod-writer',
            trusts,
            allows: [
              {
                sid: 'PutBackups',
                actions: ['s3:PutObject'],
                resources: ['arn:aws:s3:::acme-lifeboat-backups/*'],
              },
            ],
            denies: [],
          },
        ],
      })
    const subject =
      'repo:acme/lifeboat:environment:production:job_workflow_ref:acme/lifeboat/.github/workflows/backup.yml@refs/heads/main'
    const env = { ...source.env, ...stateEnv(), STAGING_DATABASE_URL: serverUrl(), RPO_HOURS: '1' }
    const first = await runJobProcess('dr-test', ['--json', '--checks', checksFile(CHECKS)], {
      ...env,
      LIFEBOAT_ACCESS_REVIEW: review([subject]),
    })
    expect(first.code, first.stderr).toBe(0)
    const firstReport = await readReport(source.store, String(first.json!.id))
    expect(firstReport.accessReview).toMatchObject({ previousKey: null, changes: [] })
    expect(firstReport.accessReview!.key).toMatch(
      /^drills\/access-review-\d{4}-\d{2}-\d{2}T\d{6}Z(-\d+)?\.json$/,
    )
    expect(firstReport.outcome).toBe('success')
    expect(reportSchemaProblems(firstReport)).toEqual([])

    // A second subject crept into the writer's trust policy: the next DR test says so.
    const widened = await runJobProcess('dr-test', ['--checks', checksFile(CHECKS)], {
      ...env,
      LIFEBOAT_ACCESS_REVIEW: review([subject, 'repo:acme/lifeboat:pull_request']),
    })
    expect(widened.code, widened.stderr).toBe(0)
    expect(widened.stdout).toContain('## Access review: arn:aws:s3:::acme-lifeboat-backups (stack prod)')
    expect(widened.stdout).toContain('**writer now trusts repo:acme/lifeboat:pull_request**')
    expect(widened.stdout).toContain('access review: 1 change since the last review')
    const stored = (await source.store.list('drills/access-review-')).map((o) => o.key)
    expect(stored).toHaveLength(2)
    expect(stored).toContain(firstReport.accessReview!.key)
  })

  it('refuses a published access review that is not one before touching anything (exit 2)', async () => {
    const env = { ...source.env, ...stateEnv(), LIFEBOAT_ACCESS_REVIEW: '{"principals": "everyone"}' }
    const run = await runJobProcess('dr-test', [], env)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('LIFEBOAT_ACCESS_REVIEW is not an access review')
  })

  it('refuses a broken checks file before touching anything (exit 2)', async () => {
    const env = { ...source.env, ...stateEnv(), DR_TEST_CHECKS: checksFile("SELECT 'unclosed;") }
    const run = await runJobProcess('dr-test', [], env)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('CONFIG_INVALID')
    expect(run.stderr).toContain('is never closed')
  })
})
