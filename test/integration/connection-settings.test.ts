// A connection's session settings are applied in one round trip (each statement is a
// round trip to a remote database, on every connection a job opens), all of them, and
// with keepalives asked for, PostgreSQL 14+ also checks for a vanished client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, PINNED_SESSION_SETTINGS } from '../../lib/adapters/postgres/connection.ts'
import { Secret } from '../../lib/core/secret.ts'
import { createDatabase, dropDatabase, withClient } from '../helpers/database.ts'

describe('connect with session settings', () => {
  let db: { name: string; url: string }

  beforeAll(async () => {
    db = await createDatabase('settings')
  })

  afterAll(async () => {
    await dropDatabase(db.name)
  })

  async function statementsOf(applicationName: string): Promise<string[]> {
    return withClient(db.url, async (client) => {
      const { rows } = await client.query<{ query: string }>(
        'SELECT query FROM pg_stat_activity WHERE application_name = $1',
        [applicationName],
      )
      return rows.map((r) => r.query)
    })
  }

  it('applies every pinned setting', async () => {
    const client = await connect(new Secret(db.url), {
      settings: { ...PINNED_SESSION_SETTINGS, DateStyle: 'ISO, DMY' },
    })
    try {
      for (const [name, value] of Object.entries({ ...PINNED_SESSION_SETTINGS, DateStyle: 'ISO, DMY' })) {
        const { rows } = await client.query<{ value: string }>('SELECT current_setting($1) AS value', [name])
        expect(rows[0]!.value, name).toBe(value)
      }
    } finally {
      await client.end()
    }
  })

  it('sends them as one statement', async () => {
    const name = `lifeboat settings ${process.pid}`
    const client = await connect(new Secret(db.url), {
      applicationName: name,
      settings: PINNED_SESSION_SETTINGS,
    })
    try {
      // The last statement the session ran is the one that set them all.
      const [last] = await statementsOf(name)
      expect(last).toMatch(/set_config\(s\.name, s\.value, false\) FROM unnest/)
    } finally {
      await client.end()
    }
  })

  it('asks the server to notice a vanished client when keepalives are on', async () => {
    const client = await connect(new Secret(db.url), { settings: { tcp_keepalives_idle: '60' } })
    try {
      const { rows } = await client.query<{ version: number; interval: string }>(
        `SELECT current_setting('server_version_num')::int AS version, current_setting('client_connection_check_interval') AS interval`,
      )
      expect(rows[0]!.version).toBeGreaterThanOrEqual(140000)
      expect(rows[0]!.interval).toBe('10s')
    } finally {
      await client.end()
    }
  })

  it('refuses a setting the server does not know, naming it', async () => {
    await expect(
      connect(new Secret(db.url), { settings: { 'no_such.thing_at_all': 'x', bad_setting: '1' } }),
    ).rejects.toThrow(/bad_setting/)
  })
})
