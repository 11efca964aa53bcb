// npm run backup:doctor against the real test server, a folder store and the S3 API:
// each failure is named with its fix, and the backup's preflight stops before work.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateIdentity, identityToRecipient } from 'age-encryption'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { connect, PINNED_SESSION_SETTINGS } from '../../lib/adapters/postgres/connection.ts'
import { freePort } from '../../lib/adapters/postgres/throwaway.ts'
import { Secret } from '../../lib/core/secret.ts'
import { createSampleData } from '../../lib/demo/sample-data.ts'
import type { Check } from '../../lib/doctor/checks.ts'
import { createDatabase, dropDatabase, serverUrl, sql, withClient } from '../helpers/database.ts'
import { type PostgrestServer, startPostgrestServer } from '../helpers/postgrest-server.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { s3Env, startS3Server } from '../helpers/s3-server.ts'
import { seed, startStorageProject, storageEnv } from '../helpers/storage-world.ts'
import { tempFolder } from './restore-fixtures.ts'

let db: { name: string; url: string }
const roles: string[] = []
const suffix = `${process.pid}_${Date.now().toString(36)}`

let identity: string
let recipient: string
let otherRecipient: string

beforeAll(async () => {
  identity = await generateIdentity()
  recipient = await identityToRecipient(identity)
  otherRecipient = await identityToRecipient(await generateIdentity())
  db = await createDatabase('doctor')
  await withClient(db.url, (client) => createSampleData(client, { metricsRows: 200 }))
})
afterAll(async () => {
  for (const role of roles) {
    await sql(db.url, `DROP OWNED BY ${role}`).catch(() => undefined)
    await sql(serverUrl(), `DROP ROLE IF EXISTS ${role}`).catch(() => undefined)
  }
  await dropDatabase(db.name)
})

/** A login role on the test database with SELECT on every demo table. */
async function readerRole(label: string): Promise<string> {
  const role = `lb_${label}_${suffix}`
  roles.push(role)
  await sql(serverUrl(), `CREATE ROLE ${role} LOGIN PASSWORD 'reader-pw'`)
  await sql(
    db.url,
    `GRANT USAGE ON SCHEMA public, auth TO ${role};
     GRANT SELECT ON ALL TABLES IN SCHEMA public, auth TO ${role}`,
  )
  return role
}

function urlAs(role: string, password: string): string {
  const url = new URL(db.url)
  url.username = role
  url.password = password
  return url.toString()
}

function folderStore(): string {
  return `file://${tempFolder('doctor-store')}`
}

async function doctor(env: Record<string, string>, args: string[] = []) {
  const run = await runJobProcess('doctor', ['--json', ...args], { DOCTOR_TIMEOUT_MS: '2000', ...env })
  const checks = (run.json?.checks ?? []) as Check[]
  const check = (id: string) => {
    const found = checks.find((c) => c.id === id)
    if (!found) throw new Error(`no check ${id} in ${run.stdout} ${run.stderr}`)
    return found
  }
  return { ...run, checks, check }
}

