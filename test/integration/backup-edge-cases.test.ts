// Tables that are awkward to back up: names that need quoting, empty tables, no
// primary key, partitions, a very large value, and a million rows backed up and
// restored in bounded memory.
import { mkdtempSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore } from '../../lib/adapters/store/open-store.ts'
import { parseManifest } from '../../lib/archive/manifest.ts'
import { readSidecar } from '../../lib/inventory/read-inventory.ts'
import { extractWithTar, readNdjson, sha256sumCheck } from '../helpers/archive.ts'
import { createDatabase, dropDatabase, sql } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'

let db: { name: string; url: string }

beforeAll(async () => {
  db = await createDatabase('edge')
})
afterAll(async () => dropDatabase(db.name))

async function backup(args: string[] = []) {
  const folder = mkdtempSync(join(resolve('.tmp'), 'store-'))
  const run = await runJobProcess('backup', ['--json', ...args], {
    DATABASE_URL: db.url,
    BACKUP_STORE: folder,
  })
  expect(run.code, run.stderr).toBe(0)
  const id = run.json!.id as string
  const root = extractWithTar(join(folder, 'database-backups', `${id}.tar.gz`))
  const manifest = await readSidecar(openStore({ url: `file://${folder}` }), id)
  return { run, root, manifest, folder }
}

/** A table of a million rows, made once for the tests that need it. */
async function millionRows(): Promise<void> {
  await sql(
    db.url,
    `CREATE SCHEMA IF NOT EXISTS million;
     CREATE TABLE IF NOT EXISTS million.readings (id bigint PRIMARY KEY, device uuid, at timestamptz, value numeric, note text);
     INSERT INTO million.readings
     SELECT g, md5(g::text)::uuid, timestamptz '2026-01-01' + g * interval '1 second', g * 0.001, 'reading ' || g
     FROM generate_series(1, 1000000) g
     ON CONFLICT DO NOTHING;`,
  )
}

