// The row digest: the backup computes it from the COPY text it exports
// (lib/archive/row-digest.ts), the server computes it over the restored rows
// (lib/adapters/postgres/table-digest.ts), and they agree on the awkward-types fixture;
// it changes with a missing, an extra or a changed row; the restore proves each table by
// it (re-export where an archive has none); psql alone gives the same number.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PINNED_SESSION_SETTINGS } from '../../lib/adapters/postgres/connection.ts'
import { digestStatement, digestTables, readTextCast } from '../../lib/adapters/postgres/table-digest.ts'
import { qualifiedName, type TableEntry } from '../../lib/archive/manifest.ts'
import { DIGEST_METHOD, digestMismatch } from '../../lib/archive/table-digest.ts'
import type { BackupResult } from '../../lib/backup/postgres-source.ts'
import type { LifeboatError } from '../../lib/core/errors.ts'
import { proveRestoredTables } from '../../lib/restore/postgres-proof.ts'
import type { TableOutcome } from '../../lib/restore/target.ts'
import { createDatabase, dropDatabase, sql, withClient } from '../helpers/database.ts'
import { backupOf, folderStore, restore, restoreDeps } from './restore-fixtures.ts'
import { TYPES_DATA, TYPES_SCHEMA } from './types-fixture.ts'

const run = promisify(execFile)
const PSQL = '/usr/lib/postgresql/15/bin/psql'

let created: string[] = []
let source: string
let tables: TableEntry[]

beforeAll(async () => {
  const db = await createDatabase('digest_src')
  created.push(db.name)
  source = db.url
  await sql(source, TYPES_SCHEMA)
  await sql(source, TYPES_DATA)
  tables = (await backupOf(source, folderStore())).manifest.tables
})

afterAll(async () => {
  await Promise.all(created.map(dropDatabase))
  created = []
})

function entry(name: string): TableEntry {
  return tables.find((t) => t.name === name)!
}

/** The digest over the source as it is after `change`, which is rolled back. */
async function digestAfter(change: string, name: string) {
  return withClient(source, async (client) => {
    for (const [setting, value] of Object.entries(PINNED_SESSION_SETTINGS))
      await client.query('SELECT set_config($1, $2, false)', [setting, value])
    await client.query('BEGIN')
    try {
      if (change) await client.query(change)
      return (await digestTables(client, [entry(name)])).get(`public.${name}`)!
    } finally {
      await client.query('ROLLBACK')
    }
  })
}

describe('the backup records a digest per table', () => {
  it('names its method, and the server measures the same over the unchanged source', async () => {
    expect(tables.map((t) => [t.name, t.digest?.method])).toEqual([
      ['no_key', DIGEST_METHOD],
      ['types', DIGEST_METHOD],
    ])
    for (const name of ['no_key', 'types']) {
      expect(digestMismatch(entry(name), await digestAfter('', name))).toBeUndefined()
    }
  })
})

describe('a digest that differs from the manifest', () => {
  it('catches a missing row', async () => {
    const measured = await digestAfter(`DELETE FROM public.types WHERE id = 3`, 'types')
    expect(digestMismatch(entry('types'), measured)).toBe('public.types: 3 rows restored (4 in the backup)')
  })

  it('catches an extra row, even a copy of one already there', async () => {
    const measured = await digestAfter(`INSERT INTO public.no_key VALUES ('same', 1)`, 'no_key')
    expect(digestMismatch(entry('no_key'), measured)).toMatch(/6 rows restored \(5 in the backup\)/)
  })

  it('catches a row changed only in its text (json whitespace), with the count unchanged', async () => {
    const measured = await digestAfter(
      `UPDATE public.types SET doc = '{"b": 1, "a": [1, 2], "a": null}' WHERE id = 1`,
      'types',
    )
    expect(measured.rows).toBe(4)
    expect(digestMismatch(entry('types'), measured)).toMatch(/digest differs \(a row changed\)/)
  })

  it('catches both copies of a duplicated row changed alike (a sum, not an XOR)', async () => {
    const measured = await digestAfter(`UPDATE public.no_key SET b = 7 WHERE a = 'same'`, 'no_key')
    expect(digestMismatch(entry('no_key'), measured)).toMatch(/digest differs/)
  })

  it('catches a missing row replaced by a new one (same count)', async () => {
    const measured = await digestAfter(
      `DELETE FROM public.no_key WHERE a = 'Z'; INSERT INTO public.no_key VALUES ('Y', 2)`,
      'no_key',
    )
    expect(digestMismatch(entry('no_key'), measured)).toMatch(/digest differs/)
  })

  it('ignores the physical order of the rows', async () => {
    const measured = await digestAfter(
      `CREATE TEMP TABLE keep AS SELECT * FROM public.no_key;
       TRUNCATE public.no_key;
       INSERT INTO public.no_key SELECT * FROM keep ORDER BY a DESC NULLS FIRST, b DESC`,
      'no_key',
    )
    expect(digestMismatch(entry('no_key'), measured)).toBeUndefined()
  })
})

describe('the restored tables', () => {
  for (const createSchema of [false, true]) {
    it(`have the digest the backup recorded (${createSchema ? '--create-schema' : 'existing schema'})`, async () => {
      const store = folderStore()
      const backup = await backupOf(source, store)
      const db = await createDatabase('digest_dst')
      created.push(db.name)
      if (!createSchema) await sql(db.url, TYPES_SCHEMA)
      await restore(restoreDeps(store), 'latest', db.url, { createSchema })
      await withClient(db.url, async (client) => {
        for (const [setting, value] of Object.entries(PINNED_SESSION_SETTINGS))
          await client.query('SELECT set_config($1, $2, false)', [setting, value])
        const measured = await digestTables(client, backup.manifest.tables)
        for (const table of backup.manifest.tables) {
          expect(digestMismatch(table, measured.get(qualifiedName(table))!)).toBeUndefined()
        }
      })
    })
  }
})

