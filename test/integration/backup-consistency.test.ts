// Every table comes from one snapshot: money moved between two tables while the
// backup runs still balances in the archive, with one connection or several.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FileStore } from '../../lib/adapters/store/file-store.ts'
import { runBackup } from '../../lib/backup/postgres-source.ts'
import { ignoreEvents } from '../../lib/core/events.ts'
import { Secret } from '../../lib/core/secret.ts'
import { selectEverything } from '../../lib/core/selection.ts'
import { extractWithTar, readNdjson } from '../helpers/archive.ts'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'

const ACCOUNTS = 100_000
const OPENING_BALANCE = 1_000

let db: { name: string; url: string }

beforeAll(async () => {
  db = await createDatabase('consistency')
  for (const table of ['ledger_a', 'ledger_b']) {
    await sql(
      db.url,
      `CREATE TABLE ${table} (id int PRIMARY KEY, balance bigint NOT NULL, memo text NOT NULL)`,
    )
    await sql(
      db.url,
      `INSERT INTO ${table} SELECT g, ${OPENING_BALANCE}, repeat(md5(g::text), 8) FROM generate_series(1, ${ACCOUNTS}) g`,
    )
  }
})
afterAll(async () => dropDatabase(db.name))

/** Moves money between the two tables in transactions until stopped; returns the commit count. */
function startTransfers(url: string): { stop: () => Promise<number> } {
  let running = true
  let committed = 0
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => {})
  const loop = (async () => {
    await client.connect()
    let i = 0
    while (running && i < 100_000) {
      i++
      const [from, to] = i % 2 === 0 ? ['ledger_a', 'ledger_b'] : ['ledger_b', 'ledger_a']
      const amount = 1 + (i % 50)
      await client.query('BEGIN')
      await client.query(`UPDATE ${from} SET balance = balance - $1 WHERE id = $2`, [
        amount,
        1 + ((i * 7919) % ACCOUNTS),
      ])
      await client.query(`UPDATE ${to} SET balance = balance + $1 WHERE id = $2`, [
        amount,
        1 + ((i * 104729) % ACCOUNTS),
      ])
      await client.query('COMMIT')
      committed++
    }
  })()
  return {
    stop: async () => {
      running = false
      await loop
      await client.end()
      return committed
    },
  }
}

function balanceOf(root: string, table: string): bigint {
  return readNdjson(root, `data/public.${table}.ndjson`).reduce((sum, row) => sum + BigInt(row.balance!), 0n)
}

describe('a backup taken while money moves between two tables', () => {
  for (const jobs of [1, 2]) {
    it(`balances in the archive with --jobs ${jobs}`, async () => {
      const folder = mkdtempSync(join(resolve('.tmp'), 'store-'))
      const transfers = startTransfers(db.url)
      await new Promise((r) => setTimeout(r, 200))
      const result = await runBackup(
        {
          store: new FileStore(folder),
          now: () => new Date(),
          tempDir: tmpdir(),
          emit: ignoreEvents,
        },
        {
          source: new Secret(db.url),
          sourceSetting: 'DATABASE_URL',
          selection: selectEverything,
          jobs,
          gzipLevel: 1,
        },
      )
      const committed = await transfers.stop()
      expect(committed).toBeGreaterThan(0)

      const root = extractWithTar(join(folder, result.key))
      const total = balanceOf(root, 'ledger_a') + balanceOf(root, 'ledger_b')
      expect(total).toBe(BigInt(2 * ACCOUNTS * OPENING_BALANCE))
    })
  }
})

describe('big tables split into key ranges across connections', () => {
  it('balance in the archive while money moves', async () => {
    const folder = mkdtempSync(join(resolve('.tmp'), 'store-'))
    const transfers = startTransfers(db.url)
    await new Promise((r) => setTimeout(r, 200))
    const result = await runBackup(
      { store: new FileStore(folder), now: () => new Date(), tempDir: tmpdir(), emit: ignoreEvents },
      {
        source: new Secret(db.url),
        sourceSetting: 'DATABASE_URL',
        selection: selectEverything,
        jobs: 2,
        gzipLevel: 1,
        splitMinBytes: 1,
      },
    )
    expect(await transfers.stop()).toBeGreaterThan(0)
    const root = extractWithTar(join(folder, result.key))
    expect(balanceOf(root, 'ledger_a') + balanceOf(root, 'ledger_b')).toBe(
      BigInt(2 * ACCOUNTS * OPENING_BALANCE),
    )
  })

  it('write the same data files, byte for byte, as an unsplit export', async () => {
    const parts: number[] = []
    const backupWith = async (jobs: number, splitMinBytes?: number) => {
      const folder = mkdtempSync(join(resolve('.tmp'), 'store-'))
      const result = await runBackup(
        {
          store: new FileStore(folder),
          now: () => new Date(),
          tempDir: tmpdir(),
          emit: (event) => {
            if (event.type === 'table-done') parts.push(event.parts ?? 1)
          },
        },
        {
          source: new Secret(db.url),
          sourceSetting: 'DATABASE_URL',
          selection: selectEverything,
          jobs,
          gzipLevel: 1,
          ...(splitMinBytes !== undefined ? { splitMinBytes } : {}),
        },
      )
      return result.manifest.tables.map((t) => ({ table: t.name, rows: t.rows, sha256: t.sha256 }))
    }
    const split = await backupWith(3, 1)
    expect(parts).toEqual([6, 6])
    expect(split.map((t) => t.rows)).toEqual([ACCOUNTS, ACCOUNTS])
    expect(split).toEqual(await backupWith(1))
  })
})
