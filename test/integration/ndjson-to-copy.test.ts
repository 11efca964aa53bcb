// Round trip through a real PostgreSQL: export a table of awkward values as archive
// NDJSON, convert it to COPY text, load it into an identical table, compare. The
// exporter's output is checked against the server's own `row_to_json` as the oracle.
import { Readable, Transform, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import { from as copyFrom, to as copyTo } from 'pg-copy-streams'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readCatalog } from '../../lib/adapters/postgres/catalog.ts'
import {
  exportStatement as copyTextStatement,
  exportedColumns,
  exportTable,
} from '../../lib/adapters/postgres/export-table.ts'
import { CopyTextToNdjson } from '../../lib/archive/copy-text-to-ndjson.ts'
import { NdjsonToCopyStream } from '../../lib/archive/ndjson-to-copy.ts'
import { selectEverything } from '../../lib/core/selection.ts'
import { createDatabase, dropDatabase, sql, withClient } from '../helpers/database.ts'

const PINNED = [
  'DateStyle = ISO',
  'IntervalStyle = postgres',
  'extra_float_digits = 3',
  'bytea_output = hex',
  "client_encoding = 'UTF8'",
  "TimeZone = 'UTC'",
]

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`

const SCHEMA = `
  CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
  CREATE TYPE pair AS (a int, b text);
  CREATE DOMAIN yes AS boolean;
  CREATE TABLE src (
    id int PRIMARY KEY,
    "Mixed Case" text,
    "a""b\\c" text,
    "naïve" text,
    t text,
    vc varchar(20),
    ch char(5),
    b bytea,
    j json,
    jb jsonb,
    n numeric,
    n2 numeric(40, 10),
    f8 float8,
    f4 real,
    i2 smallint,
    i8 bigint,
    flag boolean,
    ia int[],
    ta2 text[],
    ts timestamp,
    tstz timestamptz,
    d date,
    tm time,
    tmtz timetz,
    iv interval,
    u uuid,
    ip inet,
    net cidr,
    mac macaddr,
    bits bit varying(16),
    tsv tsvector,
    pt point,
    bx box,
    r int4range,
    mood mood,
    p pair,
    yes yes,
    wide char(300),
    doubled int GENERATED ALWAYS AS (id * 2) STORED
  );
  CREATE TABLE dst (LIKE src INCLUDING GENERATED);
  CREATE TABLE dst2 (LIKE src INCLUDING GENERATED);
`

// Every literal below is a standard-conforming SQL string: backslashes are literal.
const ROWS = `
  INSERT INTO src (id, "Mixed Case", "a""b\\c", "naïve", t, vc, ch, b, j, jb, n, n2, f8, f4, i2, i8, flag, ia, ta2,
                   ts, tstz, d, tm, tmtz, iv, u, ip, net, mac, bits, tsv, pt, bx, r, mood, p) VALUES
  (1, 'plain', 'a"b\\c', 'é', E'tab\\there\\nnewline\\r\\ncrlf back\\\\slash "quote" \\\\N \\\\. end',
   'é€😀東京', 'ab', '\\x00010203ff00', '{ "a" :  1, "a": 2,  "s": "x\\"y\\\\z\\n" }',
   '{"b": [1, 2.50, "é"], "a": null}', '123456789012345678901234567890.123456789012345678901234567890',
   '1234567890123456789012345678.0123456789', 'NaN', '-0', -32768, 9223372036854775807, true,
   '{1,NULL,3}', '{{a,"b c"},{"d\\"e","f\\\\g"}}', '2024-02-29 23:59:59.999999', '2024-02-29 23:59:59.999999+05:30',
   '2024-02-29', '23:59:59.999999', '12:00:00+05:30', '1 year 2 mons -3 days 04:05:06.789',
   'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', B'1010',
   $$'it''s' 'a\\b':2A 'x y':1$$, '(1.5,-2)', '((1,2),(3,4))', '[1,10)', 'happy', ROW(1, E'x,"y"\\\\z\\t')),
  (2, '', '', '', '', '', '', '\\x', 'null', '"\\\\u0000 is fine in json text"', 'NaN', '-0.0000000001', 'Infinity', 'NaN',
   0, -9223372036854775808, false, '[0:2]={1,2,3}', '{{NULL,""},{"NULL",x}}', 'infinity', '-infinity', 'infinity',
   '00:00', '00:00+00', '-178000000 years', '00000000-0000-0000-0000-000000000000', '::1', '::/0',
   'ff:ff:ff:ff:ff:ff', B'', '', '(0,0)', '((0,0),(0,0))', 'empty', 'sad', ROW(NULL, NULL)),
  (3, E'\\x01\\x1f\\x7f', E'\\b\\f', '\\.', '\\', '\\N', ' ', '\\x5c6e0a09', '[1,2 ,  3]', '[]', '-0', '0', '-Infinity',
   '-0', 1, 1, NULL, '{}', '{}', '0001-01-01 00:00:00 BC', '1970-01-01 00:00:00+00', '4713-01-01 BC', '24:00:00',
   '23:59:59-12', '0', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '(,)', 'ok', ROW(0, '')),
  (4, '5e-324', '1.7976931348623157e308', '0.1', '3.4028235e38', NULL, NULL, NULL, '"\\u0000 \\ud83d\\ude00"', NULL, '0.1', NULL, 5e-324,
   3.4028235e38, NULL, NULL, NULL, '{{1,2},{3,NULL}}', '{"\\\\","\\""}', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
  INSERT INTO src (id) VALUES (5);
  -- Many ordinary rows, and a few long ones, so lines cross stream chunk boundaries.
  INSERT INTO src (id, t, j, n, tstz, ia, b)
  SELECT g,
         repeat(chr(32 + g % 90) || E'\\t\\\\\\n"é😀', CASE WHEN g % 500 = 0 THEN 20000 ELSE g % 17 END),
         json_build_object('g', g, 's', 'v"' || g),
         g * 1.5,
         '2024-01-01'::timestamptz + g * interval '1 minute',
         ARRAY[g, NULL, -g],
         decode(md5(g::text), 'hex')
  FROM generate_series(6, 3005) g;
  UPDATE src SET yes = (id % 3 = 0) WHERE id % 5 <> 0;
  -- character(n): padded in COPY, trimmed by ::text; the padding crosses chunk boundaries.
  UPDATE src SET ch = (ARRAY['a b', ' ', NULL, E'x\t', ''])[1 + id % 5],
                 wide = (ARRAY['z y', '', NULL, E'\\ ', repeat('é', 299)])[1 + id % 5]
   WHERE id > 5;
`

/** The oracle: the server builds each line with `row_to_json` over `col::text`. */
function exportStatement(table: string, columns: readonly string[]): string {
  const select = columns.map((c) => `t.${quoteIdent(c)}::text AS ${quoteIdent(c)}`).join(', ')
  return `COPY (SELECT row_to_json(s.*)::text FROM (SELECT ${select} FROM ${table} t ORDER BY t.id) s) TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')`
}

