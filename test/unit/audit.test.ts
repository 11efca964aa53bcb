// The audit record's pure parts: key naming and parsing, the month folders a window needs,
// who ran the job, scrubbing of secrets, and --since parsing.
import { describe, expect, it } from 'vitest'
import {
  type AuditRecord,
  auditDetails,
  auditKey,
  auditPrefixesBetween,
  describeActor,
  parseAuditKey,
  parseSince,
  scrubRecord,
} from '../../lib/audit/record.ts'
import { Secret } from '../../lib/core/secret.ts'

const AT = new Date('2026-11-25T02:00:13.417Z')

describe('auditKey / parseAuditKey', () => {
  it('names the day folder, the time to the millisecond, the event and a random part', () => {
    const key = auditKey('backup', AT, 'k3j9x2')
    expect(key).toBe('audit/2026/11/25/020013.417Z-backup-k3j9x2.json')
    expect(parseAuditKey(key)).toEqual({ key, at: AT, event: 'backup' })
  })

  it('keeps keys safe whatever the event text', () => {
    const key = auditKey('DR Test/../x', AT, 'A_b')
    expect(key).toBe('audit/2026/11/25/020013.417Z-dr-test----x-ab.json')
    expect(parseAuditKey(key)?.event).toBe('dr-test----x')
  })

  it('sorts keys of one day in time order', () => {
    const keys = ['2026-11-25T23:59:59.999Z', '2026-11-25T00:00:00.000Z', '2026-11-25T10:00:00.000Z'].map(
      (t) => auditKey('clean', new Date(t), 'a'),
    )
    expect([...keys].sort()).toEqual([keys[1], keys[2], keys[0]])
  })

  it('ignores keys that are not audit records', () => {
    expect(parseAuditKey('audit/2026/11/25/notes.txt')).toBeUndefined()
    expect(parseAuditKey('database-backups/backup-2026-11-25T020000Z.tar.gz')).toBeUndefined()
  })
})

describe('auditPrefixesBetween', () => {
  it('lists each month folder the window touches, across a year end', () => {
    expect(auditPrefixesBetween(new Date('2026-11-20T00:00:00Z'), new Date('2027-02-01T00:00:00Z'))).toEqual([
      'audit/2026/11/',
      'audit/2026/12/',
      'audit/2027/01/',
      'audit/2027/02/',
    ])
    expect(auditPrefixesBetween(AT, AT)).toEqual(['audit/2026/11/'])
  })
})

describe('describeActor', () => {
  const local = { user: 'ana', host: 'laptop' }

  it('is the GitHub actor and the run URL in Actions', () => {
    const env = {
      GITHUB_ACTIONS: 'true',
      GITHUB_ACTOR: 'octocat',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'acme/db',
      GITHUB_RUN_ID: '42',
      GITHUB_WORKFLOW: 'Daily backup',
    }
    expect(describeActor(env, local)).toEqual({
      kind: 'github',
      actor: 'octocat',
      runUrl: 'https://github.com/acme/db/actions/runs/42',
      repository: 'acme/db',
      workflow: 'Daily backup',
      runId: '42',
    })
  })

  it('is the OS user and host elsewhere, even with stray GitHub variables', () => {
    expect(describeActor({ GITHUB_ACTOR: 'octocat' }, local)).toEqual({
      kind: 'local',
      user: 'ana',
      host: 'laptop',
    })
  })
})

describe('scrubRecord and auditDetails', () => {
  it('removes passwords in URLs and registered secrets from every string', () => {
    new Secret('hunter2-very-secret')
    const record: AuditRecord = {
      version: 1,
      event: 'backup',
      at: AT.toISOString(),
      outcome: 'failure',
      error: {
        code: 'DB_AUTH',
        message: 'postgres://app:pa55word@db.example.com/app refused hunter2-very-secret',
      },
      actor: { kind: 'local', user: 'ana', host: 'laptop' },
      details: { location: 's3://bucket/prefix', notes: ['token hunter2-very-secret'] },
    }
    const text = JSON.stringify(scrubRecord(record))
    expect(text).not.toContain('pa55word')
    expect(text).not.toContain('hunter2-very-secret')
    expect(text).toContain('postgres://app:**redacted**@db.example.com/app')
  })

  it('keeps plain values only, capped', () => {
    expect(
      auditDetails({
        a: 1,
        b: 'x',
        c: true,
        d: null,
        e: undefined,
        f: { nested: 1 },
        g: ['x', 2],
        h: new Date(0),
      }),
    ).toEqual({ a: 1, b: 'x', c: true, d: null, g: ['x', '2'], h: '1970-01-01T00:00:00.000Z' })
    expect((auditDetails({ many: Array.from({ length: 500 }, String) }).many as string[]).length).toBe(200)
  })
})

describe('parseSince', () => {
  const now = new Date('2026-11-25T12:00:00Z')
  it('reads relative windows and dates', () => {
    expect(parseSince('7d', now)?.toISOString()).toBe('2026-11-18T12:00:00.000Z')
    expect(parseSince('24h', now)?.toISOString()).toBe('2026-11-24T12:00:00.000Z')
    expect(parseSince('30m', now)?.toISOString()).toBe('2026-11-25T11:30:00.000Z')
    expect(parseSince('2026-11-01', now)?.toISOString()).toBe('2026-11-01T00:00:00.000Z')
    expect(parseSince('2026-11-01T06:00:00Z', now)?.toISOString()).toBe('2026-11-01T06:00:00.000Z')
  })
  it('refuses anything else', () => {
    expect(parseSince('last week', now)).toBeUndefined()
    expect(parseSince('7w', now)).toBeUndefined()
  })
})
