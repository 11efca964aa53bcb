// The source as psql takes it: PG* variables without DATABASE_URL, a service file, a
// password with / # ? in a URL, a Unix socket; a bad port and a missing database are
// named as such. Real backups through the real job.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, dropDatabase, serverUrl, sql } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'

let db: { name: string; url: string }
const server = new URL(serverUrl())
const PASSWORD = 'p/a#ss?w@rd'

beforeAll(async () => {
  db = await createDatabase('libpq')
  await sql(
    db.url,
    'CREATE TABLE public.items AS SELECT g AS id, md5(g::text) AS note FROM generate_series(1, 500) g',
  )
  await sql(db.url, 'ALTER TABLE public.items ADD PRIMARY KEY (id)')
  await sql(serverUrl(), `DROP ROLE IF EXISTS libpq_odd`)
  await sql(serverUrl(), `CREATE ROLE libpq_odd LOGIN SUPERUSER PASSWORD '${PASSWORD.replaceAll("'", "''")}'`)
})
afterAll(async () => {
  await dropDatabase(db.name)
  await sql(serverUrl(), 'DROP ROLE IF EXISTS libpq_odd')
})

function store(): string {
  return `file://${mkdtempSync(join(resolve('.tmp'), 'libpq-'))}`
}

const pg = () => ({
  PGHOST: server.hostname,
  PGPORT: server.port,
  PGUSER: decodeURIComponent(server.username),
  PGPASSWORD: decodeURIComponent(server.password),
  PGDATABASE: db.name,
})

describe('the backup source from libpq settings', () => {
  it('PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE are enough, without DATABASE_URL', async () => {
    const run = await runJobProcess('backup', ['--json', '--quiet'], { ...pg(), BACKUP_STORE: store() })
    expect(run.code, run.stderr).toBe(0)
    expect(run.json).toMatchObject({ ok: true, tables: 1, rows: 500 })
  })

  it('DATABASE_URL wins over the PG* variables', async () => {
    const run = await runJobProcess('backup', ['--json', '--quiet'], {
      ...pg(),
      PGDATABASE: 'no_such_database',
      DATABASE_URL: db.url,
      BACKUP_STORE: store(),
    })
    expect(run.code, run.stderr).toBe(0)
  })

  it('a service from PGSERVICEFILE', async () => {
    const folder = mkdtempSync(join(resolve('.tmp'), 'service-'))
    const file = join(folder, 'pg_service.conf')
    const { PGHOST, PGPORT, PGUSER, PGDATABASE } = pg()
    writeFileSync(file, `[source]\nhost=${PGHOST}\nport=${PGPORT}\nuser=${PGUSER}\ndbname=${PGDATABASE}\n`)
    const run = await runJobProcess('backup', ['--json', '--quiet'], {
      PGSERVICEFILE: file,
      PGSERVICE: 'source',
      PGPASSWORD: pg().PGPASSWORD,
      BACKUP_STORE: store(),
    })
    expect(run.code, run.stderr).toBe(0)
    expect(run.json?.rows).toBe(500)
  })

  it('a password with / # ? @ written into the URL as it is', async () => {
    const url = `postgresql://libpq_odd:${PASSWORD}@${server.host}/${db.name}`
    const run = await runJobProcess('backup', ['--json', '--quiet'], {
      DATABASE_URL: url,
      BACKUP_STORE: store(),
    })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr + run.stdout).not.toContain(PASSWORD)
  })

  it.skipIf(process.env.TEST_DATABASE_URL !== undefined)('a Unix-socket URL', async () => {
    expect(existsSync(`/tmp/.s.PGSQL.${server.port}`)).toBe(true)
    const url = `postgresql:///${db.name}?host=/tmp&port=${server.port}&user=postgres`
    const run = await runJobProcess('backup', ['--json', '--quiet'], {
      DATABASE_URL: url,
      PGPASSWORD: pg().PGPASSWORD,
      BACKUP_STORE: store(),
    })
    expect(run.code, run.stderr).toBe(0)
  })

  it('a bad port is a clear configuration error (exit 2) naming the setting', async () => {
    const run = await runJobProcess('backup', [], { ...pg(), PGPORT: '54x2', BACKUP_STORE: store() })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(
      'CONFIG_INVALID: PGPORT: the port must be a number from 1 to 65535, got "54x2"',
    )
  })

  it('a missing database is DB_NOT_FOUND, not unreachable', async () => {
    const run = await runJobProcess('backup', [], {
      ...pg(),
      PGDATABASE: 'no_such_database',
      BACKUP_STORE: store(),
    })
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/error DB_NOT_FOUND: the database at .*\/no_such_database does not exist/)
  })
})