async function pinnedClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  return withClient(url, async (client) => {
    for (const setting of PINNED) await client.query(`SET ${setting}`)
    return work(client)
  })
}

async function exportBytes(url: string, table: string, columns: readonly string[]): Promise<Buffer> {
  return pinnedClient(url, async (client) => {
    const chunks: Buffer[] = []
    await pipeline(client.query(copyTo(exportStatement(table, columns))), async (source) => {
      for await (const chunk of source) chunks.push(chunk as Buffer)
    })
    return Buffer.concat(chunks)
  })
}

/** Re-cuts a stream into pieces of 1 to 7000 bytes, so boundaries land inside escapes and characters. */
function rechunk(): Transform {
  let state = 7
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      let at = 0
      while (at < chunk.length) {
        state = (state * 1_103_515_245 + 12_345) % 2_147_483_648
        const size = 1 + (state % (state % 3 === 0 ? 7000 : 13))
        this.push(chunk.subarray(at, at + size))
        at += size
      }
      done()
    },
  })
}

async function tableDigest(url: string, table: string): Promise<{ rows: number; md5: string }> {
  return pinnedClient(url, async (client) => {
    const result = await client.query(
      `SELECT count(*)::int AS rows, md5(string_agg(t::text, E'\\n' ORDER BY id)) AS md5 FROM ${table} t`,
    )
    return result.rows[0] as { rows: number; md5: string }
  })
}

