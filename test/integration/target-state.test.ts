// What a restore reads of its target before the first write: which of the archive's
// tables exist and which hold rows, probed a hundred tables per round trip.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readTargetState } from '../../lib/adapters/postgres/target.ts'
import { createDatabase, dropDatabase, withClient } from '../helpers/database.ts'

const TABLES = 150

describe('readTargetState', () => {
  let db: { name: string; url: string }

  beforeAll(async () => {
    db = await createDatabase('target_state')
    await withClient(db.url, async (client) => {
      const tables = Array.from({ length: TABLES }, (_, i) => `CREATE TABLE public.t${i} (id int);`)
      await client.query(tables.join('\n'))
      // One in the first hundred, one past it, and a partitioned table filled through a partition.
      await client.query('INSERT INTO public.t7 VALUES (1); INSERT INTO public.t123 VALUES (1)')
      await client.query(`CREATE TABLE public.events (id int, at date) PARTITION BY RANGE (at);
        CREATE TABLE public.events_2026 PARTITION OF public.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        INSERT INTO public.events VALUES (1, '2026-06-01')`)
    })
  })

  afterAll(async () => {
    await dropDatabase(db.name)
  })

  it('names exactly the tables that hold rows, past the first hundred too', async () => {
    const names = [...Array.from({ length: TABLES }, (_, i) => `public.t${i}`), 'public.events']
    const state = await withClient(db.url, (client) => readTargetState(client, names, []))
    const filled = [...state.tables.values()].filter((t) => t.hasRows).map((t) => `${t.schema}.${t.name}`)
    expect(filled.sort()).toEqual(['public.events', 'public.t123', 'public.t7'])
    expect(state.tables.size).toBe(TABLES + 1)
  })

  it('leaves a table that does not exist out', async () => {
    const state = await withClient(db.url, (client) =>
      readTargetState(client, ['public.t1', 'public.nope'], []),
    )
    expect([...state.tables.keys()]).toEqual(['public.t1'])
  })
})
