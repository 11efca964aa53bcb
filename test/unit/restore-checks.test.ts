import { describe, expect, it } from 'vitest'
import type { ColumnInfo, Manifest, TableEntry } from '../../lib/archive/manifest.ts'
import type { LifeboatError } from '../../lib/core/errors.ts'
import { readRestoreConfig } from '../../lib/core/restore-config.ts'
import { assertTargetAllowed, productionReasons, sameDatabase } from '../../lib/restore/production-guard.ts'
import { selectArchiveTables, sequencesToRestore } from '../../lib/restore/subset.ts'
import {
  assertCreatable,
  assertParentsPresent,
  assertSchemaCompatible,
  assertTargetEmpty,
  checkSchema,
  missingParents,
  type TargetColumn,
  type TargetState,
  type TargetTable,
  typeCompatible,
} from '../../lib/restore/target-checks.ts'
import { inspectSchemaSql } from '../../lib/trust/inspect-schema-sql.ts'

function thrown(work: () => unknown): LifeboatError {
  try {
    work()
  } catch (error) {
    return error as LifeboatError
  }
  throw new Error('expected an error')
}

const column = (name: string, type: string, extra: Partial<ColumnInfo> = {}): ColumnInfo => ({
  name,
  type,
  nullable: true,
  identity: null,
  generated: false,
  ...extra,
})

function table(
  schema: string,
  name: string,
  columns: ColumnInfo[],
  extra: Partial<TableEntry> = {},
): TableEntry {
  return {
    schema,
    name,
    file: `data/${schema}.${name}.ndjson`,
    rows: 10,
    bytes: 100,
    sha256: '0'.repeat(64),
    columns,
    primaryKey: [],
    foreignKeys: [],
    kind: 'r',
    ...extra,
  }
}

const fk = (schema: string, name: string) => ({
  name: `to_${name}`,
  columns: [`${name}_id`],
  referencedSchema: schema,
  referencedTable: name,
  referencedColumns: ['id'],
})

const orgs = table('public', 'orgs', [
  column('id', 'bigint', { identity: 'd', nullable: false }),
  column('name', 'text'),
])
const users = table('auth', 'users', [column('id', 'uuid')])
const buildings = table('public', 'buildings', [column('id', 'bigint'), column('orgs_id', 'bigint')], {
  foreignKeys: [fk('public', 'orgs')],
})
const manifest = {
  id: 'backup-2026-01-01T000000Z',
  tables: [users, orgs, buildings],
  sequences: [
    {
      schema: 'public',
      name: 'orgs_id_seq',
      lastValue: '20',
      isCalled: true,
      ownedBy: { schema: 'public', table: 'orgs', column: 'id' },
    },
    { schema: 'public', name: 'free_seq', lastValue: '1', isCalled: false },
  ],
  schemaSql: { file: 'schema.sql', source: 'catalog', sha256: 'x', bytes: 1 },
} as unknown as Manifest

const targetColumn = (name: string, type: string, extra: Partial<TargetColumn> = {}): TargetColumn => ({
  name,
  type,
  notNull: false,
  hasDefault: false,
  identity: null,
  generated: false,
  collatable: false,
  textCast: false,
  padded: false,
  ...extra,
})

function state(tables: TargetTable[], sequences: string[] = []): TargetState {
  return { tables: new Map(tables.map((t) => [`${t.schema}.${t.name}`, t])), sequences: new Set(sequences) }
}

const asTarget = (t: TableEntry, hasRows = false): TargetTable => ({
  schema: t.schema,
  name: t.name,
  kind: 'r',
  hasRows,
  columns: t.columns.map((c) =>
    targetColumn(c.name, c.type, { identity: c.identity, generated: c.generated }),
  ),
})

