// schema.sql parsed with PostgreSQL's parser: the splitting itself (lines, text, marker,
// \restrict lines), and the attack corpus of issue 13, each trick refused before anything
// runs, with the line and first words of the statement at fault.
import { describe, expect, it } from 'vitest'
import type { LifeboatError } from '../../lib/core/errors.ts'
import { inspectSchemaSql } from '../../lib/trust/inspect-schema-sql.ts'
import { statementsForTables } from '../../lib/trust/schema-statements.ts'
import { splitSqlScript } from '../../lib/trust/sql-script.ts'

/** The head of a pg_dump --schema-only file, as pg_dump 15.14+ writes it. */
const HEAD = `--
-- PostgreSQL database dump
--

\\restrict Zq3kFUnnyGZ0eBN1kduXoCn1W

SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;

CREATE TABLE public.t1 (id integer NOT NULL, note text);

CREATE FUNCTION public.f() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  -- not a comment to the parser's outer level; COMMIT; inside the body is code
  RETURN 'COMMIT; END; ROLLBACK;';
END;
$$;
`

const MARKER =
  '\n-- lifeboat:post-data\n\nALTER TABLE ONLY public.t1 ADD CONSTRAINT t1_pkey PRIMARY KEY (id);\n'

async function refusal(sql: string, options = {}): Promise<LifeboatError> {
  try {
    await inspectSchemaSql(sql, options)
  } catch (error) {
    return error as LifeboatError
  }
  throw new Error(`not refused:\n${sql}`)
}

describe('splitting schema.sql', () => {
  it('gives each statement its exact text and lines, and skips \\restrict lines', async () => {
    const script = await splitSqlScript(`${HEAD}${MARKER}\\unrestrict Zq3kFUnnyGZ0eBN1kduXoCn1W\n`)
    expect(script.strippedLines).toEqual([5, 25])
    expect(script.markerLine).toBe(22)
    const table = script.statements.find((s) => s.type === 'CreateStmt')!
    expect(table.text).toBe('CREATE TABLE public.t1 (id integer NOT NULL, note text)')
    expect(table.line).toBe(13)
    const fn = script.statements.find((s) => s.type === 'CreateFunctionStmt')!
    expect([fn.line, fn.endLine]).toEqual([15, 20])
    expect(fn.text.endsWith('$$')).toBe(true)
    expect(script.statements.map((s) => s.postData)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      true,
    ])
  })

  it('counts lines right after text of several bytes per character', async () => {
    const script = await splitSqlScript(
      `COMMENT ON TABLE public.t1 IS 'é€😀';\nSELECT pg_catalog.set_config('search_path', '', false);\n\\restrict abc\n`,
    )
    expect(script.statements[1]!.line).toBe(2)
    expect(script.strippedLines).toEqual([3])
  })
})

describe('statements that are allowed', () => {
  it('classifies the head of a pg_dump file and finds nothing to refuse', async () => {
    const inspection = await inspectSchemaSql(`${HEAD}${MARKER}`)
    expect(inspection.statements.map((s) => `${s.kind}:${s.action}`)).toEqual([
      'setting:set',
      'setting:set',
      'setting:set',
      'setting:set',
      'setting:set',
      'table:create',
      'function:create',
      'constraint:create',
    ])
    expect(inspection.postData.map((s) => s.object?.name)).toEqual(['t1_pkey'])
    expect(inspection.postData[0]!.table).toEqual({ schema: 'public', name: 't1' })
  })

  it('keeps a -t subset: the table, what it uses, what is said about it', async () => {
    const sql = `CREATE TYPE public.mood AS ENUM ('a');
CREATE TABLE public.a (id int, m public.mood);
CREATE TABLE public.b (id int);
COMMENT ON TABLE public.a IS 'x';
-- lifeboat:post-data
ALTER TABLE ONLY public.a ADD CONSTRAINT a_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.b ADD CONSTRAINT b_pkey PRIMARY KEY (id);`
    const inspection = await inspectSchemaSql(sql)
    const subset = statementsForTables(inspection.statements, [{ schema: 'public', name: 'a' }])
    expect(subset.statements.map((s) => s.line)).toEqual([1, 2, 4, 6])
  })
})

