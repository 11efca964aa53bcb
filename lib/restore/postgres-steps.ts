// The steps a PostgreSQL restore takes inside its transaction, each small enough to
// read on its own: running schema SQL, keeping triggers quiet, sequences.
import type pg from 'pg'
import { queryError, quoteQualified } from '../adapters/postgres/connection.ts'
import { readUserTriggers, triggerStatements } from '../adapters/postgres/target.ts'
import { qualifiedName, type SequenceEntry } from '../archive/manifest.ts'
import { isLifeboatError, LifeboatError, toLifeboatError } from '../core/errors.ts'
import { describeStatement, type SchemaStatement, statementName } from '../trust/schema-statements.ts'

/** How user triggers were kept from rewriting restored rows (see docs/restore.md). */
export type TriggerMode = 'replica' | 'per-trigger'

export interface TriggersOff {
  mode: TriggerMode
  /** Statements that switch each disabled trigger back on as it was. */
  restore: string[]
}

/** Runs SQL in the transaction; the server's detail names the object at fault. */
export async function runStatement(client: pg.ClientBase, sql: string, what: string): Promise<void> {
  try {
    await client.query(sql)
  } catch (error) {
    // `Table "devices" references "buildings".`
    const e = error as Error & { detail?: string }
    if (e.detail) e.message = `${e.message} (${e.detail})`
    throw queryError(e, what)
  }
}

/**
 * Runs schema.sql's statements one at a time (the extended protocol refuses a text
 * holding two commands) and checks after each that the transaction is still the one
 * the restore opened: fail closed, whatever slipped past the parser. The check is the
 * transaction status the server reports with every answer (no round trip per statement,
 * which a remote project's hundreds of statements would pay): inside a transaction
 * block no single statement can end it and begin another, and the transaction id is
 * compared once more at the end.
 */
export async function applyStatements(
  client: pg.ClientBase,
  statements: readonly SchemaStatement[],
  part: string,
): Promise<void> {
  if (statements.length === 0) return
  const xid = await currentXid(client)
  for (const statement of statements) {
    const what = `applying ${part}: schema.sql ${describeStatement(statement)}`
    try {
      // @types/pg lacks `queryMode`, which pg itself honours (lib/query.js).
      await client.query({ text: statement.text, queryMode: 'extended' } as pg.QueryConfig)
    } catch (error) {
      const e = error as Error & { detail?: string }
      if (e.detail) e.message = `${e.message} (${e.detail})`
      throw queryError(e, what)
    }
    if (client.getTransactionStatus() !== 'T') throw endedTransaction(what)
  }
  if ((await currentXid(client)) !== xid) throw endedTransaction(`applying ${part}`)
}

/**
 * Statements the target may refuse without the restore failing (a policy the app put on
 * a platform's table, which only the platform's grants let it create): each runs behind a
 * savepoint, under the same transaction checks as applyStatements; a refusal is rolled
 * back to its savepoint and returned as one line, for `not reproduced:`.
 */
export async function applyOptionalStatements(
  client: pg.ClientBase,
  statements: readonly SchemaStatement[],
): Promise<string[]> {
  const refused: string[] = []
  if (statements.length === 0) return refused
  const xid = await currentXid(client)
  for (const statement of statements) {
    const what = `applying schema.sql ${describeStatement(statement)}`
    const error = await attemptStatement(client, statement.text, what)
    if (error) refused.push(`${statementName(statement)}: ${error}`)
  }
  if ((await currentXid(client)) !== xid) throw endedTransaction('applying schema.sql')
  return refused
}

/**
 * Runs one statement (extended protocol: one command only) behind a savepoint: a refusal
 * is rolled back to it and its message returned; undefined when it ran.
 */
export async function attemptStatement(
  client: pg.ClientBase,
  sql: string,
  what: string,
): Promise<string | undefined> {
  await runStatement(client, 'SAVEPOINT lifeboat_optional', what)
  try {
    await client.query({ text: sql, queryMode: 'extended' } as pg.QueryConfig)
    if (client.getTransactionStatus() !== 'T') throw endedTransaction(what)
    await runStatement(client, 'RELEASE SAVEPOINT lifeboat_optional', what)
    return undefined
  } catch (error) {
    if (isLifeboatError(error)) throw error
    await runStatement(client, 'ROLLBACK TO SAVEPOINT lifeboat_optional', what)
    return (error as Error).message
  }
}

function endedTransaction(what: string): LifeboatError {
  return new LifeboatError('RESTORE_FAILED', `${what} ended the restore transaction`)
}

async function currentXid(client: pg.ClientBase): Promise<string> {
  return (await client.query<{ x: string }>('SELECT pg_catalog.txid_current()::text AS x')).rows[0]!.x
}

/**
 * `session_replication_role = replica` keeps ordinary user triggers and the
 * foreign-key triggers from firing, as pg_dump --disable-triggers does; it needs a
 * superuser (or Supabase's postgres role). Without it, each user trigger is switched
 * off by name (table owner) and deferrable constraints are deferred to COMMIT.
 */
