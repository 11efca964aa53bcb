// The doctor's judgement: probe results in, a checklist with a fix per failure out.
import { describe, expect, it } from 'vitest'
import { type DoctorSettings, readDoctorConfig } from '../../lib/core/doctor-config.ts'
import {
  buildChecklist,
  type Check,
  type DoctorProbes,
  doctorExitCode,
  durationMs,
  preflightError,
  renderChecklist,
  supabaseHostKind,
} from '../../lib/doctor/checks.ts'

const directSupabase = {
  kind: 'postgres' as const,
  setting: 'DATABASE_URL',
  host: 'db.abcdefghijklmnop.supabase.co',
  port: 5432,
  database: 'postgres',
  user: 'postgres',
}

function settings(overrides: Partial<DoctorSettings> = {}): DoctorSettings {
  return {
    source: directSupabase,
    problems: [],
    store: { url: 's3://backups/prod', kind: 's3' },
    recipients: ['age1example'],
    recipientProblems: [],
    identitySet: false,
    alertChannels: ['slack'],
    alertProblems: [],
    storage: [],
    ...overrides,
  }
}

const loggedIn = {
  ok: true as const,
  user: 'postgres',
  serverVersion: '17.4',
  serverVersionNum: 170004,
  superuser: false,
  bypassRls: true,
}

function healthy(overrides: Partial<DoctorProbes> = {}): DoctorProbes {
  return {
    settings: settings(),
    dns: { v4: ['203.0.113.7'], v6: ['2001:db8::7'] },
    tcp: [{ address: '203.0.113.7', family: 4, ok: true }],
    login: loggedIn,
    pgDump: { version: '17.4', major: 17, path: '/usr/bin/pg_dump' },
    timeouts: [
      { name: 'statement_timeout', value: '0', overridden: true },
      { name: 'idle_in_transaction_session_timeout', value: '0', overridden: true },
    ],
    tables: [
      { name: 'public.users', canSelect: true, rls: true, forced: false, owned: false, readable: 'ok' },
    ],
    store: {
      location: 's3://backups/prod',
      probeKey: 'doctor/probe-1',
      list: { ok: true },
      put: { ok: true },
      get: { ok: true, matches: true },
      delete: { ok: true },
    },
    ...overrides,
  }
}

function byId(checks: Check[], id: string): Check {
  const found = checks.find((c) => c.id === id)
  if (!found) throw new Error(`no check ${id}`)
  return found
}