describe('readRestoreConfig', () => {
  const env = { TARGET_DATABASE_URL: 'postgresql://u:p@db.example.com:5432/restore' }

  it('reads the target, flags and the production sources of the environment', () => {
    const config = readRestoreConfig(
      { ...env, DATABASE_URL: 'postgresql://u:p@prod:5432/app', BACKUP_STORE: 's3://bucket/prefix' },
      { truncate: true, verify: false, confirm: 'restore', table: ['public.orgs'] },
      ['latest'],
    )
    expect(config).toMatchObject({
      what: 'latest',
      targetSetting: 'TARGET_DATABASE_URL',
      truncate: true,
      createSchema: false,
      verify: false,
      confirm: 'restore',
      selection: { tables: ['public.orgs'], schemas: [] },
      store: { url: 's3://bucket/prefix' },
    })
    // Completed by libpq's rules: the default sslmode is written out.
    expect(config.target?.reveal()).toBe(`${env.TARGET_DATABASE_URL}?sslmode=prefer`)
    expect(config.production.map((p) => p.setting)).toEqual(['DATABASE_URL'])
  })

  it('needs no store for a local archive, and no selection means everything', () => {
    const config = readRestoreConfig(env, { verify: true }, ['./backup.tar.gz'])
    expect(config.store).toBeUndefined()
    expect(config.selection).toBeUndefined()
    expect(config.verify).toBe(true)
  })

  it('--target wins over TARGET_DATABASE_URL', () => {
    const config = readRestoreConfig(env, { target: 'postgres://me@other/db' }, ['latest'])
    expect(config.targetSetting).toBe('--target')
    expect(config.target?.reveal()).toBe('postgresql://me@other:5432/db?sslmode=prefer')
  })

  it('never falls back to DATABASE_URL for the target', () => {
    const error = thrown(() => readRestoreConfig({ DATABASE_URL: 'postgresql://prod/app' }, {}, ['latest']))
    expect(error.code).toBe('CONFIG_MISSING')
    expect(error.message).toBe('TARGET_DATABASE_URL or --target is not set')
  })

  it('reports every bad setting at once', () => {
    const error = thrown(() =>
      readRestoreConfig({ TARGET_DATABASE_URL: 'mysql://x', BACKUP_STORE: 'ftp://x' }, {}, ['latest']),
    )
    expect(error.code).toBe('CONFIG_INVALID')
    expect(error.details).toEqual([
      'TARGET_DATABASE_URL is not a postgresql:// URL or a key=value connection string',
      'BACKUP_STORE must be s3://bucket/prefix, file://path or a path starting with / or ., got "ftp://x"',
    ])
  })

  it('takes exactly one backup', () => {
    expect(thrown(() => readRestoreConfig(env, {}, [])).code).toBe('USAGE')
    expect(thrown(() => readRestoreConfig(env, {}, ['latest', 'extra'])).code).toBe('USAGE')
  })
})

describe('selectArchiveTables', () => {
  const sel = (
    s: Partial<{ schemas: string[]; excludeSchemas: string[]; tables: string[]; excludeTables: string[] }>,
  ) => ({
    schemas: [],
    excludeSchemas: [],
    tables: [],
    excludeTables: [],
    ...s,
  })
  const names = (tables: TableEntry[]) => tables.map((t) => `${t.schema}.${t.name}`)

  it('everything, in archive order, without a selection', () => {
    expect(names(selectArchiveTables(manifest, undefined))).toEqual([
      'auth.users',
      'public.orgs',
      'public.buildings',
    ])
  })

  it.each([
    [{ tables: ['orgs'] }, ['public.orgs']],
    [{ tables: ['public.b*', 'auth.users'] }, ['auth.users', 'public.buildings']],
    [{ schemas: ['auth'] }, ['auth.users']],
    [{ schemas: ['public'], excludeTables: ['buildings'] }, ['public.orgs']],
    [{ excludeSchemas: ['auth'] }, ['public.orgs', 'public.buildings']],
    [{ tables: ['orgs'], schemas: ['auth'] }, ['auth.users', 'public.orgs']],
    [{ excludeTables: ['public.*'] }, ['auth.users']],
  ])('%j', (selection, expected) => {
    expect(names(selectArchiveTables(manifest, sel(selection)))).toEqual(expected)
  })

  it('a selection that matches nothing is bad usage', () => {
    expect(thrown(() => selectArchiveTables(manifest, sel({ tables: ['nope'] }))).code).toBe('USAGE')
  })

  it('sequences: all for a full restore, those of the restored tables for a subset', () => {
    expect(sequencesToRestore(manifest, manifest.tables).map((s) => s.name)).toEqual([
      'orgs_id_seq',
      'free_seq',
    ])
    expect(sequencesToRestore(manifest, [orgs]).map((s) => s.name)).toEqual(['orgs_id_seq'])
    expect(sequencesToRestore(manifest, [users])).toEqual([])
  })

  it('sequences: a subset sets a standalone sequence its column defaults call (usedBy)', () => {
    const ticket = { schema: 'public', name: 'ticket_seq', lastValue: '1003', isCalled: true }
    const withTicket = {
      ...manifest,
      sequences: [...manifest.sequences, { ...ticket, usedBy: ['public.buildings'] }],
    } as Manifest
    expect(sequencesToRestore(withTicket, [buildings]).map((s) => s.name)).toEqual(['ticket_seq'])
    expect(sequencesToRestore(withTicket, [orgs]).map((s) => s.name)).toEqual(['orgs_id_seq'])
  })
})