/** One line each: appended to a real pg_dump head, every one must be refused. */
const ATTACKS: Record<string, string> = {
  COMMIT: 'COMMIT;',
  'COMMIT AND CHAIN': 'COMMIT AND CHAIN;',
  'commit and chain, lower case over lines': 'commit\n  and\n    chain ;',
  END: 'END;',
  'END TRANSACTION': 'END TRANSACTION;',
  ROLLBACK: 'ROLLBACK;',
  ABORT: 'ABORT;',
  BEGIN: 'BEGIN;',
  'START TRANSACTION': 'START TRANSACTION;',
  SAVEPOINT: 'SAVEPOINT lifeboat_sequence;',
  'RELEASE SAVEPOINT': 'RELEASE SAVEPOINT lifeboat_sequence;',
  'ROLLBACK TO SAVEPOINT': 'ROLLBACK TO SAVEPOINT lifeboat_sequence;',
  'PREPARE TRANSACTION': "PREPARE TRANSACTION 'x';",
  'COMMIT PREPARED': "COMMIT PREPARED 'x';",
  'COPY … TO PROGRAM': "COPY (SELECT 1) TO PROGRAM 'touch /tmp/lifeboat-pwned';",
  'COPY … FROM PROGRAM': "COPY public.t1 FROM PROGRAM 'cat /etc/passwd';",
  'COPY FROM a file': "COPY public.t1 FROM '/etc/passwd';",
  'COPY TO STDOUT': 'COPY public.t1 TO STDOUT;',
  DO: "DO $$BEGIN EXECUTE 'DROP TABLE public.t1'; END$$;",
  'CREATE ROLE superuser': "CREATE ROLE evil SUPERUSER LOGIN PASSWORD 'x';",
  'CREATE USER': 'CREATE USER evil;',
  'ALTER ROLE … SUPERUSER': 'ALTER ROLE anon SUPERUSER;',
  'ALTER USER … BYPASSRLS': 'ALTER USER authenticated BYPASSRLS;',
  'ALTER ROLE … SET': "ALTER ROLE anon SET search_path = 'evil';",
  'DROP ROLE': 'DROP ROLE anon;',
  'GRANT a server role': 'GRANT pg_execute_server_program TO anon;',
  'GRANT role TO role': 'GRANT postgres TO anon;',
  'DROP TABLE': 'DROP TABLE public.t1;',
  'DROP SCHEMA CASCADE': 'DROP SCHEMA auth CASCADE;',
  'ALTER SYSTEM': 'ALTER SYSTEM SET ssl = off;',
  LOAD: "LOAD '/tmp/evil.so';",
  'SET ROLE': 'SET ROLE postgres;',
  'SET SESSION AUTHORIZATION': 'SET SESSION AUTHORIZATION postgres;',
  'SET session_replication_role': 'SET session_replication_role = origin;',
  'SET standard_conforming_strings off': 'SET standard_conforming_strings = off;',
  'SET client_encoding to another': "SET client_encoding = 'SJIS';",
  'RESET ALL': 'RESET ALL;',
  'SET TRANSACTION': 'SET TRANSACTION READ WRITE;',
  'CREATE EXTENSION not allowed': 'CREATE EXTENSION dblink;',
  'CREATE EXTENSION file_fdw': 'CREATE EXTENSION IF NOT EXISTS file_fdw WITH SCHEMA public;',
  'SELECT a function': 'SELECT pg_sleep(1);',
  'SELECT set_config of role': "SELECT pg_catalog.set_config('role', 'postgres', false);",
  'SELECT set_config and more':
    "SELECT pg_catalog.set_config('search_path', '', false), pg_catalog.pg_sleep(1);",
  'SELECT set_config from a table':
    "SELECT pg_catalog.set_config('search_path', note, false) FROM public.t1;",
  'SELECT lo_import': "SELECT lo_import('/etc/passwd');",
  CALL: 'CALL public.p();',
  VACUUM: 'VACUUM;',
  ANALYZE: 'ANALYZE public.t1;',
  LISTEN: 'LISTEN x;',
  NOTIFY: "NOTIFY x, 'y';",
  INSERT: 'INSERT INTO public.t1 VALUES (1);',
  UPDATE: "UPDATE public.t1 SET note = 'x';",
  DELETE: 'DELETE FROM public.t1;',
  TRUNCATE: 'TRUNCATE public.t1;',
  'EXPLAIN ANALYZE': 'EXPLAIN ANALYZE DELETE FROM public.t1;',
  'a C function': "CREATE FUNCTION public.evil() RETURNS void LANGUAGE c AS '/tmp/evil.so', 'evil';",
  'an untrusted language': "CREATE FUNCTION public.evil() RETURNS void LANGUAGE plpython3u AS 'import os';",
  'replacing a system function':
    "CREATE OR REPLACE FUNCTION pg_catalog.now() RETURNS timestamptz LANGUAGE sql AS 'SELECT 1';",
  'ALTER DATABASE … SET the production marker':
    "ALTER DATABASE postgres SET lifeboat.environment = 'staging';",
  'CREATE EVENT TRIGGER': 'CREATE EVENT TRIGGER e ON ddl_command_start EXECUTE FUNCTION public.f();',
  'CREATE SUBSCRIPTION': "CREATE SUBSCRIPTION s CONNECTION 'host=evil' PUBLICATION p;",
  'CREATE SERVER': 'CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw;',
  'a materialized view WITH DATA': 'CREATE MATERIALIZED VIEW public.mv AS SELECT 1 AS x WITH DATA;',
  'CREATE TABLE AS': 'CREATE TABLE public.copy AS SELECT * FROM public.t1;',
  'REFRESH MATERIALIZED VIEW': 'REFRESH MATERIALIZED VIEW public.mv;',
  'GRANT on a system function': 'GRANT ALL ON FUNCTION pg_catalog.pg_read_file(text) TO PUBLIC;',
  'GRANT on the database': 'GRANT ALL ON DATABASE postgres TO anon;',
  'GRANT on all tables in a schema': 'GRANT ALL ON ALL TABLES IN SCHEMA auth TO anon;',
  'GRANT on a language': 'GRANT USAGE ON LANGUAGE plpgsql TO anon;',
  'ALTER FUNCTION … SECURITY DEFINER': 'ALTER FUNCTION public.f() SECURITY DEFINER;',
  'ALTER TABLE … DROP COLUMN': 'ALTER TABLE public.t1 DROP COLUMN note;',
  'ALTER TABLE … DROP CONSTRAINT': 'ALTER TABLE public.t1 DROP CONSTRAINT t1_pkey;',
  RENAME: 'ALTER TABLE public.t1 RENAME TO t2;',
  'CREATE INDEX CONCURRENTLY': 'CREATE INDEX CONCURRENTLY t1_note ON public.t1 (note);',
  'SECURITY LABEL': "SECURITY LABEL ON TABLE public.t1 IS 'x';",
  'COMMENT ON DATABASE': "COMMENT ON DATABASE postgres IS 'x';",
  LOCK: 'LOCK TABLE public.t1;',
  'SET CONSTRAINTS': 'SET CONSTRAINTS ALL IMMEDIATE;',
  'a publication of all tables': 'CREATE PUBLICATION p FOR ALL TABLES;',
  DISCARD: 'DISCARD ALL;',
}

