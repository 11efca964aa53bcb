// The harness every command goes through: a typo or a bad setting is exit 2 and never
// alerts, pages or counts as a failed run; a failure still does. Job summaries for
// GitHub Actions; --version; alert-test through the same harness.
import { mkdtempSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { freePort } from '../../lib/adapters/postgres/throwaway.ts'
import { openStore } from '../../lib/adapters/store/open-store.ts'
import { appendAudit } from '../../lib/audit/trail.ts'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'
import {
  alertEnv,
  type HttpReceiver,
  type SmtpReceiver,
  startPagerDutyReceiver,
  startSlackReceiver,
  startSmtpReceiver,
} from '../helpers/receivers.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { s3Env } from '../helpers/s3-server.ts'

let db: { name: string; url: string }
let slack: HttpReceiver
let pagerDuty: HttpReceiver
let smtp: SmtpReceiver

beforeAll(async () => {
  db = await createDatabase('harness')
  await sql(db.url, 'CREATE TABLE public.items AS SELECT g AS id FROM generate_series(1, 50) g')
})
afterAll(async () => dropDatabase(db.name))
beforeEach(async () => {
  slack = await startSlackReceiver()
  pagerDuty = await startPagerDutyReceiver()
  smtp = await startSmtpReceiver()
})
afterEach(async () => {
  await Promise.all([slack.close(), pagerDuty.close(), smtp.close()])
})

function scratch(): string {
  return mkdtempSync(join(resolve('.tmp'), 'harness-'))
}

describe('usage and configuration errors', () => {
  it('a typo twice: exit 2 both times, no Slack, no e-mail, no page; the next real failure counts as the first', async () => {
    const env = {
      DATABASE_URL: db.url,
      BACKUP_STORE: `file://${scratch()}`,
      LIFEBOAT_STATE_FILE: join(scratch(), 'status.json'),
      ...alertEnv({ slack, pagerDuty, smtp }),
    }
    for (const argv of [['--tabel', 'x'], ['-t']]) {
      const run = await runJobProcess('backup', [...argv, '--json'], env)
      expect(run.code).toBe(2)
      expect(run.json).toMatchObject({ ok: false, error: { code: 'USAGE', usage: true } })
    }
    const badSetting = await runJobProcess('backup', [], { ...env, BACKUP_JOBS: 'many' })
    expect(badSetting.code).toBe(2)
    expect(badSetting.stderr).toContain('BACKUP_JOBS must be a whole number ≥ 1, got "many"')
    expect(slack.requests).toHaveLength(0)
    expect(pagerDuty.requests).toHaveLength(0)
    expect(smtp.messages).toHaveLength(0)

    const unreachable = `http://127.0.0.1:${await freePort()}`
    const failed = await runJobProcess('backup', [], { ...env, ...s3Env(unreachable, 'harness') })
    expect(failed.code).toBe(1)
    await slack.waitFor(1)
    expect(pagerDuty.requests).toHaveLength(0)
  })
})

describe('a command stopped by bad usage or configuration did not run', () => {
  function folderEnv(): Record<string, string> {
    return {
      DATABASE_URL: db.url,
      BACKUP_STORE: `file://${scratch()}`,
      LIFEBOAT_STATE_FILE: join(scratch(), 'status.json'),
    }
  }

  it('leaves no audit record, so backup:report counts no failed run', async () => {
    const env = folderEnv()
    for (const argv of [
      ['--compress', '12'],
      ['--jobs', '0'],
    ]) {
      const run = await runJobProcess('backup', argv, env)
      expect(run.code, run.stderr).toBe(2)
      expect(run.stderr).toContain('error CONFIG_INVALID')
    }
    const audit = await runJobProcess('audit', ['--json'], env)
    expect(audit.json?.records).toEqual([])
    const report = await runJobProcess('report', ['--json', '--out', join(scratch(), 'chart.svg')], env)
    expect(report.code, report.stderr).toBe(0)
    expect(report.json?.failures).toEqual([])
  })

  it('is not a failed run in backup:report when an earlier version audited it as one', async () => {
    const env = folderEnv()
    const store = openStore({ url: env.BACKUP_STORE! })
    const at = new Date().toISOString()
    const actor = { kind: 'local', user: 'ops', host: 'laptop' } as const
    const refused = {
      code: 'CONFIG_INVALID',
      message: '--compress must be a whole number from 0 to 9, got "12"',
    }
    await appendAudit(store, {
      version: 1,
      event: 'backup',
      at,
      outcome: 'failure',
      error: refused,
      actor,
      details: {},
    })
    const failed = { code: 'DB_UNREACHABLE', message: 'the database did not answer' }
    await appendAudit(store, {
      version: 1,
      event: 'backup',
      at,
      outcome: 'failure',
      error: failed,
      actor,
      details: {},
    })
    const report = await runJobProcess('report', ['--json', '--out', join(scratch(), 'chart.svg')], env)
    expect(report.code, report.stderr).toBe(0)
    expect(report.json?.failures).toMatchObject([{ event: 'backup', code: 'DB_UNREACHABLE' }])
  })
})

describe('GitHub job summaries', () => {
  it('backup, verify, restore and clean write theirs; a usage error writes the error and says no alert was sent', async () => {
    const summary = join(scratch(), 'summary.md')
    const env = { DATABASE_URL: db.url, BACKUP_STORE: `file://${scratch()}`, GITHUB_STEP_SUMMARY: summary }
    expect((await runJobProcess('backup', ['--quiet'], env)).code).toBe(0)
    const verify = await runJobProcess('verify', ['latest', '--quiet'], env)
    expect(verify.code).toBe(0)
    expect((await runJobProcess('clean', ['--dry-run'], env)).code).toBe(0)
    const target = await createDatabase('harness_target')
    try {
      const restore = await runJobProcess('restore', ['latest', '--create-schema', '--quiet'], {
        ...env,
        TARGET_DATABASE_URL: target.url,
      })
      expect(restore.code, restore.stderr).toBe(0)
    } finally {
      await dropDatabase(target.name)
    }
    expect((await runJobProcess('backup', ['--tabel', 'x'], env)).code).toBe(2)
    const text = readFileSync(summary, 'utf8')
    expect(text).toMatch(/### ✅ Backup backup-\S+\n\n1 table, 50 rows, [\d.]+ KiB stored at/)
    expect(text).toContain('| public.items | 50 |')
    expect(text).toMatch(/### ✅ Verify: 1 of 1 backup verified/)
    expect(text).toMatch(
      /### ✅ Restore of backup-\S+\n\nInto `harness_target\w+` at `[^`]+`: 1 table, 50 rows/,
    )
    expect(text).toMatch(/### 🧹 Clean \(dry run\): would delete 0 backups \(0 B\), kept 1/)
    expect(text).toContain('### ❌ lifeboat backup: bad usage or configuration (exit 2, no alert sent)')
  })
})

describe('every command through the one harness', () => {
  it('alert-test refuses an unknown option and says when nothing is configured', async () => {
    const typo = await runJobProcess('alert-test', ['--jsn'], {})
    expect(typo.code).toBe(2)
    expect(typo.stderr).toContain('unknown option --jsn; did you mean --json?')
    const none = await runJobProcess('alert-test', ['--json'], {})
    expect(none.code).toBe(2)
    expect(none.json).toMatchObject({ ok: false, job: 'alert-test', error: { code: 'CONFIG_MISSING' } })
  })

  it('--version prints the tool and Node versions', async () => {
    const run = await runJobProcess('list', ['--version'], {})
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^lifeboat \d+\.\d+\.\d+ \(node v\d+/)
  })
})