describe('buildChecklist', () => {
  it('passes a healthy setup with every check ok', () => {
    const checks = buildChecklist(healthy())
    expect(checks.filter((c) => c.status !== 'ok').map((c) => c.id)).toEqual(['encryption.identity'])
    expect(byId(checks, 'encryption.identity').status).toBe('skip')
    expect(doctorExitCode(checks)).toBe(0)
  })

  it("refuses Supabase's transaction pooler and names the session pooler URL", () => {
    const checks = buildChecklist(
      healthy({
        settings: settings({
          source: {
            ...directSupabase,
            host: 'aws-0-eu-central-1.pooler.supabase.com',
            port: 6543,
            user: 'postgres.abcdefghijklmnop',
          },
        }),
      }),
    )
    const source = byId(checks, 'settings.source')
    expect(source).toMatchObject({ status: 'fail', code: 'DB_POOLER_TRANSACTION' })
    expect(source.fix).toContain(
      'postgres.abcdefghijklmnop:<password>@aws-0-<region>.pooler.supabase.com:5432/postgres',
    )
    expect(doctorExitCode(checks)).toBe(1)
  })

  it('explains an IPv6-only direct host this machine cannot reach, suggesting the session pooler', () => {
    const checks = buildChecklist(
      healthy({
        dns: { v4: [], v6: ['2a05:d014::1'] },
        tcp: [{ address: '2a05:d014::1', family: 6, ok: false, error: 'ENETUNREACH' }],
        login: undefined,
      }),
    )
    const dns = byId(checks, 'network.dns')
    expect(dns).toMatchObject({ status: 'fail', code: 'DB_UNREACHABLE' })
    expect(dns.detail).toContain('only IPv6')
    expect(dns.fix).toContain('session pooler')
    expect(byId(checks, 'network.tcp').detail).toContain('ENETUNREACH')
    expect(byId(checks, 'database.login').status).toBe('skip')
  })

  it('warns when an IPv6-only host works here, since CI runners have no IPv6', () => {
    const checks = buildChecklist(
      healthy({
        dns: { v4: [], v6: ['2a05:d014::1'] },
        tcp: [{ address: '2a05:d014::1', family: 6, ok: true }],
      }),
    )
    expect(byId(checks, 'network.dns')).toMatchObject({ status: 'warn' })
    expect(byId(checks, 'network.dns').detail).toContain('GitHub-hosted runners')
  })

  it('names unreadable tables with the GRANT, and RLS with BYPASSRLS', () => {
    const checks = buildChecklist(
      healthy({
        login: { ...loggedIn, user: 'backup', bypassRls: false },
        tables: [
          {
            name: 'public.users',
            canSelect: false,
            rls: false,
            forced: false,
            owned: false,
            readable: 'permission',
          },
          { name: 'public.Orders', canSelect: true, rls: true, forced: false, owned: false, readable: 'rls' },
        ],
      }),
    )
    expect(byId(checks, 'database.privileges').fix).toBe(
      "GRANT SELECT ON public.users TO backup; (or back up as the owner, e.g. Supabase's postgres role), or leave them out with -T",
    )
    expect(byId(checks, 'database.rls').fix).toContain('ALTER ROLE backup BYPASSRLS')
    expect(byId(checks, 'database.rls').detail).toContain('public.Orders')
  })

  it('warns about timeouts Lifeboat overrides, and fails on ones it cannot', () => {
    const warned = buildChecklist(
      healthy({ timeouts: [{ name: 'statement_timeout', value: '2min', overridden: true }] }),
    )
    expect(byId(warned, 'database.timeouts')).toMatchObject({ status: 'warn' })
    expect(byId(warned, 'database.timeouts').fix).toBe(
      'ALTER ROLE postgres SET statement_timeout = 0; (or raise them)',
    )
    const stuck = buildChecklist(
      healthy({ timeouts: [{ name: 'statement_timeout', value: '8s', overridden: false }] }),
    )
    expect(byId(stuck, 'database.timeouts').status).toBe('fail')
  })

  it('warns (not fails) when no pg_dump fits the server: schema.sql comes from the catalogs', () => {
    const checks = buildChecklist(
      healthy({ pgDump: { missing: 'no pg_dump 17 or newer (/usr/bin/pg_dump is 15.18)' } }),
    )
    expect(byId(checks, 'database.pg_dump')).toMatchObject({ status: 'warn' })
    expect(byId(checks, 'database.pg_dump').fix).toContain('postgresql-client-17')
  })

  it('names store operations that fail, with the permission to grant', () => {
    const checks = buildChecklist(
      healthy({
        store: {
          location: 's3://backups/prod',
          probeKey: 'doctor/probe-1',
          list: { ok: true },
          put: { ok: false, code: 'STORE_FORBIDDEN', message: 'AccessDenied' },
        },
      }),
    )
    expect(byId(checks, 'store.write')).toMatchObject({ status: 'fail', code: 'STORE_FORBIDDEN' })
    expect(byId(checks, 'store.write').fix).toContain('s3:PutObject')
    expect(byId(checks, 'store.read').status).toBe('skip')
  })

  it('points a store that does not answer at the endpoint and network, not at permissions', () => {
    const checks = buildChecklist(
      healthy({
        store: {
          location: 's3://backups/prod',
          probeKey: 'doctor/probe-1',
          list: { ok: false, code: 'STORE_UNREACHABLE', message: 'connect ECONNREFUSED 127.0.0.1:9' },
        },
      }),
    )
    const list = byId(checks, 'store.list')
    expect(list).toMatchObject({ status: 'fail', code: 'STORE_UNREACHABLE' })
    expect(list.fix).toContain('AWS_ENDPOINT_URL_S3')
    expect(list.fix).not.toMatch(/s3:ListBucket|role|infra/)
  })

  it('accepts a backup role that may not delete, as a warning', () => {
    const checks = buildChecklist(
      healthy({
        store: {
          location: 's3://b/p',
          probeKey: 'doctor/probe-1',
          list: { ok: true },
          put: { ok: true },
          get: { ok: true, matches: true },
          delete: { ok: false, code: 'STORE_FORBIDDEN', message: 'AccessDenied' },
        },
      }),
    )
    expect(byId(checks, 'store.delete').status).toBe('warn')
    expect(doctorExitCode(checks)).toBe(0)
  })

  it('fails an identity whose recipient is not configured, and warns without recipients or alerts', () => {
    const checks = buildChecklist(
      healthy({
        settings: settings({ identitySet: true, recipients: [], alertChannels: [] }),
        identity: { ok: true, matches: false },
      }),
    )
    expect(byId(checks, 'encryption.recipients').status).toBe('warn')
    expect(byId(checks, 'encryption.identity')).toMatchObject({ status: 'fail' })
    expect(byId(checks, 'alerts.channels').status).toBe('warn')
  })

  it('explains API-only mode and a refused key', () => {
    const checks = buildChecklist({
      settings: settings({
        source: { kind: 'rest', url: 'https://abc.supabase.co', host: 'abc.supabase.co' },
      }),
      api: { ok: false, code: 'API_AUTH', message: 'HTTP 401 Invalid API key' },
    })
    expect(byId(checks, 'settings.source').status).toBe('warn')
    expect(byId(checks, 'api.reachable')).toMatchObject({ status: 'fail', code: 'API_AUTH' })
    expect(byId(checks, 'api.reachable').fix).toContain('service_role')
  })

  it('fails when no source or store is configured', () => {
    const checks = buildChecklist({ settings: settings({ source: { kind: 'none' }, store: undefined }) })
    expect(byId(checks, 'settings.source')).toMatchObject({ status: 'fail', code: 'CONFIG_MISSING' })
    expect(byId(checks, 'settings.store')).toMatchObject({ status: 'fail', code: 'CONFIG_MISSING' })
  })
})