describe('typeCompatible', () => {
  it.each([
    ['text', 'text', true],
    ['public.mood', 'public.mood', true],
    ['character varying(10)', 'character varying(20)', true],
    ['character varying(10)', 'character varying(10)', true],
    ['character varying(20)', 'character varying(10)', false],
    ['character varying(10)', 'character varying', true],
    ['character varying(10)', 'text', true],
    ['character varying', 'text', true],
    ['character varying', 'character varying(10)', false],
    ['text', 'character varying(500)', false],
    ['smallint', 'integer', true],
    ['integer', 'bigint', true],
    ['bigint', 'integer', false],
    ['numeric(12,2)', 'numeric', true],
    ['numeric', 'numeric(12,2)', false],
    ['numeric(12,2)', 'numeric(14,2)', false],
    ['timestamp(3) with time zone', 'timestamp with time zone', true],
    ['timestamp(3) without time zone', 'timestamp(6) without time zone', true],
    ['timestamp(3) without time zone', 'timestamp with time zone', false],
    ['time(2) without time zone', 'time without time zone', true],
    ['integer[]', 'bigint[]', true],
    ['character varying(5)[]', 'text[]', true],
    ['integer[]', 'integer', false],
    ['integer', 'integer[]', false],
    ['text', 'public.mood', false],
    ['real', 'double precision', false],
    ['json', 'jsonb', false],
  ])('%s -> %s: %s', (from, to, expected) => {
    expect(typeCompatible(from, to)).toBe(expected)
  })
})

describe('checkSchema', () => {
  it('passes a target that matches', () => {
    expect(
      checkSchema(
        manifest.tables,
        manifest.sequences,
        state(
          manifest.tables.map((t) => asTarget(t)),
          ['public.orgs_id_seq', 'public.free_seq'],
        ),
      ),
    ).toEqual([])
  })

  it('lists every problem, one line each', () => {
    const target = state(
      [
        {
          ...asTarget(orgs),
          columns: [targetColumn('id', 'integer'), targetColumn('extra', 'text', { notNull: true })],
        },
        { ...asTarget(users), kind: 'v' },
      ],
      ['public.orgs_id_seq'],
    )
    expect(checkSchema(manifest.tables, manifest.sequences, target)).toEqual([
      'auth.users: is not a table in the target (relkind v)',
      'public.orgs.id: type bigint in the archive, integer in the target',
      'public.orgs.name: column missing from the target (archive type text)',
      'public.orgs.extra: NOT NULL without a default in the target, absent from the archive',
      'public.buildings: table missing from the target',
      'public.free_seq: sequence missing from the target',
    ])
  })

  it('extra target columns are fine when they can be filled: nullable, default, identity, generated', () => {
    const target = state([
      {
        ...asTarget(orgs),
        columns: [
          ...asTarget(orgs).columns,
          targetColumn('a', 'text'),
          targetColumn('b', 'text', { notNull: true, hasDefault: true }),
          targetColumn('c', 'bigint', { notNull: true, identity: 'a' }),
          targetColumn('d', 'text', { notNull: true, generated: true }),
        ],
      },
    ])
    expect(checkSchema([orgs], [], target)).toEqual([])
  })

  it('generated columns must be generated on both sides', () => {
    const archive = table('public', 'g', [
      column('a', 'integer'),
      column('b', 'integer', { generated: true }),
    ])
    const target = state([
      {
        ...asTarget(archive),
        columns: [targetColumn('a', 'integer', { generated: true }), targetColumn('b', 'integer')],
      },
    ])
    expect(checkSchema([archive], [], target)).toEqual([
      'public.g.a: generated in the target, plain in the archive (its values cannot be loaded)',
      'public.g.b: generated in the archive (its values are not stored), plain in the target',
    ])
  })

  it('assertSchemaCompatible: SCHEMA_MISMATCH with every line in details', () => {
    assertSchemaCompatible([])
    const problems = ['a', 'b', 'c', 'd', 'e', 'f', 'g']
    const error = thrown(() => assertSchemaCompatible(problems))
    expect(error.code).toBe('SCHEMA_MISMATCH')
    expect(error.details).toEqual(problems)
    expect(error.message).toContain('(7 problems): a; b; c; d; e; and 2 more')
  })
})