describe('awkward tables', () => {
  it('quotes identifiers with spaces, double quotes, upper case and unicode', async () => {
    await sql(db.url, `CREATE SCHEMA "Odd ""Schema"" ü"`)
    await sql(
      db.url,
      `CREATE TABLE "Odd ""Schema"" ü"."Tab with space" ("Col""umn" int PRIMARY KEY, "UPPER" text, "温度" numeric, "s" text)`,
    )
    await sql(
      db.url,
      `INSERT INTO "Odd ""Schema"" ü"."Tab with space" VALUES (1, 'A', 21.5, 'alias-named column')`,
    )
    const { root, manifest } = await backup(['-n', 'Odd "Schema" ü'])
    const [table] = manifest.tables
    expect(table).toMatchObject({ schema: 'Odd "Schema" ü', name: 'Tab with space', rows: 1 })
    expect(table!.columns.map((c) => c.name)).toEqual(['Col"umn', 'UPPER', '温度', 's'])
    expect(readNdjson(root, table!.file)).toEqual([
      { 'Col"umn': '1', UPPER: 'A', 温度: '21.5', s: 'alias-named column' },
    ])
    expect(sha256sumCheck(root)).toContain('OK')
  })

  it('backs up an empty table as an empty file', async () => {
    await sql(db.url, `CREATE SCHEMA empty_case; CREATE TABLE empty_case.nothing (id int PRIMARY KEY)`)
    const { root, manifest } = await backup(['-n', 'empty_case'])
    expect(manifest.tables[0]).toMatchObject({
      rows: 0,
      bytes: 0,
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    })
    expect(readNdjson(root, manifest.tables[0]!.file)).toEqual([])
  })

  it('keeps duplicate rows of a table without a primary key, in a stable order', async () => {
    await sql(db.url, `CREATE SCHEMA nokey; CREATE TABLE nokey.log (msg text, n int)`)
    await sql(db.url, `INSERT INTO nokey.log VALUES ('b', 2), ('a', 1), ('b', 2), (NULL, 3)`)
    const first = await backup(['-n', 'nokey'])
    const rows = readNdjson(first.root, first.manifest.tables[0]!.file)
    expect(rows).toHaveLength(4)
    expect(rows.filter((r) => r.msg === 'b')).toHaveLength(2)
    expect(rows).toContainEqual({ msg: null, n: '3' })
    const second = await backup(['-n', 'nokey'])
    expect(second.manifest.tables[0]!.sha256).toBe(first.manifest.tables[0]!.sha256)
  })

  it('exports a partitioned table once, through its root', async () => {
    await sql(
      db.url,
      `CREATE SCHEMA parts;
       CREATE TABLE parts.events (id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
       CREATE TABLE parts.events_2025 PARTITION OF parts.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
       CREATE TABLE parts.events_2026 PARTITION OF parts.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
       INSERT INTO parts.events SELECT g, date '2025-06-01' + g FROM generate_series(1, 400) g;`,
    )
    const { manifest } = await backup(['-n', 'parts'])
    expect(manifest.tables.map((t) => t.name)).toEqual(['events'])
    expect(manifest.tables[0]).toMatchObject({ kind: 'p', rows: 400 })
  })

  it('streams a row holding a 24 MB bytea value', async () => {
    await sql(db.url, `CREATE SCHEMA blobs; CREATE TABLE blobs.files (id int PRIMARY KEY, content bytea)`)
    await sql(
      db.url,
      `INSERT INTO blobs.files SELECT 1, decode(repeat(md5('x'), 24 * 1024 * 1024 / 16), 'hex') || '\\x00ff'::bytea`,
    )
    const { root, manifest } = await backup(['-n', 'blobs'])
    expect(manifest.tables[0]!.rows).toBe(1)
    const text = await readFile(join(root, manifest.tables[0]!.file), 'utf8')
    const value = JSON.parse(text).content as string
    expect(value.length).toBe(2 + 2 * (24 * 1024 * 1024 + 2))
    expect(value.startsWith('\\x')).toBe(true)
    expect(value.endsWith('00ff')).toBe(true)
  })

  it('backs up a million-row table with peak RSS under 200 MB', async () => {
    await millionRows()
    const { run, manifest } = await backup(['-n', 'million', '--compress', '1'])
    expect(manifest.tables[0]!.rows).toBe(1_000_000)
    const peak = run.json!.peakRssMb as number
    expect(peak).toBeGreaterThan(0)
    expect(peak).toBeLessThan(200)
  }, 120_000)

  it('restores the million-row backup with peak RSS under 200 MB', async () => {
    await millionRows()
    const { folder, manifest } = await backup(['-n', 'million', '--compress', '1'])
    const target = await createDatabase('edge_million_restore')
    try {
      const run = await runJobProcess('restore', ['latest', '--create-schema', '--json', '--quiet'], {
        BACKUP_STORE: folder,
        TARGET_DATABASE_URL: target.url,
      })
      expect(run.code, run.stderr).toBe(0)
      expect(run.json!.rows).toBe(manifest.tables[0]!.rows)
      const peak = run.json!.peakRssMb as number
      expect(peak).toBeGreaterThan(0)
      expect(peak).toBeLessThan(200)
    } finally {
      await dropDatabase(target.name)
    }
  }, 120_000)
})

describe('the manifest', () => {
  it('is the same inside the archive and in the sidecar, and holds no password', async () => {
    await sql(
      db.url,
      `CREATE SCHEMA seqs; CREATE TABLE seqs.t (id serial PRIMARY KEY, g int GENERATED ALWAYS AS (id * 2) STORED)`,
    )
    await sql(db.url, `INSERT INTO seqs.t DEFAULT VALUES; INSERT INTO seqs.t DEFAULT VALUES`)
    const { root, manifest } = await backup(['-n', 'seqs'])
    const inside = parseManifest(await readFile(join(root, 'manifest.json'), 'utf8'), 'inside')
    expect({ ...manifest, archive: undefined }).toEqual({ ...inside, archive: undefined })
    expect(manifest.sequences).toEqual([
      {
        schema: 'seqs',
        name: 't_id_seq',
        lastValue: '2',
        isCalled: true,
        ownedBy: { schema: 'seqs', table: 't', column: 'id' },
        // Since the structure capture: the tables whose columns use it.
        usedBy: ['seqs.t'],
      },
    ])
    expect(manifest.tables[0]!.columns.find((c) => c.name === 'g')).toMatchObject({ generated: true })
    expect(readNdjson(root, manifest.tables[0]!.file)).toEqual([{ id: '1' }, { id: '2' }])
    expect(JSON.stringify(manifest)).not.toContain(new URL(db.url).password)
  })
})