describe('an unordered export (rowOrder: none)', () => {
  it('is proven by the digest where a re-export in key order would differ', async () => {
    const store = folderStore()
    const backup = await backupOf(source, store, { rowOrder: 'none' })
    expect(backup.manifest.tables.map((t) => [t.name, t.rowOrder, t.digest?.method])).toEqual([
      ['no_key', 'none', DIGEST_METHOD],
      ['types', 'none', DIGEST_METHOD],
    ])
    // The file of the table without a key is not in row-text order, so its bytes differ.
    const noKey = backup.manifest.tables.find((t) => t.name === 'no_key')!
    expect(noKey.sha256).not.toBe(entry('no_key').sha256)
    expect(noKey.digest).toEqual(entry('no_key').digest)
    const db = await createDatabase('digest_unordered')
    created.push(db.name)
    const result = await restore(restoreDeps(store), 'latest', db.url, { createSchema: true })
    expect(result.tables.map((t) => [t.table, t.proof, t.sha256Match])).toEqual([
      ['public.no_key', 'digest', true],
      ['public.types', 'digest', true],
    ])
  })
})

describe("the restore's proof (prove phase)", () => {
  let target: string
  let backup: BackupResult
  beforeAll(async () => {
    const store = folderStore()
    backup = await backupOf(source, store)
    const db = await createDatabase('digest_proof')
    created.push(db.name)
    target = db.url
    const result = await restore(restoreDeps(store), 'latest', target, { createSchema: true })
    expect(result.tables.map((t) => [t.table, t.rowsRestored, t.proof, t.sha256Match])).toEqual([
      ['public.no_key', 5, 'digest', true],
      ['public.types', 4, 'digest', true],
    ])
  })

  /** Runs the proof over the target after `change` (rolled back), as the restore runs it. */
  async function proveAfter(change: string, tables: TableEntry[]) {
    return withClient(target, async (client) => {
      for (const [setting, value] of Object.entries(PINNED_SESSION_SETTINGS))
        await client.query('SELECT set_config($1, $2, false)', [setting, value])
      await client.query('BEGIN')
      const outcomes = new Map<string, TableOutcome>(
        tables.map((t) => [
          qualifiedName(t),
          {
            table: qualifiedName(t),
            rowsExpected: t.rows,
            rowsLoaded: t.rows,
            bytes: t.bytes,
            loadSeconds: 0,
          },
        ]),
      )
      try {
        await client.query(change)
        await proveRestoredTables(client, tables, outcomes, () => {})
        return { outcomes }
      } catch (error) {
        return { outcomes, error: error as LifeboatError }
      } finally {
        await client.query('ROLLBACK')
      }
    })
  }

  it('fails a changed row by digest, naming the table, with the count unchanged', async () => {
    const { outcomes, error } = await proveAfter(
      `UPDATE public.types SET body = body || '!' WHERE id = 2`,
      backup.manifest.tables,
    )
    expect(error?.code).toBe('RESTORE_FAILED')
    expect(error?.message).toMatch(
      /1 restored table differ from the backup: public\.types: 4 rows as in the backup, but their digest differs/,
    )
    expect(outcomes.get('public.types')).toMatchObject({
      proof: 'digest',
      rowsRestored: 4,
      sha256Match: false,
    })
    expect(outcomes.get('public.no_key')).toMatchObject({ proof: 'digest', sha256Match: true })
  })

  it('fails a missing row by digest', async () => {
    const { error } = await proveAfter(`DELETE FROM public.no_key WHERE a = 'Z'`, backup.manifest.tables)
    expect(error?.message).toMatch(/public\.no_key: 4 rows restored \(5 in the backup\)/)
  })

  it('proves an archive without digests by re-export, which fails the same changed row', async () => {
    const withoutDigests = backup.manifest.tables.map(({ digest: _digest, ...t }) => t)
    const unchanged = await proveAfter('SELECT 1', withoutDigests)
    expect(unchanged.error).toBeUndefined()
    expect([...unchanged.outcomes.values()].map((o) => [o.proof, o.sha256Match])).toEqual([
      ['sha256', true],
      ['sha256', true],
    ])
    const { error, outcomes } = await proveAfter(
      `UPDATE public.types SET body = body || '!' WHERE id = 2`,
      withoutDigests,
    )
    expect(error?.message).toMatch(/public\.types: 4 rows restored \(4 in the backup\), sha256 differs/)
    expect(outcomes.get('public.types')).toMatchObject({ proof: 'sha256', sha256Match: false })
  })
})

describe('by hand', () => {
  it('psql with the pinned settings prints the manifest digest', async () => {
    const types = entry('types')
    const textCast = (await withClient(source, (client) => readTextCast(client, [types]))).get(
      'public.types',
    )!
    expect([...textCast].sort()).toEqual(['address', 'count', 'network', 'truth'])
    const options = Object.entries(PINNED_SESSION_SETTINGS)
      .filter(([name]) => name !== 'search_path')
      .map(([name, value]) => `-c ${name}=${value}`)
      .join(' ')
    const { stdout } = await run(
      PSQL,
      ['-X', '-At', '-d', source, '-c', digestStatement({ ...types, textCast })],
      {
        env: { ...process.env, PGOPTIONS: options },
      },
    )
    expect(stdout.trim()).toBe(`${types.rows}|${types.digest!.sum}`)
  })
})
