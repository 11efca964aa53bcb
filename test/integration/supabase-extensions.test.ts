// An app using an extension a project offers but PostgreSQL does not trust (moddatetime,
// which Supabase's docs use for updated_at; vector, postgis, pg_net likewise) restores
// into a new project: supautils lets postgres create those, so the restore's allowlist
// takes a project's privileged extensions and any extension the target has already; a
// project's backup takes them on a plain server too (a drill's). On PostgreSQL 15 and 17.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PostgresMajor, startThrowawayPostgres } from '../../lib/adapters/postgres/throwaway.ts'
import { MAJORS, newSupabaseProject } from '../helpers/clusters.ts'
import { sql } from '../helpers/database.ts'
import type { SupabaseProject } from '../helpers/supabase/project.ts'
import { backupProject, folderStoreUrl, lastLine, restoreLatest } from './supabase-restore-fixtures.ts'

const NOTES_WITH_MODDATETIME = `
  CREATE TABLE public.notes (id integer PRIMARY KEY, body text NOT NULL, updated_at timestamptz);
  INSERT INTO public.notes VALUES (1, 'first', '2026-01-01T00:00:00Z');
  CREATE TRIGGER handle_updated_at BEFORE UPDATE ON public.notes
    FOR EACH ROW EXECUTE PROCEDURE extensions.moddatetime(updated_at);
`

describe.each(MAJORS)('an app using moddatetime, PostgreSQL %i', (major: PostgresMajor) => {
  const projects: SupabaseProject[] = []
  let store: string

  // The fixture's stand-in for enabling an extension in the dashboard: the superuser
  // creates it when the project is made (supautils would, on postgres's behalf).
  async function project(label: string, extensions: string[] = []): Promise<SupabaseProject> {
    const created = await newSupabaseProject(major, { label: `${label}${major}`, extensions })
    projects.push(created)
    return created
  }

  beforeAll(async () => {
    const source = await project('moddatetime_src', ['moddatetime'])
    await sql(source.postgresUrl, NOTES_WITH_MODDATETIME)
    store = folderStoreUrl('moddatetime')
    await backupProject(source, store)
  }, 120_000)
  afterAll(async () => {
    await Promise.all(projects.map((p) => p.drop()))
  })

  it('restores into a new project with the extension, its trigger working', async () => {
    const target = await project('moddatetime_tgt', ['moddatetime'])
    const run = await restoreLatest(store, target.postgresUrl)
    expect(run.code, lastLine(run)).toBe(0)
    await sql(target.postgresUrl, "UPDATE public.notes SET body = 'edited' WHERE id = 1")
    const { rows } = await sql(
      target.adminUrl,
      "SELECT updated_at > now() - interval '1 minute' AS touched FROM public.notes",
    )
    expect(rows[0].touched).toBe(true)
  })

  // Supabase would create it (supautils' privileged_extensions); this fixture cannot, so
  // the server's refusal shows that Lifeboat's own allowlist let the statement through.
  it('lets a project create it when not enabled yet: the statement reaches the server', async () => {
    const target = await project('moddatetime_off')
    const run = await restoreLatest(store, target.postgresUrl)
    expect(run.code).toBe(1)
    expect(lastLine(run)).toMatch(
      /RESTORE_FAILED: applying schema\.sql failed \[DB_PERMISSION\], rolled back; .*permission denied to create extension "moddatetime"/,
    )
    expect(lastLine(run)).not.toContain('SCHEMA_SQL_REFUSED')
  })

  // A drill's scratch server: plain PostgreSQL, the restore a superuser there.
  it("restores into a plain server that offers it, as a drill's scratch database", async () => {
    const plain = await startThrowawayPostgres({ major })
    try {
      const run = await restoreLatest(store, plain.url, ['--create-schema'])
      expect(run.code, lastLine(run)).toBe(0)
      const { rows } = await sql(
        plain.url,
        "SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'moddatetime'",
      )
      expect(rows[0].n).toBe(1)
    } finally {
      await plain.stop()
    }
  })

  it('passes the dry run, which names no refused statement', async () => {
    const target = await project('moddatetime_dry', ['moddatetime'])
    const run = await restoreLatest(store, target.postgresUrl, ['--dry-run'])
    expect(run.code, lastLine(run)).toBe(0)
    expect(run.stdout).toMatch(/CreateExtensionStmt/)
  })
})