describe('NDJSON to COPY against PostgreSQL', () => {
  let database: { name: string; url: string }
  let columns: string[]

  beforeAll(async () => {
    database = await createDatabase('ndjson_copy')
    await sql(database.url, SCHEMA)
    await sql(database.url, ROWS)
    const result = await sql(
      database.url,
      `SELECT attname FROM pg_attribute WHERE attrelid = 'src'::regclass AND attnum > 0
       AND NOT attisdropped AND attgenerated = '' ORDER BY attnum`,
    )
    columns = result.rows.map((row: { attname: string }) => row.attname)
  })

  afterAll(async () => {
    if (database) await dropDatabase(database.name)
  })

  it('exports with the generated column left out and escaped keys', async () => {
    expect(columns).not.toContain('doubled')
    expect(columns).toContain('a"b\\c')
    const ndjson = await exportBytes(database.url, 'src', columns)
    const first = ndjson.subarray(0, ndjson.indexOf(0x0a)).toString()
    expect(first.startsWith('{"id":"1","Mixed Case":"plain","a\\"b\\\\c":"a\\"b\\\\c","naïve":"é"')).toBe(
      true,
    )
    expect(ndjson.includes('\\u0001')).toBe(true)
  })

  it('loads a streamed export into an identical table', async () => {
    const convert = new NdjsonToCopyStream({ file: 'data/public.src.ndjson', columns })
    const columnList = columns.map(quoteIdent).join(', ')
    await pinnedClient(database.url, (source) =>
      pinnedClient(database.url, async (target) => {
        await target.query('BEGIN')
        await pipeline(
          source.query(copyTo(exportStatement('src', columns))),
          convert,
          target.query(copyFrom(`COPY dst (${columnList}) FROM STDIN`)),
        )
        await target.query('COMMIT')
      }),
    )
    expect(convert.rows).toBe(3005)
    const [original, restored] = [
      await tableDigest(database.url, 'src'),
      await tableDigest(database.url, 'dst'),
    ]
    expect(restored).toEqual(original)
    expect(restored.rows).toBe(3005)
    // The strongest check: a re-export of the restored table is byte for byte the archive.
    expect(
      (await exportBytes(database.url, 'dst', columns)).equals(
        await exportBytes(database.url, 'src', columns),
      ),
    ).toBe(true)
  })

  it('loads the same archive bytes cut into odd chunks', async () => {
    const ndjson = await exportBytes(database.url, 'src', columns)
    const convert = new NdjsonToCopyStream({ file: 'data/public.src.ndjson', columns })
    const columnList = columns.map(quoteIdent).join(', ')
    await pinnedClient(database.url, async (target) => {
      await pipeline(
        Readable.from([ndjson]),
        rechunk(),
        convert,
        target.query(copyFrom(`COPY dst2 (${columnList}) FROM STDIN`)),
      )
    })
    expect(convert.rows).toBe(3005)
    expect(await tableDigest(database.url, 'dst2')).toEqual(await tableDigest(database.url, 'src'))
    const doubled = await sql(database.url, 'SELECT count(*)::int AS n FROM dst2 WHERE doubled = id * 2')
    expect(doubled.rows[0].n).toBe(3005)
  })
})

describe('the exporter against the server-built oracle', () => {
  let database: { name: string; url: string }

  beforeAll(async () => {
    database = await createDatabase('copy_text_ndjson')
    await sql(database.url, SCHEMA)
    await sql(database.url, ROWS)
  })

  afterAll(async () => {
    if (database) await dropDatabase(database.name)
  })

  async function sourceTable(client: pg.Client) {
    const catalog = await readCatalog(client, { ...selectEverything, schemas: ['public'] })
    return catalog.tables.find((t) => t.name === 'src')!
  }

  it('writes byte for byte what row_to_json builds over each col::text', async () => {
    const oracle = await exportBytes(database.url, 'src', await columnsOf(database.url))
    const exported = await pinnedClient(database.url, async (client) => {
      const table = await sourceTable(client)
      expect([...table.textCast].sort()).toEqual(['flag', 'ip', 'net', 'yes'])
      expect([...table.padded].sort()).toEqual(['ch', 'wide'])
      const chunks: Buffer[] = []
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          chunks.push(chunk)
          done()
        },
      })
      const stats = await exportTable(client, table, sink)
      expect(stats.rows).toBe(3005)
      return Buffer.concat(chunks)
    })
    expect(exported.length).toBe(oracle.length)
    expect(exported.equals(oracle)).toBe(true)
  })

  it('gives the same bytes however the COPY text is cut into chunks', async () => {
    const oracle = await exportBytes(database.url, 'src', await columnsOf(database.url))
    const rechunked = await pinnedClient(database.url, async (client) => {
      const table = await sourceTable(client)
      const chunks: Buffer[] = []
      await pipeline(
        client.query(copyTo(copyTextStatement(table))),
        rechunk(),
        new CopyTextToNdjson(exportedColumns(table), table.padded),
        async (source) => {
          for await (const chunk of source) chunks.push(chunk as Buffer)
        },
      )
      return Buffer.concat(chunks)
    })
    const at = rechunked.findIndex((byte, i) => byte !== oracle[i])
    expect(at === -1 ? '' : rechunked.subarray(at - 80, at + 40).toString()).toBe(
      at === -1 ? '' : oracle.subarray(at - 80, at + 40).toString(),
    )
    expect(rechunked.equals(oracle)).toBe(true)
  })
})

async function columnsOf(url: string): Promise<string[]> {
  const result = await sql(
    url,
    `SELECT attname FROM pg_attribute WHERE attrelid = 'src'::regclass AND attnum > 0
     AND NOT attisdropped AND attgenerated = '' ORDER BY attnum`,
  )
  return result.rows.map((row: { attname: string }) => row.attname)
}
