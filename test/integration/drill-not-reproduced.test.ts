// A drill over a backup whose schema step could not reproduce everything is not a clean
// pass (issue 12, "no silent structural loss"): the source has a whole-schema publication
// membership and an event trigger, which the backup lists in manifest.schemaSql.omitted;
// `npm run backup:drill` (real PostgreSQL, the S3 API server) then passes with warnings
// that name them, in its exit, JSON, stored report, Markdown and alert, whether it creates
// the schema (throwaway) or restores into a staging database that has it.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import type { Manifest } from '../../lib/archive/manifest.ts'
import { createSampleData } from '../../lib/demo/sample-data.ts'
import { readSidecar } from '../../lib/inventory/read-inventory.ts'
import { createDatabase, dropDatabase, sql, withClient } from '../helpers/database.ts'
import { alertEnv, type HttpReceiver, startSlackReceiver } from '../helpers/receivers.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { s3Env } from '../helpers/s3-server.ts'
import { readReport, stateEnv, storeOf } from './drill-fixtures.ts'

/** What the schema step cannot reproduce: both need a superuser, both reach beyond the backup. */
const NOT_REPRODUCIBLE_SQL = `
CREATE PUBLICATION feed FOR TABLES IN SCHEMA public;
CREATE FUNCTION public.note_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN NULL; END $$;
CREATE EVENT TRIGGER note_ddl ON ddl_command_end EXECUTE FUNCTION public.note_ddl();
`
const NAMED = ['publication membership feed (TABLES IN SCHEMA public)', 'event trigger note_ddl']

let db: { name: string; url: string }
let env: Record<string, string>
let manifest: Manifest
let slack: HttpReceiver
const databases: string[] = []

beforeAll(async () => {
  db = await createDatabase('drill_omitted_src')
  databases.push(db.name)
  await withClient(db.url, async (client) => {
    await createSampleData(client, { metricsRows: 200 })
    await client.query(NOT_REPRODUCIBLE_SQL)
  })
  env = { DATABASE_URL: db.url, ...s3Env(inject('s3Endpoint'), `drill-omitted-${process.pid}`) }
  const backup = await runJobProcess('backup', ['--json'], env)
  expect(backup.code, backup.stderr).toBe(0)
  manifest = await readSidecar(storeOf(env), String(backup.json!.id))
})
afterAll(async () => {
  // The event trigger is database-wide: drop it with the database.
  await Promise.all(databases.map(dropDatabase))
})
beforeEach(async () => {
  slack = await startSlackReceiver()
})
afterEach(async () => {
  await slack.close()
})

function drillEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { ...env, ...alertEnv({ slack }), ...stateEnv(), ...extra }
}

/** The not-reproduced warnings of a report, one per omitted object. */
function notReproduced(warnings: readonly string[]): string[] {
  return warnings.filter((w) => w.startsWith('not reproduced: '))
}

describe('a drill over a backup with objects schema.sql does not reproduce', () => {
  it('the backup lists them in manifest.schemaSql.omitted (the premise)', () => {
    const omitted = (manifest.schemaSql?.omitted ?? []).map((o) => `${o.kind} ${o.name}`)
    expect(omitted.sort()).toEqual([...NAMED].sort())
  })

  it('into a throwaway PostgreSQL: exit 0 but outcome warning, each object named in JSON, report, Markdown and alert', async () => {
    const run = await runJobProcess('drill', ['--json'], drillEnv())
    expect(run.code, run.stderr).toBe(0)
    expect(run.json).toMatchObject({ outcome: 'warning' })
    const report = await readReport(storeOf(env), String(run.json!.id))
    expect(report.outcome).toBe('warning')
    const lines = notReproduced(report.warnings)
    for (const name of NAMED)
      expect(
        lines.filter((l) => l.includes(name)),
        name,
      ).toHaveLength(1)
    // The rows themselves came back: the warning is about structure, not data.
    expect(report.checks.every((c) => c.ok)).toBe(true)
    expect(report.failedTables).toEqual([])

    const markdown = await runJobProcess('drill', [], drillEnv())
    expect(markdown.code, markdown.stderr).toBe(0)
    expect(`${markdown.stdout}${markdown.stderr}`).toContain(`not reproduced: ${NAMED[0]}`)
    await slack.waitFor(2)
    const alert = JSON.stringify(slack.requests[0]!.json)
    expect(alert).toMatch(/warning/i)
    expect(alert).toContain(NAMED[0])
  })

  it('into a staging database that has the schema (--truncate): the manifest’s list still makes it a warning', async () => {
    const staging = await createDatabase('drill_omitted_staging')
    databases.push(staging.name)
    const restore = await runJobProcess(
      'restore',
      ['latest', '--target', staging.url, '--create-schema'],
      env,
    )
    expect(restore.code, restore.stderr).toBe(0)
    expect(restore.stderr).toContain(`not reproduced: ${NAMED[0]}`)

    const run = await runJobProcess(
      'drill',
      ['--json', '--truncate'],
      drillEnv({ STAGING_DATABASE_URL: staging.url }),
    )
    expect(run.code, run.stderr).toBe(0)
    expect(run.json).toMatchObject({ outcome: 'warning', target: { kind: 'staging' } })
    const report = await readReport(storeOf(env), String(run.json!.id))
    const lines = notReproduced(report.warnings)
    for (const name of NAMED)
      expect(
        lines.filter((l) => l.includes(name)),
        name,
      ).toHaveLength(1)
    const rows = await sql(staging.url, 'SELECT count(*)::int AS n FROM public.metrics')
    expect(rows.rows[0].n).toBe(200)
  })
})
