// Which extensions schema.sql may create on a plain PostgreSQL target: the trusted ones,
// and one the target has installed already (CREATE EXTENSION IF NOT EXISTS passes over
// it); any other is refused before the first write. On PostgreSQL 15 and 17.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FileStore } from '../../lib/adapters/store/file-store.ts'
import { MAJORS, plainServerUrl } from '../helpers/clusters.ts'
import { sql, urlOn } from '../helpers/database.ts'
import { backupOf, folderStore, restore, restoreDeps } from './restore-fixtures.ts'

// moddatetime ships with PostgreSQL but is not trusted: only a superuser creates it.
const SOURCE_SQL = `
CREATE EXTENSION moddatetime;
CREATE TABLE public.notes (id int PRIMARY KEY, body text NOT NULL, updated_at timestamptz);
CREATE TRIGGER touch BEFORE UPDATE ON public.notes FOR EACH ROW EXECUTE PROCEDURE public.moddatetime(updated_at);
INSERT INTO public.notes VALUES (1, 'first', '2026-01-01T00:00:00Z');
`

describe.each(MAJORS)('an untrusted extension in schema.sql, plain PostgreSQL %i', (major) => {
  const names = {
    source: `ext_src_${major}_${process.pid}`,
    ready: `ext_ready_${major}_${process.pid}`,
    bare: `ext_bare_${major}_${process.pid}`,
  }
  let server: string
  let store: FileStore
  let id: string

  beforeAll(async () => {
    server = plainServerUrl(major)
    for (const name of Object.values(names)) await sql(server, `CREATE DATABASE ${name}`)
    await sql(urlOn(server, names.source), SOURCE_SQL)
    // Installed by the target's administrator before the restore.
    await sql(urlOn(server, names.ready), 'CREATE EXTENSION moddatetime')
    store = folderStore()
    id = (await backupOf(urlOn(server, names.source), store)).id
  }, 120_000)
  afterAll(async () => {
    for (const name of Object.values(names)) await sql(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  })

  it('restores into a target that has it installed already', async () => {
    const result = await restore(restoreDeps(store), id, urlOn(server, names.ready), { createSchema: true })
    expect(result.rows).toBe(1)
    const { rows } = await sql(
      urlOn(server, names.ready),
      "SELECT count(*)::int AS n FROM pg_trigger WHERE tgname = 'touch'",
    )
    expect(rows[0].n).toBe(1)
  })

  it('refuses a target without it before writing anything', async () => {
    const target = urlOn(server, names.bare)
    await expect(restore(restoreDeps(store), id, target, { createSchema: true })).rejects.toMatchObject({
      code: 'SCHEMA_SQL_REFUSED',
      message: expect.stringContaining('extension moddatetime is not among the allowed extensions'),
    })
    const { rows } = await sql(target, "SELECT to_regclass('public.notes') IS NULL AS untouched")
    expect(rows[0].untouched).toBe(true)
  })
})