describe('npm run backup:doctor', () => {
  it('passes a healthy setup: every check ok (pg_dump, rights, store round trip, keys, alerts)', async () => {
    const run = await doctor({
      DATABASE_URL: db.url,
      BACKUP_STORE: folderStore(),
      BACKUP_AGE_IDENTITY: identity,
      BACKUP_AGE_RECIPIENTS: recipient,
      HEARTBEAT_URL: 'http://127.0.0.1:9/ping',
    })
    expect(run.code, run.stdout + run.stderr).toBe(0)
    expect(run.json!.healthy).toBe(true)
    for (const id of [
      'settings.source',
      'network.dns',
      'network.tcp',
      'database.login',
      'database.privileges',
      'database.rls',
      'database.timeouts',
      'store.list',
      'store.write',
      'store.read',
      'store.delete',
      'encryption.recipients',
      'encryption.identity',
      'alerts.channels',
    ]) {
      expect(run.check(id).status, id).toBe('ok')
    }
    expect(['ok', 'warn']).toContain(run.check('database.pg_dump').status)
    expect(run.check('network.dns').detail).toContain('127.0.0.1')
  })

  // The test server listens on /tmp/.s.PGSQL.<port> too (an external one may not).
  it.skipIf(process.env.TEST_DATABASE_URL !== undefined)(
    'over a Unix socket: DNS and network are not applicable, the login and every later check run',
    async () => {
      const server = new URL(db.url)
      const url = `postgresql://${server.username}@localhost/${db.name}?host=/tmp&port=${server.port}`
      const run = await doctor({
        DATABASE_URL: url,
        PGPASSWORD: decodeURIComponent(server.password),
        BACKUP_STORE: folderStore(),
      })
      for (const id of ['network.dns', 'network.tcp']) {
        expect(run.check(id), id).toMatchObject({
          status: 'skip',
          detail: expect.stringContaining('not applicable'),
        })
      }
      for (const id of ['database.login', 'database.privileges', 'database.rls', 'database.timeouts']) {
        expect(run.check(id).status, `${id}: ${run.check(id).detail}`).toBe('ok')
      }
    },
  )

  it('names a wrong password, with its fix', async () => {
    const run = await doctor({
      DATABASE_URL: urlAs('postgres', 'not-the-password'),
      BACKUP_STORE: folderStore(),
    })
    expect(run.code).toBe(1)
    const login = run.check('database.login')
    expect(login).toMatchObject({ status: 'fail', code: 'DB_AUTH' })
    expect(login.detail).toContain('28P01')
    expect(login.fix).toContain('password')
    expect(run.stdout).not.toContain('not-the-password')
    expect(run.check('database.privileges').status).toBe('skip')
  })

  it('names an unreachable host (closed port), with its fix', async () => {
    const port = await freePort()
    const url = new URL(db.url)
    url.port = String(port)
    const run = await doctor({ DATABASE_URL: url.toString(), BACKUP_STORE: folderStore() })
    expect(run.code).toBe(1)
    const tcp = run.check('network.tcp')
    expect(tcp).toMatchObject({ status: 'fail', code: 'DB_UNREACHABLE' })
    expect(tcp.detail).toContain(`127.0.0.1:${port}`)
    expect(tcp.detail).toContain('ECONNREFUSED')
    expect(tcp.fix).toContain('port')
    expect(run.check('database.login').status).toBe('skip')
  })

  it('names a table the role cannot read, with the GRANT that fixes it', async () => {
    const role = await readerRole('norights')
    await sql(db.url, `REVOKE SELECT ON public.metrics FROM ${role}`)
    const run = await doctor({ DATABASE_URL: urlAs(role, 'reader-pw'), BACKUP_STORE: folderStore() })
    expect(run.code).toBe(1)
    const rights = run.check('database.privileges')
    expect(rights).toMatchObject({ status: 'fail', code: 'DB_PERMISSION' })
    expect(rights.detail).toContain('public.metrics')
    expect(rights.fix).toContain(`GRANT SELECT ON public.metrics TO ${role}`)
  })

  it('names row-level security the role cannot bypass, with its fix', async () => {
    const role = await readerRole('rls')
    await sql(db.url, 'ALTER TABLE public.permissions ENABLE ROW LEVEL SECURITY')
    try {
      const run = await doctor({ DATABASE_URL: urlAs(role, 'reader-pw'), BACKUP_STORE: folderStore() })
      expect(run.code).toBe(1)
      const rls = run.check('database.rls')
      expect(rls).toMatchObject({ status: 'fail', code: 'DB_PERMISSION' })
      expect(rls.detail).toContain('public.permissions')
      expect(rls.fix).toContain(`ALTER ROLE ${role} BYPASSRLS`)
    } finally {
      await sql(db.url, 'ALTER TABLE public.permissions DISABLE ROW LEVEL SECURITY')
    }
  })

  it("names a short statement_timeout, with its fix; Lifeboat's own sessions still override it", async () => {
    const role = await readerRole('timeout')
    await sql(serverUrl(), `ALTER ROLE ${role} SET statement_timeout = '1s'`)
    const url = urlAs(role, 'reader-pw')
    const run = await doctor({ DATABASE_URL: url, BACKUP_STORE: folderStore() })
    const timeouts = run.check('database.timeouts')
    expect(timeouts.status).toBe('warn')
    expect(timeouts.detail).toContain('statement_timeout = 1s')
    expect(timeouts.fix).toContain(`ALTER ROLE ${role} SET statement_timeout = 0`)
    expect(run.code, run.stdout).toBe(0)
    // A plain session is cut off after 1 s; the session the backup opens is not.
    await expect(withClient(url, (client) => client.query('SELECT pg_sleep(1.3)'))).rejects.toMatchObject({
      code: '57014',
    })
    const pinned = await connect(new Secret(url), { settings: PINNED_SESSION_SETTINGS })
    try {
      await expect(pinned.query('SELECT pg_sleep(1.3)')).resolves.toBeDefined()
    } finally {
      await pinned.end()
    }
  })

  it('names a store that refuses writes, with its fix', async () => {
    // Tests run as root, whom permissions do not stop: a folder where the probe object goes does.
    const folder = tempFolder('doctor-readonly')
    mkdirSync(join(folder, 'database-backups', '.lifeboat-doctor-probe.manifest.json'), { recursive: true })
    const run = await doctor({ DATABASE_URL: db.url, BACKUP_STORE: `file://${folder}` })
    expect(run.code).toBe(1)
    expect(run.check('store.list').status).toBe('ok')
    const write = run.check('store.write')
    expect(write.status).toBe('fail')
    expect(write.detail).toContain('database-backups/.lifeboat-doctor-probe.manifest.json')
    expect(write.fix).toContain('folder this user can create and write')
    expect(run.check('store.read').status).toBe('skip')
  })

  it('checks an S3 store through the S3 API: put, get, list and delete', async () => {
    const run = await doctor({ DATABASE_URL: db.url, ...s3Env(inject('s3Endpoint'), `doctor-${suffix}`) })
    expect(run.check('store.write').status, JSON.stringify(run.checks)).toBe('ok')
    expect(run.check('store.read').status).toBe('ok')
    expect(run.check('store.delete').status).toBe('ok')
    const missing = await doctor({
      DATABASE_URL: db.url,
      ...s3Env(inject('s3Endpoint'), 'x'),
      BACKUP_STORE: 's3://no-such-bucket-lifeboat/x',
    })
    expect(missing.check('store.list').status).toBe('fail')
    expect(missing.check('store.list').fix).toContain('s3:ListBucket')
  })

  it('names keys that do not match and a missing alert channel', async () => {
    const run = await doctor({
      DATABASE_URL: db.url,
      BACKUP_STORE: folderStore(),
      BACKUP_AGE_IDENTITY: identity,
      BACKUP_AGE_RECIPIENTS: otherRecipient,
    })
    expect(run.code).toBe(1)
    expect(run.check('encryption.identity')).toMatchObject({ status: 'fail' })
    expect(run.check('encryption.identity').fix).toContain('age-keygen -y')
    expect(run.check('alerts.channels').status).toBe('warn')
  })

  it('prints a readable checklist with a fix under each failure', async () => {
    const run = await runJobProcess('doctor', [], {
      DATABASE_URL: urlAs('postgres', 'nope'),
      BACKUP_STORE: folderStore(),
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/\[FAIL\] Login\s+the server refused the login/)
    expect(run.stdout).toMatch(/fix: correct the user and password/)
    expect(run.stdout).toMatch(/failures: the backup would fail/)
  })
})

describe('Supabase Storage', () => {
  it('lists the buckets of the source and the restore target with their keys, naming refused keys without printing them', async () => {
    const source = await startStorageProject('source')
    const denied = await startS3Server('.tmp', {
      buckets: [],
      policies: {
        DENIED: {
          documents: [{ Version: '2012-10-17', Statement: [] }],
          principalArn: 'arn:aws:iam::1:user/x',
        },
      },
    })
    try {
      await seed(source.raw, [{ bucket: 'avatars', name: 'a.png', body: Buffer.from('png') }])
      const secret = 'never-print-this-storage-secret'
      const run = await doctor({
        DATABASE_URL: db.url,
        BACKUP_STORE: folderStore(),
        ...storageEnv(source),
        TARGET_SUPABASE_STORAGE_S3_URL: denied.endpoint,
        TARGET_SUPABASE_STORAGE_S3_REGION: 'local',
        TARGET_SUPABASE_STORAGE_S3_ACCESS_KEY_ID: 'DENIED',
        TARGET_SUPABASE_STORAGE_S3_SECRET_ACCESS_KEY: secret,
      })
      expect(run.check('storage.source')).toMatchObject({
        status: 'ok',
        detail: `1 bucket listed at ${source.client.location} with SUPABASE_STORAGE_S3_ACCESS_KEY_ID`,
      })
      expect(run.check('storage.target')).toMatchObject({ status: 'fail', code: 'STORAGE_AUTH' })
      expect(run.check('storage.target').fix).toContain('TARGET_SUPABASE_STORAGE_S3_ACCESS_KEY_ID and')
      expect(run.code).toBe(1)
      expect(run.stdout + run.stderr).not.toContain(secret)
    } finally {
      await Promise.all([source.server.stop(), denied.stop()])
    }
  })

  it('names an endpoint nothing answers on, with its fix', async () => {
    const port = await freePort()
    const run = await doctor({
      DATABASE_URL: db.url,
      BACKUP_STORE: folderStore(),
      SUPABASE_STORAGE_S3_URL: `http://127.0.0.1:${port}`,
      SUPABASE_STORAGE_S3_REGION: 'local',
      SUPABASE_STORAGE_S3_ACCESS_KEY_ID: 'id',
      SUPABASE_STORAGE_S3_SECRET_ACCESS_KEY: 'secret',
    })
    expect(run.check('storage.source')).toMatchObject({ status: 'fail', code: 'STORAGE_UNREACHABLE' })
    expect(run.check('storage.source').fix).toContain('check SUPABASE_STORAGE_S3_URL')
  })
})

describe('API-only mode', () => {
  let api: PostgrestServer
  beforeAll(async () => {
    api = await startPostgrestServer({ databaseUrl: db.url })
  })
  afterAll(async () => api?.close())

  it('checks the API with the service role key, and names a wrong key with its fix', async () => {
    const good = await doctor(
      { SUPABASE_URL: api.url, SUPABASE_SERVICE_ROLE_KEY: api.key, BACKUP_STORE: folderStore() },
      ['--auth-users'],
    )
    expect(good.check('settings.source').status).toBe('warn')
    expect(good.check('api.reachable')).toMatchObject({ status: 'ok' })
    expect(good.check('api.reachable').detail).toMatch(/^1[0-9] tables exposed in public/)
    expect(good.check('api.auth_users').status).toBe('ok')
    const bad = await doctor({
      SUPABASE_URL: api.url,
      SUPABASE_SERVICE_ROLE_KEY: 'anon-key-0000',
      BACKUP_STORE: folderStore(),
    })
    expect(bad.code).toBe(1)
    expect(bad.check('api.reachable')).toMatchObject({ status: 'fail', code: 'API_AUTH' })
    expect(bad.check('api.reachable').fix).toContain('service_role key')
  })
})

describe('the backup preflight', () => {
  it('refuses the transaction pooler before connecting, naming the fix (exit 2)', async () => {
    const url = new URL(db.url)
    url.port = '6543'
    url.hostname = 'aws-0-eu-central-1.pooler.supabase.com'
    url.username = 'postgres.abcdefghijklmnop'
    const run = await runJobProcess('backup', ['--json'], {
      DATABASE_URL: url.toString(),
      BACKUP_STORE: folderStore(),
    })
    expect(run.code).toBe(2)
    const error = run.json!.error as { code: string; message: string }
    expect(error.code).toBe('DB_POOLER_TRANSACTION')
    expect(error.message).toContain('preflight')
    expect(error.message).toContain('postgres.abcdefghijklmnop')
    expect(error.message).toContain(':5432/postgres')
  })

  it('stops on a store it cannot reach before reading the database', async () => {
    const folder = tempFolder('preflight-file')
    writeFileSync(join(folder, 'store'), 'not a folder')
    const run = await runJobProcess('backup', ['--json'], {
      DATABASE_URL: db.url,
      BACKUP_STORE: `file://${join(folder, 'store')}`,
    })
    expect(run.code).toBe(1)
    const error = run.json!.error as { code: string; message: string }
    expect(error.message).toMatch(/^preflight: Store list:/)
    expect(run.stderr).not.toContain('backing up')
  })
})
