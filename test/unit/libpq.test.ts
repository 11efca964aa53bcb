// libpq's connection conventions, as psql applies them: URL and key=value strings, the
// service file, the PG* variables, the password file, sslmode; and the one complete URL
// every part of the tool receives.
import { describe, expect, it } from 'vitest'
import { connectionError, tlsAttempts } from '../../lib/adapters/postgres/connection.ts'
import { ConninfoError, parseConninfo } from '../../lib/adapters/postgres/conninfo.ts'
import {
  type ConnectionParams,
  connectionUrl,
  type LibpqHost,
  matchPassFile,
  resolveConnection,
} from '../../lib/adapters/postgres/libpq.ts'

const host = (files: Record<string, string> = {}): LibpqHost => ({
  readFile: (path) => files[path],
  home: '/home/ops',
  osUser: 'ops',
})

function refusal(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(ConninfoError)
    return (error as Error).message
  }
  throw new Error('expected a ConninfoError')
}

describe('parseConninfo', () => {
  it('reads a URL with every part', () => {
    expect(parseConninfo('postgresql://app:s3cret@db.example.com:6432/shop?sslmode=require')).toEqual({
      user: 'app',
      password: 's3cret',
      host: 'db.example.com',
      port: '6432',
      dbname: 'shop',
      sslmode: 'require',
    })
  })

  it('takes ? and # in a password unencoded, as libpq does', () => {
    expect(parseConninfo('postgres://app:pa?ss#word@db/shop').password).toBe('pa?ss#word')
  })

  it('takes / and @ in a password unencoded too, where libpq would misread the host', () => {
    expect(parseConninfo('postgresql://postgres:p/a@ss@db.abc.supabase.co:5432/postgres')).toMatchObject({
      user: 'postgres',
      password: 'p/a@ss',
      host: 'db.abc.supabase.co',
      port: '5432',
    })
  })

  it('decodes a percent-encoded password', () => {
    expect(parseConninfo('postgresql://app:p%2Fa%40ss%25@db/shop').password).toBe('p/a@ss%')
  })

  it('reads a Unix-socket URL', () => {
    expect(parseConninfo('postgresql:///app?host=/var/run/postgresql')).toEqual({
      dbname: 'app',
      host: '/var/run/postgresql',
    })
  })

  it('reads an IPv6 host', () => {
    expect(parseConninfo('postgresql://u@[::1]:5433/db')).toMatchObject({ host: '::1', port: '5433' })
  })

  it('refuses a port that is not a number, without quoting the text', () => {
    expect(refusal(() => parseConninfo('postgresql://u:pw@db:54x2/app'))).toBe(
      'has a port that is not a number from 1 to 65535 (percent-encode @ / ? # in the password)',
    )
    expect(refusal(() => parseConninfo('postgresql://u:pw@db:70000/app'))).toMatch(
      /not a number from 1 to 65535/,
    )
  })

  it('refuses several hosts (libpq failover is not for a snapshot)', () => {
    expect(refusal(() => parseConninfo('postgresql://a:5432,b:5432/db'))).toMatch(/several hosts/)
  })

  it('reads key=value strings with quoted values', () => {
    expect(parseConninfo('host=db port=5433  dbname = app')).toEqual({
      host: 'db',
      port: '5433',
      dbname: 'app',
    })
    expect(parseConninfo("password='a b\\'c'").password).toBe("a b'c")
  })

  it('refuses other URL schemes', () => {
    expect(refusal(() => parseConninfo('mysql://x'))).toBe(
      'is not a postgresql:// URL or a key=value connection string',
    )
  })
})