describe('the attack corpus: each statement refused before anything runs', () => {
  it.each(Object.entries(ATTACKS))('%s', async (_name, attack) => {
    const error = await refusal(`${HEAD}${attack}\n${MARKER}`)
    expect(error.code).toBe('SCHEMA_SQL_REFUSED')
    const line = HEAD.split('\n').length
    const words = attack.replace(/\s+/g, ' ').replace(/;$/, '').trim().slice(0, 20)
    expect(error.message).toContain(`line ${line} ("${words}`)
    expect(error.message).toContain('nothing was written')
  })

  it.each(Object.entries(ATTACKS).slice(0, 14))('%s in the post-data part', async (_name, attack) => {
    const error = await refusal(`${HEAD}${MARKER}${attack}\n`)
    expect(error.code).toBe('SCHEMA_SQL_REFUSED')
  })
})

describe('comment, quoting and layout tricks', () => {
  const tricks: Record<string, string> = {
    'after a block comment on the same line': '/* harmless */ COMMIT;',
    'after a nested block comment': '/* outer /* inner */ still a comment */ COMMIT;',
    'after a line comment': '-- COMMIT is only text here\nCOMMIT;',
    'after another statement on the same line': 'CREATE TABLE public.t2 (a int); COMMIT;',
    'after a string holding $$': "COMMENT ON TABLE public.t1 IS 'costs $$'; COMMIT;",
    'after an E-string with an escaped quote': "COMMENT ON TABLE public.t1 IS E'it\\'s'; COMMIT;",
    'between dollar quotes of different tags':
      "CREATE FUNCTION public.g() RETURNS text LANGUAGE sql AS $a$ SELECT '$b$' $a$; COMMIT; SELECT $b$ x $b$;",
    'indented, without a semicolon, at the end': '   COMMIT',
    'after a \\restrict line': '\\restrict abc\nCOMMIT;',
  }
  it.each(Object.entries(tricks))('COMMIT %s is found and refused', async (_name, trick) => {
    const error = await refusal(`${HEAD}${trick}\n`)
    expect(error.code).toBe('SCHEMA_SQL_REFUSED')
    expect(error.message).toMatch(/transaction control \(COMMIT\)/)
  })

  it('refuses a psql meta-command other than \\restrict', async () => {
    for (const meta of [
      '\\! touch /tmp/lifeboat-pwned',
      '\\connect other',
      '\\copy public.t1 from /etc/passwd',
    ]) {
      const error = await refusal(`${HEAD}${meta}\n`)
      expect(error.message).toContain('psql meta-command')
    }
  })

  it('refuses a NUL byte, which would hide the rest from the parser', async () => {
    expect((await refusal(`${HEAD}\0COMMIT;`)).message).toContain('NUL')
  })

  it('refuses what does not parse, naming the line', async () => {
    expect((await refusal(`${HEAD}CREATE TABLE (;\n`)).message).toMatch(/does not parse at line 21/)
  })

  it('does not take a marker inside a string for the marker', async () => {
    const inspection = await inspectSchemaSql(
      `${HEAD}COMMENT ON TABLE public.t1 IS '\n-- lifeboat:post-data\n';\n`,
    )
    expect(inspection.markerLine).toBeUndefined()
    expect(inspection.postData).toEqual([])
  })

  it('refuses a second marker', async () => {
    expect((await refusal(`${HEAD}${MARKER}${MARKER}`)).message).toContain('second')
  })

  it('refuses a trigger before the data and a table after it', async () => {
    const trigger = 'CREATE TRIGGER t BEFORE INSERT ON public.t1 FOR EACH ROW EXECUTE FUNCTION public.f();'
    expect((await refusal(`${HEAD}${trigger}\n${MARKER}`)).message).toContain('before the data is loaded')
    expect((await refusal(`${HEAD}${MARKER}CREATE TABLE public.late (a int);\n`)).message).toContain(
      'after the post-data marker',
    )
  })

  it('names every refused statement in the details', async () => {
    const error = await refusal(`${HEAD}COMMIT;\nDROP TABLE public.t1;\n`)
    expect(error.message).toContain('(and 1 more)')
    expect(error.details).toHaveLength(2)
  })
})