export async function switchOffTriggers(
  client: pg.ClientBase,
  tables: readonly string[],
): Promise<TriggersOff> {
  const mode = await switchOffTriggerChecks(client)
  const triggers = (await readUserTriggers(client, tables)).filter(
    (t) => mode === 'per-trigger' || t.enabled !== 'O',
  )
  const statements = triggerStatements(triggers)
  for (const [i, sql] of statements.disable.entries()) {
    const t = triggers[i]!
    try {
      await client.query(sql)
    } catch (error) {
      throw new LifeboatError(
        'DB_PERMISSION',
        `cannot switch off trigger ${t.name} on ${t.schema}.${t.table}: ${(error as Error).message}; restore as the table owner, or as a role allowed to SET session_replication_role (a superuser, Supabase's postgres)`,
        { cause: error },
      )
    }
  }
  return { mode, restore: statements.restore }
}

async function switchOffTriggerChecks(client: pg.ClientBase): Promise<TriggerMode> {
  await client.query('SAVEPOINT lifeboat_replica')
  try {
    await client.query('SET LOCAL session_replication_role = replica')
    await client.query('RELEASE SAVEPOINT lifeboat_replica')
    return 'replica'
  } catch (error) {
    if ((error as { code?: string }).code !== '42501') throw queryError(error, 'switching off triggers')
    await client.query('ROLLBACK TO SAVEPOINT lifeboat_replica')
    await client.query('SET CONSTRAINTS ALL DEFERRED')
    return 'per-trigger'
  }
}

/**
 * setval() is not transactional: a ROLLBACK keeps its value. `ALTER SEQUENCE …
 * RESTART` first gives the sequence new storage inside the transaction, and a
 * setval() on that storage is rolled back with it. ALTER needs the sequence's
 * owner; otherwise the old value goes to `undo`, to be put back if COMMIT fails.
 */
export async function setSequences(
  client: pg.ClientBase,
  sequences: readonly SequenceEntry[],
  undo: SequenceEntry[],
): Promise<void> {
  for (const s of sequences) {
    const name = quoteQualified(s.schema, s.name)
    try {
      await client.query('SAVEPOINT lifeboat_sequence')
      try {
        await client.query(`ALTER SEQUENCE ${name} RESTART`)
        await client.query('RELEASE SAVEPOINT lifeboat_sequence')
      } catch (error) {
        if ((error as { code?: string }).code !== '42501') throw error
        await client.query('ROLLBACK TO SAVEPOINT lifeboat_sequence')
        const old = await client.query<{ last: string; called: boolean }>(
          `SELECT last_value::text AS last, is_called AS called FROM ${name}`,
        )
        undo.push({
          schema: s.schema,
          name: s.name,
          lastValue: old.rows[0]!.last,
          isCalled: old.rows[0]!.called,
        })
      }
      await client.query('SELECT pg_catalog.setval($1::regclass, $2::bigint, $3)', [
        name,
        s.lastValue,
        s.isCalled,
      ])
    } catch (error) {
      throw queryError(error, `setting sequence ${qualifiedName(s)}`)
    }
  }
}

const PER_TRIGGER_FK_HINT =
  'this role may not SET session_replication_role, so foreign keys are checked while loading: a cycle needs DEFERRABLE constraints; restore as a superuser or Supabase’s postgres role instead'

/**
 * Every failure inside the transaction becomes RESTORE_FAILED, saying what was rolled
 * back; a data file that failed its check while it loaded stays VERIFY_FAILED (the
 * archive is at fault, not the target), naming the file.
 */
export function rolledBack(
  error: unknown,
  step: string,
  committing: boolean,
  mode: TriggerMode | undefined,
): LifeboatError {
  const cause = toLifeboatError(error)
  if (cause.code === 'INTERRUPTED') {
    return new LifeboatError(
      'INTERRUPTED',
      `interrupted while ${step}; rolled back, the target is unchanged`,
      {
        cause: error,
      },
    )
  }
  if (cause.code === 'VERIFY_FAILED') {
    return new LifeboatError(
      'VERIFY_FAILED',
      `${cause.message}; rolled back while ${step}, the target is unchanged`,
      {
        cause: error,
        details: cause.details,
      },
    )
  }
  const lost = cause.code === 'DB_UNREACHABLE'
  if (committing && lost) {
    return new LifeboatError(
      'RESTORE_FAILED',
      `the connection was lost while committing; the server either committed the whole restore or nothing: check the target before retrying (${cause.message})`,
      { cause: error, details: cause.details },
    )
  }
  const hint =
    mode === 'per-trigger' && (error as { cause?: { code?: string } }).cause?.code === '23503'
      ? ` (${PER_TRIGGER_FK_HINT})`
      : ''
  const why = lost ? 'the server rolled the transaction back' : 'rolled back'
  const code =
    isLifeboatError(error) && error.code !== 'RESTORE_FAILED' && error.code !== 'INTERNAL'
      ? ` [${error.code}]`
      : ''
  return new LifeboatError(
    'RESTORE_FAILED',
    `${step} failed${code}, ${why}; the target is unchanged: ${cause.message}${hint}`,
    { cause: error, details: cause.details },
  )
}