describe('resolveConnection', () => {
  it('fills what the string leaves out from the PG* variables, as psql does', () => {
    const params = resolveConnection(
      'postgresql:///shop',
      'DATABASE_URL',
      { PGHOST: 'db', PGUSER: 'app', PGPASSWORD: 'pw' },
      host(),
    )
    expect(params).toEqual({
      host: 'db',
      port: 5432,
      user: 'app',
      password: 'pw',
      dbname: 'shop',
      sslmode: 'prefer',
    })
  })

  it('keeps what the string says over the variables', () => {
    const params = resolveConnection(
      'postgresql://a@h1:5433/x',
      'DATABASE_URL',
      { PGHOST: 'h2', PGPORT: '1', PGUSER: 'b' },
      host(),
    )
    expect(params).toMatchObject({ host: 'h1', port: 5433, user: 'a', dbname: 'x' })
  })

  it('works from the variables alone, with libpq defaults (user = OS user, dbname = user)', () => {
    expect(resolveConnection(undefined, 'PGHOST', { PGHOST: '/tmp' }, host())).toEqual({
      host: '/tmp',
      port: 5432,
      user: 'ops',
      dbname: 'ops',
      sslmode: 'prefer',
    })
  })

  it('names PGPORT when it is not a port', () => {
    expect(
      refusal(() => resolveConnection(undefined, 'PGHOST', { PGHOST: 'db', PGPORT: 'abc' }, host())),
    ).toBe('PGPORT: the port must be a number from 1 to 65535, got "abc"')
  })

  it('names the setting of a bad URL', () => {
    expect(
      refusal(() => resolveConnection('postgresql://u:pw@db:x/app', 'TARGET_DATABASE_URL', {}, host())),
    ).toMatch(/^TARGET_DATABASE_URL has a port that is not a number/)
  })

  it('refuses an sslmode libpq does not know', () => {
    expect(refusal(() => resolveConnection('host=db sslmode=maybe', 'DATABASE_URL', {}, host()))).toMatch(
      /^DATABASE_URL: sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full/,
    )
  })

  it('reads a service from ~/.pg_service.conf, under what the string and variables say', () => {
    const files = {
      '/home/ops/.pg_service.conf': '# ops\n[staging]\nhost=stage.db\nport=6543\ndbname=app\nuser=svc\n',
    }
    const params = resolveConnection(
      'service=staging port=5432',
      'DATABASE_URL',
      { PGUSER: 'ignored' },
      host(files),
    )
    expect(params).toMatchObject({ host: 'stage.db', port: 5432, dbname: 'app', user: 'svc' })
  })

  it('looks in PGSERVICEFILE, then the system file, and says where it looked', () => {
    const files = { '/etc/pg/pg_service.conf': '[prod]\nhost=p\n' }
    expect(
      resolveConnection(undefined, 'PGSERVICE', { PGSERVICE: 'prod', PGSYSCONFDIR: '/etc/pg' }, host(files))
        .host,
    ).toBe('p')
    expect(
      refusal(() =>
        resolveConnection(undefined, 'PGSERVICE', { PGSERVICE: 'nope', PGSERVICEFILE: '/s' }, host()),
      ),
    ).toBe('service "nope" is not defined in /s or /etc/postgresql-common/pg_service.conf')
  })

  it('takes the password from the password file when none is given', () => {
    const files = { '/home/ops/.pgpass': 'other:*:*:*:no\ndb:5432:shop:app:from\\:file\n' }
    expect(resolveConnection('postgresql://app@db/shop', 'DATABASE_URL', {}, host(files)).password).toBe(
      'from:file',
    )
    expect(
      resolveConnection('postgresql://app:given@db/shop', 'DATABASE_URL', {}, host(files)).password,
    ).toBe('given')
  })
})

describe('matchPassFile', () => {
  const target = { host: '/var/run/postgresql', port: 5432, dbname: 'app', user: 'ops' }
  it('matches a socket connection by localhost, wildcards and escapes', () => {
    expect(matchPassFile('localhost:5432:*:ops:a\\\\b', target)).toBe('a\\b')
    expect(matchPassFile('# comment\nremote:*:*:*:x\n*:*:app:ops:y', target)).toBe('y')
    expect(matchPassFile('localhost:5433:*:ops:z', target)).toBeUndefined()
  })
})

describe('connectionUrl', () => {
  const params: ConnectionParams = {
    host: '/var/run/postgresql',
    port: 5432,
    user: 'app user',
    password: 'p/a@ss:#?%',
    dbname: 'my db',
    sslmode: 'disable',
  }

  it('writes a URL that reads back as the same connection', () => {
    const url = connectionUrl(params)
    expect(resolveConnection(url, 'x', {}, host())).toEqual(params)
    expect(new URL(url).password).not.toContain('/')
  })

  it('writes an IPv6 host in brackets', () => {
    expect(connectionUrl({ ...params, host: '::1' })).toMatch(/^postgresql:\/\/.+@\[::1\]:5432\//)
  })
})

describe('tlsAttempts', () => {
  const base: ConnectionParams = { host: 'db', port: 5432, user: 'u', dbname: 'd', sslmode: 'prefer' }
  it('follows libpq: prefer tries TLS without checking, then plain; require never goes plain', () => {
    expect(tlsAttempts(base)).toEqual([{ rejectUnauthorized: false }, false])
    expect(tlsAttempts({ ...base, sslmode: 'disable' })).toEqual([false])
    expect(tlsAttempts({ ...base, sslmode: 'allow' })).toEqual([false, { rejectUnauthorized: false }])
    expect(tlsAttempts({ ...base, sslmode: 'require' })).toEqual([{ rejectUnauthorized: false }])
    expect(tlsAttempts({ ...base, sslmode: 'verify-full' })).toEqual([{ servername: 'db' }])
  })
})

describe('connectionError', () => {
  it('reports a missing database as such, not as unreachable', () => {
    const error = connectionError(
      Object.assign(new Error('database "nope" does not exist'), { code: '3D000' }),
      'db:5432/nope',
    )
    expect(error.code).toBe('DB_NOT_FOUND')
    expect(error.message).toBe('the database at db:5432/nope does not exist')
  })

  it('reports a missing socket as unreachable', () => {
    expect(
      connectionError(Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' }), '/tmp:5432/x').code,
    ).toBe('DB_UNREACHABLE')
  })
})