describe('roles, extensions and schemas given as inputs', () => {
  it('creates and grants only roles the backup declared, without powers', async () => {
    const declared = { declaredRoles: ['app_reader', 'app_writer'] }
    const ok = await inspectSchemaSql(
      'CREATE ROLE app_reader NOLOGIN;\nGRANT app_reader TO app_writer;\n',
      declared,
    )
    expect(ok.roles).toEqual(['app_reader', 'app_writer'])
    expect((await refusal('CREATE ROLE app_reader LOGIN;', declared)).message).toContain('LOGIN')
    expect((await refusal('CREATE ROLE other NOLOGIN;', declared)).message).toContain('did not declare')
    expect((await refusal('ALTER ROLE app_reader SUPERUSER;', declared)).message).toContain('SUPERUSER')
  })

  it('creates only the extensions allowed', async () => {
    await expect(
      inspectSchemaSql('CREATE EXTENSION vector;', { extensions: ['vector'] }),
    ).resolves.toBeDefined()
    expect((await refusal('CREATE EXTENSION pgcrypto;', { extensions: ['vector'] })).message).toContain(
      'pgcrypto',
    )
  })

  it('touches only the backup’s schemas when they are given', async () => {
    const schemas = { schemas: ['public'] }
    await expect(inspectSchemaSql('CREATE TABLE public.a (id int);', schemas)).resolves.toBeDefined()
    expect(
      (
        await refusal(
          'CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql AS $$SELECT NULL::uuid$$;',
          schemas,
        )
      ).message,
    ).toContain('schema auth, which the backup does not hold')
    expect((await refusal('GRANT ALL ON TABLE auth.users TO anon;', schemas)).message).toContain(
      'schema auth',
    )
  })
})