describe('target contents', () => {
  it('refuses tables that hold rows unless --truncate', () => {
    const target = state([asTarget(orgs, true), asTarget(users, false)])
    const error = thrown(() => assertTargetEmpty([orgs, users], target, false))
    expect(error.code).toBe('TARGET_NOT_EMPTY')
    expect(error.details).toEqual(['public.orgs'])
    assertTargetEmpty([orgs, users], target, true)
    assertTargetEmpty([users], target, false)
  })

  it('--create-schema needs schema.sql and none of the tables', () => {
    assertCreatable(manifest, state([]))
    expect(thrown(() => assertCreatable(manifest, state([asTarget(users)]))).details).toEqual(['auth.users'])
    expect(thrown(() => assertCreatable({ ...manifest, schemaSql: null }, state([]))).code).toBe(
      'SCHEMA_MISMATCH',
    )
  })

  it('a subset needs its foreign-key parents restored or holding rows in the target', () => {
    expect(missingParents([orgs, buildings], state([]))).toEqual([])
    expect(missingParents([buildings], state([asTarget(orgs, true)]))).toEqual([])
    expect(missingParents([buildings], state([asTarget(orgs, false)]))).toEqual([
      'public.buildings references public.orgs (to_orgs), which is neither restored nor holds rows in the target',
    ])
    expect(missingParents([{ ...buildings, rows: 0 }], state([]))).toEqual([])
    const selfRef = table('public', 'tree', [column('id', 'int')], { foreignKeys: [fk('public', 'tree')] })
    expect(missingParents([selfRef], state([]))).toEqual([])
    expect(thrown(() => assertParentsPresent(['x'])).code).toBe('USAGE')
    assertParentsPresent([])
  })
})

