// schema.sql's statements run inside the restore's transaction, and a statement that
// slipped past the parser and ended it stops the restore at once, naming it: the next
// statement never runs outside the transaction.
import pg from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { applyStatements } from '../../lib/restore/postgres-steps.ts'
import type { SchemaStatement } from '../../lib/trust/schema-statements.ts'
import { createDatabase, dropDatabase, withClient } from '../helpers/database.ts'

/** Statements as the parser would hand them over; the test bypasses it on purpose. */
const statements = (...texts: string[]): SchemaStatement[] =>
  texts.map(
    (text, index) =>
      ({
        index,
        line: index + 1,
        endLine: index + 1,
        text,
        type: 'RawStmt',
        postData: false,
        references: [],
      }) as unknown as SchemaStatement,
  )

describe('applyStatements', () => {
  let db: { name: string; url: string }
  let client: pg.Client

  beforeAll(async () => {
    db = await createDatabase('apply')
  })

  afterAll(async () => {
    await dropDatabase(db.name)
  })

  beforeEach(async () => {
    client = new pg.Client({ connectionString: db.url })
    await client.connect()
    await client.query('DROP TABLE IF EXISTS a, b')
    await client.query('BEGIN')
  })

  afterEach(async () => {
    await client.end()
  })

  const tables = () =>
    withClient(db.url, async (other) => {
      const { rows } = await other.query<{ name: string }>(
        `SELECT relname AS name FROM pg_class WHERE relname IN ('a', 'b') ORDER BY 1`,
      )
      return rows.map((r) => r.name)
    })

  it('applies every statement inside the open transaction', async () => {
    await applyStatements(
      client,
      statements('CREATE TABLE a (id int)', 'CREATE TABLE b (id int)'),
      'schema.sql',
    )
    expect(client.getTransactionStatus()).toBe('T')
    expect(await tables()).toEqual([])
    await client.query('COMMIT')
    expect(await tables()).toEqual(['a', 'b'])
  })

  it('stops at a statement that commits, naming it, before the next one runs', async () => {
    const failure = applyStatements(
      client,
      statements('CREATE TABLE a (id int)', 'COMMIT', 'CREATE TABLE b (id int)'),
      'schema.sql',
    )
    await expect(failure).rejects.toMatchObject({
      code: 'RESTORE_FAILED',
      message: expect.stringMatching(/schema\.sql line 2 \("COMMIT"\) ended the restore transaction/),
    })
    expect(await tables()).toEqual(['a'])
  })

  it('stops at a statement that rolls back, before the next one runs', async () => {
    const failure = applyStatements(client, statements('ROLLBACK', 'CREATE TABLE b (id int)'), 'schema.sql')
    await expect(failure).rejects.toMatchObject({ code: 'RESTORE_FAILED' })
    expect(await tables()).toEqual([])
  })
})
