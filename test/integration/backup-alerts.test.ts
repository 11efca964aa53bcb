// The alert path end to end through the real backup job: failures alert Slack and
// e-mail, the second consecutive failure pages, the next success resolves the page.
import { mkdtempSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { freePort } from '../../lib/adapters/postgres/throwaway.ts'
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
  db = await createDatabase('alerts')
  await sql(db.url, `CREATE TABLE items AS SELECT g AS id FROM generate_series(1, 100) g`)
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

function stateFile(): string {
  return join(mkdtempSync(join(resolve('.tmp'), 'state-')), 'status.json')
}

describe('the daily backup alerts and escalates', () => {
  it('fail, fail, succeed: Slack and e-mail, then a page, then a resolve with the same dedup_key', async () => {
    const unreachable = `http://127.0.0.1:${await freePort()}`
    const common = {
      DATABASE_URL: db.url,
      LIFEBOAT_STATE_FILE: stateFile(),
      ...alertEnv({ slack, pagerDuty, smtp }),
    }

    const first = await runJobProcess('backup', [], { ...common, ...s3Env(unreachable, 'alerts') })
    expect(first.code).toBe(1)
    await smtp.waitFor(1)
    expect(slack.requests).toHaveLength(1)
    expect(JSON.stringify(slack.requests[0]!.json)).toContain('STORE_UNREACHABLE')
    expect(smtp.messages[0]!.to).toEqual(['oncall@example.com'])
    expect(smtp.messages[0]!.text).toContain('runbooks/troubleshooting.md#store-unreachable')
    expect(pagerDuty.requests).toHaveLength(0)

    const second = await runJobProcess('backup', [], { ...common, ...s3Env(unreachable, 'alerts') })
    expect(second.code).toBe(1)
    await smtp.waitFor(2)
    expect(pagerDuty.requests).toHaveLength(1)
    const trigger = pagerDuty.requests[0]!.json
    expect(trigger).toMatchObject({ event_action: 'trigger', payload: { severity: 'critical' } })
    expect(trigger.payload.summary).toContain('backup')

    const third = await runJobProcess('backup', [], { ...common, ...s3Env(inject('s3Endpoint'), 'alerts') })
    expect(third.code, third.stderr).toBe(0)
    expect(slack.requests).toHaveLength(3)
    expect(JSON.stringify(slack.requests[2]!.json)).toMatch(/succeeded|success/i)
    expect(pagerDuty.requests).toHaveLength(2)
    expect(pagerDuty.requests[1]!.json).toMatchObject({
      event_action: 'resolve',
      dedup_key: trigger.dedup_key,
    })
    expect(smtp.messages).toHaveLength(2)
  })

  it('keeps the exit code and still e-mails when Slack answers 500', async () => {
    slack.failWith(500)
    const env = {
      DATABASE_URL: db.url,
      LIFEBOAT_STATE_FILE: stateFile(),
      ...alertEnv({ slack, smtp }),
      ...s3Env(`http://127.0.0.1:${await freePort()}`, 'alerts'),
    }
    const run = await runJobProcess('backup', [], env)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('STORE_UNREACHABLE')
    await smtp.waitFor(1)
    expect(slack.requests.length).toBeGreaterThan(1)
    expect(run.stderr).not.toContain(new URL(slack.url).pathname)
  })

  it('keeps a successful backup successful when Slack is down', async () => {
    slack.failWith(500)
    const folder = mkdtempSync(join(resolve('.tmp'), 'store-'))
    const run = await runJobProcess('backup', [], {
      DATABASE_URL: db.url,
      BACKUP_STORE: folder,
      LIFEBOAT_STATE_FILE: stateFile(),
      ...alertEnv({ slack }),
    })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain('slack alert failed')
  })
})
