// The Supabase target mode around the one-command restore (supabase-restore.test.ts):
// how the kind of target is chosen, what is checked from the sidecar before anything is
// downloaded, the migration ledgers recorded by the backup and compared by the restore.
import { cpSync, readdirSync, readFileSync, statSync, truncateSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newSupabaseProject, plainServerUrl } from '../helpers/clusters.ts'
import { sql } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { createSupabaseApp, type SupabaseApp } from '../helpers/supabase/app.ts'
import { AUTH_NEWER_VERSION } from '../helpers/supabase/migration-history.ts'
import type { SupabaseProject } from '../helpers/supabase/project.ts'
import { backupProject, folderStoreUrl, lastLine, restoreLatest } from './supabase-restore-fixtures.ts'

describe('the Supabase target mode', () => {
  let app: SupabaseApp
  let store: string
  const projects: SupabaseProject[] = []

  async function newProject(label: string, auth?: 'older' | 'newer'): Promise<SupabaseProject> {
    const project = await newSupabaseProject(15, { label, auth })
    projects.push(project)
    return project
  }

  beforeAll(async () => {
    app = await createSupabaseApp(await newProject('target_src'))
    store = folderStoreUrl('target-mode')
    await backupProject(app.project, store)
  }, 120_000)
  afterAll(async () => {
    await Promise.all(projects.map((project) => project.drop()))
  })

  it("records the services' applied migrations in the backup's sidecar", () => {
    const folder = join(store.slice('file://'.length), 'database-backups')
    const sidecar = readdirSync(folder).find((name) => name.endsWith('.manifest.json'))!
    const manifest = JSON.parse(readFileSync(join(folder, sidecar), 'utf8'))
    const tables = manifest.source.migrations.map((m: { table: string }) => m.table)
    expect(tables).toEqual(['auth.schema_migrations', 'storage.migrations'])
  })

  it('backs up storage.objects by default', () => {
    const folder = join(store.slice('file://'.length), 'database-backups')
    const sidecar = readdirSync(folder).find((name) => name.endsWith('.manifest.json'))!
    const manifest = JSON.parse(readFileSync(join(folder, sidecar), 'utf8'))
    const objects = manifest.tables.find((t: { name: string }) => t.name === 'objects')
    expect(objects).toMatchObject({ schema: 'storage', rows: 3 })
  })

  it('refuses --target-kind supabase for a plain database, exit 2', async () => {
    const url = new URL(plainServerUrl(15))
    await sql(url.toString(), 'CREATE DATABASE target_kind_plain')
    url.pathname = '/target_kind_plain'
    const run = await restoreLatest(store, url.toString(), ['--target-kind', 'supabase'])
    expect(run.code).toBe(2)
    expect(lastLine(run)).toMatch(/CONFIG_INVALID.*not a Supabase project/)
  })

  it('previews a restore into a new project with --dry-run: exit 0, nothing written', async () => {
    const target = await newProject('target_dry_run')
    const count = `SELECT (SELECT count(*)::int FROM auth.users) AS users,
                          (SELECT count(*)::int FROM pg_tables WHERE schemaname = 'public') AS tables`
    const before = (await sql(target.adminUrl, count)).rows[0]
    const run = await restoreLatest(store, target.postgresUrl, ['--dry-run'])
    expect(run.code, lastLine(run)).toBe(0)
    expect(run.stdout).toMatch(/^auth\.users\s/m)
    expect((await sql(target.adminUrl, count)).rows[0]).toEqual(before)
  })

  it('treats a project as a plain database with --target-kind postgres', async () => {
    const target = await newProject('target_kind_postgres')
    const run = await restoreLatest(store, target.postgresUrl, ['--target-kind', 'postgres'])
    expect(lastLine(run)).toMatch(/SCHEMA_MISMATCH.*public\.\w+: table missing from the target/)
  })

  it('refuses a backup from a newer Auth than the target, naming the migration', async () => {
    const target = await newProject('target_ledger_behind')
    const newest = await sql(target.adminUrl, 'SELECT max(version) AS v FROM auth.schema_migrations')
    await sql(target.adminUrl, 'DELETE FROM auth.schema_migrations WHERE version = $1', [newest.rows[0].v])
    const run = await restoreLatest(store, target.postgresUrl)
    expect(run.code).toBe(1)
    expect(lastLine(run)).toMatch(
      new RegExp(`SCHEMA_MISMATCH.*auth\\.schema_migrations.*newer Supabase Auth.*${newest.rows[0].v}`),
    )
  })

  it('refuses a target lacking a backed-up column from the sidecar, before downloading', async () => {
    const target = await newProject('target_before_download', 'older')
    // The archive is cut short: a restore that downloaded and verified it would fail with VERIFY_FAILED.
    const cut = folderStoreUrl('target-cut')
    cpSync(store.slice('file://'.length), cut.slice('file://'.length), { recursive: true })
    const folder = join(cut.slice('file://'.length), 'database-backups')
    const archive = join(folder, readdirSync(folder).find((name) => name.endsWith('.tar.gz'))!)
    truncateSync(archive, Math.floor(statSync(archive).size / 2))
    const run = await restoreLatest(cut, target.postgresUrl)
    expect(lastLine(run)).toMatch(/SCHEMA_MISMATCH.*is_anonymous/)
  })

  it('runs the form restore-latest.md shows (latest --create-schema, TARGET_DATABASE_URL) into a new project', async () => {
    const target = await newProject('target_runbook_form')
    const run = await runJobProcess('restore', ['latest', '--create-schema'], {
      BACKUP_STORE: store,
      TARGET_DATABASE_URL: target.postgresUrl,
    })
    expect(run.code, lastLine(run)).toBe(0)
    const { rows } = await sql(
      target.adminUrl,
      `SELECT (SELECT count(*)::int FROM auth.users) AS users, (SELECT count(*)::int FROM public.profiles) AS profiles`,
    )
    expect(rows[0]).toEqual({ users: 3, profiles: 3 })
  })

  it('leaves the migration ledgers of a newer project as they were', async () => {
    const target = await newProject('target_ledger_kept', 'newer')
    const before = await sql(target.adminUrl, 'SELECT count(*)::int AS n FROM storage.migrations')
    const run = await restoreLatest(store, target.postgresUrl)
    expect(run.code, lastLine(run)).toBe(0)
    const { rows } = await sql(
      target.adminUrl,
      `SELECT (SELECT count(*)::int FROM storage.migrations) AS storage,
              (SELECT max(version) FROM auth.schema_migrations) AS auth`,
    )
    expect(rows[0]).toEqual({ storage: before.rows[0].n, auth: AUTH_NEWER_VERSION })
  })
})