describe('production safety', () => {
  it.each([
    [
      { host: 'localhost', port: 5432, database: 'app' },
      { host: '127.0.0.1', port: 5432, database: 'app' },
      true,
    ],
    [
      { host: 'DB.example.com', port: 5432, database: 'app' },
      { host: 'db.example.com', database: 'app' },
      true,
    ],
    [
      { host: 'db.example.com', port: 5432, database: 'app' },
      { host: 'db.example.com', port: 6432, database: 'app' },
      false,
    ],
    [{ host: 'db.example.com', database: 'app' }, { host: 'db.example.com', database: 'app_copy' }, false],
    [{ host: '[::1]', database: 'app' }, { host: 'localhost', database: 'app' }, true],
    [
      { host: 'aws-0-eu.pooler.supabase.com', port: 5432, database: 'postgres', user: 'postgres.abc' },
      { host: 'aws-0-eu.pooler.supabase.com', port: 5432, database: 'postgres', user: 'postgres.xyz' },
      false,
    ],
    [
      { host: 'aws-0-eu.pooler.supabase.com', port: 5432, database: 'postgres', user: 'postgres.abc' },
      { host: 'aws-0-eu.pooler.supabase.com', database: 'postgres' },
      true,
    ],
  ])('sameDatabase(%j, %j) = %s', (a, b, expected) => {
    expect(sameDatabase(a, b)).toBe(expected)
    expect(sameDatabase(b, a)).toBe(expected)
  })

  const target = { host: 'db.example.com', port: 5432, database: 'app' }

  it('names every reason a target is production', () => {
    expect(productionReasons({ target, marker: null, environment: [] })).toEqual([])
    expect(
      productionReasons({
        target,
        marker: ' Production ',
        backupSource: { host: 'db.example.com', database: 'app' },
        environment: [
          { setting: 'DATABASE_URL', endpoint: { ...target } },
          { setting: 'SUPABASE_DB_URL', endpoint: { ...target, database: 'other' } },
        ],
      }),
    ).toEqual([
      'it is the database this backup was taken from',
      'it is the database DATABASE_URL names',
      "it is marked lifeboat.environment = 'production'",
    ])
    expect(productionReasons({ target, marker: 'staging', environment: [] })).toEqual([])
  })

  it('a protected target needs --confirm with its database name (exit 2 otherwise)', () => {
    assertTargetAllowed([], 'app', undefined)
    assertTargetAllowed(['reason'], 'app', 'app')
    const missing = thrown(() =>
      assertTargetAllowed(['it is the database DATABASE_URL names'], 'app', undefined),
    )
    expect(missing.code).toBe('TARGET_PROTECTED')
    expect(missing.exitCode).toBe(2)
    expect(missing.message).toContain('pass --confirm app')
    const wrong = thrown(() => assertTargetAllowed([], 'app', 'App'))
    expect(wrong.code).toBe('TARGET_PROTECTED')
    expect(wrong.message).toContain('does not match the target database "app"')
  })
})

describe('schema.sql split by the parser (inspectSchemaSql)', () => {
  const texts = (statements: readonly { text: string }[]) => statements.map((s) => s.text)

  it('strips psql meta-commands and splits at the post-data marker', async () => {
    const sql = [
      '\\restrict AbC123',
      'SET statement_timeout = 0;',
      'CREATE TABLE public.t (id int);',
      '-- lifeboat:post-data',
      'ALTER TABLE public.t ADD PRIMARY KEY (id);',
      '\\unrestrict AbC123',
      '',
    ].join('\n')
    const inspected = await inspectSchemaSql(sql)
    expect(texts(inspected.preData)).toEqual(['SET statement_timeout = 0', 'CREATE TABLE public.t (id int)'])
    expect(texts(inspected.postData)).toEqual(['ALTER TABLE public.t ADD PRIMARY KEY (id)'])
  })

  it('without the marker everything comes first', async () => {
    const inspected = await inspectSchemaSql('CREATE TABLE a (id int);')
    expect(texts(inspected.preData)).toEqual(['CREATE TABLE a (id int)'])
    expect(inspected.postData).toEqual([])
  })

  it('refuses transaction control, which would end the restore transaction', async () => {
    for (const line of ['COMMIT;', 'begin;', '  END;', 'START TRANSACTION;', 'ROLLBACK WORK;']) {
      await expect(inspectSchemaSql(`CREATE TABLE a ();\n${line}\n`)).rejects.toMatchObject({
        code: 'SCHEMA_SQL_REFUSED',
      })
    }
  })

  it('leaves function bodies alone (END; COMMIT; a line starting with a backslash)', async () => {
    const body = [
      'CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $fn$',
      'BEGIN',
      "  PERFORM 'a $$ b';",
      '\\restrict looks-like-a-command',
      'END;',
      '$fn$;',
      'CREATE PROCEDURE p() LANGUAGE plpgsql AS $$',
      'BEGIN',
      'COMMIT;',
      'END $$;',
      "COMMENT ON TABLE a IS 'costs $$ and ''quotes''';",
      'CREATE TABLE after_bodies (id int);',
    ].join('\n')
    const inspected = await inspectSchemaSql(
      `${body}\n-- lifeboat:post-data\nCREATE INDEX i ON a (id);\n\\unrestrict x`,
    )
    expect(inspected.preData).toHaveLength(4)
    expect(inspected.preData[0]!.text).toContain("PERFORM 'a $$ b';\n\\restrict looks-like-a-command\nEND;")
    expect(texts(inspected.postData)).toEqual(['CREATE INDEX i ON a (id)'])
  })
})
