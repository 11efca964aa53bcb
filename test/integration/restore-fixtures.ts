// Shared by the restore tests: backups into a folder store, restores through the
// engine, and a fingerprint of a whole database to prove "unchanged" and "identical".
import { mkdirSync, mkdtempSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { decryptStream } from '../../lib/adapters/crypto/age.ts'
import { generateSchemaSql } from '../../lib/adapters/postgres/schema-sql.ts'
import { FileStore } from '../../lib/adapters/store/file-store.ts'
import type { Store } from '../../lib/adapters/store/store.ts'
import { type BackupResult, type GenerateSchemaSql, runBackup } from '../../lib/backup/postgres-source.ts'
import type { ProgressEvent } from '../../lib/core/events.ts'
import { Secret } from '../../lib/core/secret.ts'
import { selectEverything } from '../../lib/core/selection.ts'
import {
  type PostgresRestoreOptions,
  type RestoreResult,
  runRestore,
} from '../../lib/restore/database-restore.ts'
import type { RestoreDeps } from '../../lib/restore/restore.ts'
import { withClient } from '../helpers/database.ts'
import { testSigningKey, testTrust } from '../helpers/signing.ts'

export function tempFolder(label: string): string {
  mkdirSync(resolve('.tmp'), { recursive: true })
  return mkdtempSync(join(resolve('.tmp'), `${label}-`))
}

export function folderStore(): FileStore {
  return new FileStore(tempFolder('restore-store'))
}

export async function backupOf(
  url: string,
  store: Store,
  options: {
    schemaSql?: boolean
    now?: Date
    tables?: string[]
    rowOrder?: 'key' | 'none'
    /** Another schema.sql generator (the catalog path on PostgreSQL 15). */
    generate?: GenerateSchemaSql
    emit?: (event: ProgressEvent) => void
  } = {},
): Promise<BackupResult> {
  return runBackup(
    {
      store,
      emit: options.emit ?? (() => {}),
      now: () => options.now ?? new Date(),
      tempDir: tempFolder('restore-spool'),
      signingKey: testSigningKey(),
      ...(options.schemaSql === false ? {} : { generateSchemaSql: options.generate ?? generateSchemaSql }),
    },
    {
      source: new Secret(url),
      sourceSetting: 'DATABASE_URL',
      selection: { ...selectEverything, tables: options.tables ?? [] },
      jobs: 1,
      gzipLevel: 1,
      ...(options.rowOrder ? { rowOrder: options.rowOrder } : {}),
    },
  )
}

export function restoreDeps(store?: Store, events: ProgressEvent[] = []): RestoreDeps {
  return {
    emit: (event) => events.push(event),
    tempDir: tempFolder('restore-temp'),
    ...(store ? { store } : {}),
    decrypt: (name) => decryptStream(undefined, { name }),
    trust: testTrust(),
  }
}

export function restore(
  deps: RestoreDeps,
  what: string,
  target: string,
  options: Partial<Omit<PostgresRestoreOptions, 'what' | 'target'>> = {},
): Promise<RestoreResult> {
  return runRestore(deps, {
    what,
    target: new Secret(target),
    targetSetting: 'TARGET_DATABASE_URL',
    createSchema: false,
    truncate: false,
    verify: true,
    production: [],
    ...options,
  })
}

/**
 * Every user table's row count and content digest, every sequence's state, every
 * trigger's enabled flag and the list of relations: equal fingerprints mean the
 * database holds the same data and schema objects.
 */
export async function fingerprint(url: string): Promise<Record<string, string>> {
  return withClient(url, async (client) => {
    const out: Record<string, string> = {}
    const tables = await client.query<{ schema: string; name: string }>(
      `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
        ORDER BY 1, 2`,
    )
    for (const t of tables.rows) {
      const name = `"${t.schema}"."${t.name}"`
      const { rows } = await client.query<{ n: string; digest: string | null }>(
        `SELECT count(*)::text AS n, md5(string_agg(x::text, E'\\n' ORDER BY x::text COLLATE "C")) AS digest FROM ${name} x`,
      )
      out[`table ${t.schema}.${t.name}`] = `${rows[0]!.n} ${rows[0]!.digest}`
    }
    const sequences = await client.query<{ schema: string; name: string; last: string | null }>(
      `SELECT schemaname AS schema, sequencename AS name, last_value::text AS last FROM pg_sequences ORDER BY 1, 2`,
    )
    for (const s of sequences.rows) out[`sequence ${s.schema}.${s.name}`] = String(s.last)
    const triggers = await client.query<{ rel: string; name: string; enabled: string }>(
      `SELECT n.nspname || '.' || c.relname AS rel, t.tgname AS name, t.tgenabled::text AS enabled
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT t.tgisinternal ORDER BY 1, 2`,
    )
    for (const t of triggers.rows) out[`trigger ${t.rel}.${t.name}`] = t.enabled
    const relations = await client.query<{ list: string }>(
      `SELECT string_agg(n.nspname || '.' || c.relname || ':' || c.relkind::text, ',' ORDER BY n.nspname, c.relname) AS list
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`,
    )
    out.relations = relations.rows[0]!.list ?? ''
    return out
  })
}

/** The table data alone (no sequences, triggers or relation list), for source/target comparisons. */
export function dataOnly(print: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(print).filter(([k]) => k.startsWith('table ')))
}