describe('rendering and the preflight verdict', () => {
  it('prints each failure with its fix and a verdict line', () => {
    const text = renderChecklist(
      buildChecklist(healthy({ login: { ok: false, code: 'DB_AUTH', sqlstate: '28P01', message: 'x' } })),
    )
    expect(text).toMatch(/^\[FAIL\] Login +the server refused the login of user "postgres" \(28P01/m)
    expect(text).toMatch(/^ +fix: correct the user and password in DATABASE_URL/m)
    expect(text.split('\n').at(-1)).toMatch(/1 failures: the backup would fail/)
  })

  it("turns failures into one error with the first failure's code and every fix", () => {
    const checks = buildChecklist({
      settings: settings({ source: { ...directSupabase, port: 6543 }, store: undefined }),
    })
    const error = preflightError(checks)!
    expect(error.code).toBe('DB_POOLER_TRANSACTION')
    expect(error.details).toHaveLength(2)
    expect(error.message).toContain('fix: set BACKUP_STORE')
    expect(preflightError(buildChecklist(healthy()))).toBeUndefined()
  })
})

describe('helpers', () => {
  it('tells Supabase hosts apart', () => {
    expect(supabaseHostKind('db.abcdefghijklmnop.supabase.co', 5432)).toBe('direct')
    expect(supabaseHostKind('aws-0-us-east-1.pooler.supabase.com', 5432)).toBe('session-pooler')
    expect(supabaseHostKind('aws-0-us-east-1.pooler.supabase.com', 6543)).toBe('transaction-pooler')
    expect(supabaseHostKind('10.0.0.5', 5432)).toBe('other')
  })

  it('reads PostgreSQL durations', () => {
    expect(durationMs('0')).toBe(0)
    expect(durationMs('1s')).toBe(1000)
    expect(durationMs('2min')).toBe(120_000)
    expect(durationMs('500')).toBe(500)
  })

  it("names the backup's own settings the backup would stop on (exit 2)", () => {
    const config = readDoctorConfig(
      { DATABASE_URL: 'postgresql://app@db.example.com/app', BACKUP_GZIP_LEVEL: '12', BACKUP_JOBS: 'abc' },
      {},
    )
    expect(config.settings.problems.join('\n')).toMatch(/BACKUP_GZIP_LEVEL/)
    expect(config.settings.problems.join('\n')).toMatch(/BACKUP_JOBS/)
  })

  it('reads settings leniently: a missing source is a check, not an exception', () => {
    const config = readDoctorConfig(
      { BACKUP_STORE: 's3://bucket/prefix', BACKUP_AGE_RECIPIENTS: 'not-a-key' },
      {},
    )
    expect(config.settings.source.kind).toBe('none')
    expect(config.settings.recipientProblems[0]).toContain('BACKUP_AGE_RECIPIENTS')
    const rest = readDoctorConfig(
      { SUPABASE_URL: 'https://abc.supabase.co', SUPABASE_SERVICE_ROLE_KEY: 'k' },
      {},
    )
    expect(rest.settings.source).toMatchObject({ kind: 'rest', host: 'abc.supabase.co' })
    expect(rest.settings.store).toBeUndefined()
  })
})
