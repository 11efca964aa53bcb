// Specification of issue 12, "must show" 2–4 around the one-command restore: a
// `-n public` backup keeps the trigger on auth.users and sets its sequences; targets
// with a newer or older Auth; a plain empty PostgreSQL with --create-schema, roles
// included; subset backups and restores. On PostgreSQL 15 and 17, in every test run.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type PostgresMajor,
  startThrowawayPostgres,
  type ThrowawayPostgres,
} from '../../lib/adapters/postgres/throwaway.ts'
import { MAJORS, newSupabaseProject } from '../helpers/clusters.ts'
import { sql } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { APP, createSupabaseApp, type SupabaseApp, signUp } from '../helpers/supabase/app.ts'
import { AUTH_NEWER_VERSION } from '../helpers/supabase/migration-history.ts'
import type { SupabaseProject } from '../helpers/supabase/project.ts'
import {
  backupProject,
  copyAuthUsers,
  folderStoreUrl,
  lastLine,
  restoreLatest,
  tableFingerprint,
} from './supabase-restore-fixtures.ts'

/** What a refused restore must leave alone: the tables, the users, the Auth history. */
async function targetState(target: SupabaseProject): Promise<unknown> {
  const { rows } = await sql(
    target.adminUrl,
    `SELECT (SELECT array_agg(relname::text ORDER BY relname) FROM pg_class
             WHERE relnamespace = 'public'::regnamespace) AS public_relations,
            (SELECT count(*)::int FROM auth.users) AS users,
            (SELECT count(*)::int FROM auth.schema_migrations) AS auth_migrations`,
  )
  return rows[0]
}

describe('Supabase restore variants (issue 12)', () => {
  describe.each(MAJORS)('on PostgreSQL %i', (major: PostgresMajor) => {
    let app: SupabaseApp
    let plain: ThrowawayPostgres
    const stores = { full: '', publicOnly: '', withoutAttachments: '' }
    const projects: SupabaseProject[] = []
    const src = () => app.project

    async function newProject(label: string, auth?: 'older' | 'newer'): Promise<SupabaseProject> {
      const project = await newSupabaseProject(major, { label, auth })
      projects.push(project)
      return project
    }

    async function plainDatabase(name: string): Promise<string> {
      await sql(plain.url, `CREATE DATABASE ${name}`)
      return plain.urlFor(name)
    }

    beforeAll(async () => {
      // Plain PostgreSQL of its own: roles the restore creates must not leak into other tests.
      const started = startThrowawayPostgres({ major })
      app = await createSupabaseApp(await newProject(`variants_src${major}`))
      stores.full = folderStoreUrl('variants-full')
      stores.publicOnly = folderStoreUrl('variants-public')
      stores.withoutAttachments = folderStoreUrl('variants-subset')
      await backupProject(src(), stores.full)
      // attachments reference storage.objects, which a public-only backup cannot bring back.
      await backupProject(src(), stores.publicOnly, ['-n', 'public', '-T', APP.attachments])
      await backupProject(src(), stores.withoutAttachments, ['-T', APP.attachments])
      plain = await started
    }, 180_000)
    afterAll(async () => {
      await Promise.all(projects.map((project) => project.drop()))
      await plain?.stop()
    })

    describe('a -n public backup into a new project whose users came back through Auth', () => {
      let restored: Promise<{ target: SupabaseProject; code: number; error: string }> | undefined

      async function restoredTarget(): Promise<SupabaseProject> {
        restored ??= (async () => {
          const target = await newProject(`variants_public${major}`)
          await copyAuthUsers(src(), target)
          const run = await restoreLatest(stores.publicOnly, target.postgresUrl)
          return { target, code: run.code, error: lastLine(run) }
        })()
        const { target, code, error } = await restored
        expect(code, error).toBe(0)
        return target
      }

      it('keeps the trigger on auth.users: a new sign-up gets exactly one profile', async () => {
        const target = await restoredTarget()
        const id = await signUp(target, { email: 'public-only@example.com', fullName: 'Public Only' })
        const { rows } = await sql(
          target.adminUrl,
          `SELECT count(*)::int AS n FROM ${APP.profiles} WHERE id = $1`,
          [id],
        )
        expect(rows[0].n).toBe(1)
      })

      it('sets the standalone sequence used by invoices.number ahead', async () => {
        const target = await restoredTarget()
        const { rows } = await sql(
          target.postgresUrl,
          `INSERT INTO ${APP.invoices} (profile_id, amount) VALUES ($1, 1)
           RETURNING number > (SELECT max(number) FROM ${APP.invoices} WHERE amount <> 1) AS ahead`,
          [app.userIds[0]],
        )
        expect(rows[0].ahead).toBe(true)
      })
    })

    it('restores into a project with a newer Auth (extra nullable column and table)', async () => {
      const target = await newProject(`variants_newer${major}`, 'newer')
      const run = await restoreLatest(stores.full, target.postgresUrl)
      expect(run.code, lastLine(run)).toBe(0)
      const want = await tableFingerprint(src().adminUrl, src().adminUrl, 'auth.users')
      expect(await tableFingerprint(src().adminUrl, target.adminUrl, 'auth.users')).toEqual(want)
    })

    it("keeps a newer Auth target's own migration history, newest row included", async () => {
      const target = await newProject(`variants_newer_history${major}`, 'newer')
      const run = await restoreLatest(stores.full, target.postgresUrl)
      expect(run.code, lastLine(run)).toBe(0)
      const { rows } = await sql(target.adminUrl, 'SELECT max(version) AS latest FROM auth.schema_migrations')
      expect(rows[0].latest).toBe(AUTH_NEWER_VERSION)
    })

    it('refuses a target lacking a backed-up column with SCHEMA_MISMATCH naming it', async () => {
      const target = await newProject(`variants_older${major}`, 'older')
      const run = await restoreLatest(stores.full, target.postgresUrl)
      expect(run.code).toBe(1)
      expect(lastLine(run)).toMatch(/SCHEMA_MISMATCH.*is_anonymous/)
    })

    it('leaves a target lacking a backed-up column unchanged', async () => {
      const target = await newProject(`variants_older_unchanged${major}`, 'older')
      const before = await targetState(target)
      await restoreLatest(stores.full, target.postgresUrl)
      expect(await targetState(target)).toEqual(before)
    })

    it('restores into an empty plain PostgreSQL database with --create-schema', async () => {
      const run = await restoreLatest(stores.full, await plainDatabase('plain_full'), ['--create-schema'])
      expect(run.code, lastLine(run)).toBe(0)
    })

    it('creates the custom roles and owners on a plain PostgreSQL target', async () => {
      const target = await plainDatabase('plain_roles')
      const run = await restoreLatest(stores.full, target, ['--create-schema'])
      expect(run.code, lastLine(run)).toBe(0)
      const { rows } = await sql(
        target,
        `SELECT pg_get_userbyid(relowner) AS owner,
                pg_has_role('${APP.analystRole}', '${APP.reportingRole}', 'MEMBER') AS member
         FROM pg_class WHERE oid = '${APP.invoices}'::regclass`,
      )
      expect(rows[0]).toEqual({ owner: APP.billingOwner, member: true })
    })

    it('restores a backup taken with -T (a table left out) into an empty database', async () => {
      const run = await restoreLatest(stores.withoutAttachments, await plainDatabase('plain_subset'), [
        '--create-schema',
      ])
      expect(run.code, lastLine(run)).toBe(0)
    })

    it('creates only the selected table with -t and --create-schema', async () => {
      const target = await plainDatabase('plain_one_table')
      const run = await restoreLatest(stores.full, target, ['--create-schema', '-t', APP.staffAudit])
      expect(run.code, lastLine(run)).toBe(0)
      const { rows } = await sql(
        target,
        `SELECT to_regclass('${APP.staffAudit}') IS NOT NULL AS selected,
                to_regclass('${APP.messages}') IS NOT NULL AS other`,
      )
      expect(rows[0]).toEqual({ selected: true, other: false })
    })

    it("makes schema public's privileges the source's in a whole restore (anon's revoked there)", async () => {
      const locked = await newProject(`variants_locked_src${major}`)
      await sql(locked.postgresUrl, 'CREATE TABLE public.notes (id integer PRIMARY KEY)')
      await sql(locked.adminUrl, 'REVOKE USAGE ON SCHEMA public FROM anon')
      const store = folderStoreUrl('variants-locked')
      await backupProject(locked, store)
      const target = await newProject(`variants_locked_tgt${major}`)
      const run = await restoreLatest(store, target.postgresUrl)
      expect(run.code, lastLine(run)).toBe(0)
      const acl = "SELECT nspacl::text[] AS acl FROM pg_namespace WHERE nspname = 'public'"
      const source = (await sql(locked.adminUrl, acl)).rows[0].acl as string[]
      expect(source.some((item) => item.startsWith('anon='))).toBe(false)
      expect((await sql(target.adminUrl, acl)).rows[0].acl).toEqual(source)
    })

    // Before 2023 postgres was a member of supabase_auth_admin and could grant anything on
    // Auth's tables; a new project lets it pass on SELECT only.
    it("names the app's grant on auth.users a new project does not let postgres make, and makes the rest", async () => {
      const old = await newProject(`variants_oldgrant_src${major}`)
      await sql(old.postgresUrl, 'CREATE TABLE public.notes (id integer PRIMARY KEY)')
      await sql(
        old.adminUrl,
        `SET ROLE supabase_auth_admin; GRANT SELECT, UPDATE ON auth.users TO ${APP.reportingRole}`,
      )
      const store = folderStoreUrl('variants-oldgrant')
      await backupProject(old, store)
      const target = await newProject(`variants_oldgrant_tgt${major}`)
      const run = await restoreLatest(store, target.postgresUrl)
      expect(run.code, lastLine(run)).toBe(0)
      expect(run.stderr).toContain(
        `not reproduced: TABLE auth.users: ${APP.reportingRole} lacks UPDATE (the target does not let postgres grant it)`,
      )
      const { rows } = await sql(
        target.adminUrl,
        `SELECT has_table_privilege('${APP.reportingRole}', 'auth.users', 'SELECT') AS reads,
                has_table_privilege('${APP.reportingRole}', 'auth.users', 'UPDATE') AS updates`,
      )
      expect(rows[0]).toEqual({ reads: true, updates: false })
    })

    describe('--truncate over a live project whose users signed up since the backup', () => {
      let live: SupabaseProject | undefined
      const users = async () =>
        (await sql(live!.adminUrl, 'SELECT count(*)::int AS n FROM auth.users')).rows[0].n

      async function liveProject(): Promise<SupabaseProject> {
        if (live) return live
        live = await newProject(`variants_truncate${major}`)
        expect((await restoreLatest(stores.full, live.postgresUrl)).code).toBe(0)
        await signUp(live, { email: 'since-the-backup@example.com', fullName: 'Since' })
        return live
      }

      it('refuses a stored backup, naming the project tables it never empties', async () => {
        const target = await liveProject()
        const before = await users()
        const run = await restoreLatest(stores.full, target.postgresUrl, [
          '--truncate',
          '--confirm',
          target.database,
        ])
        expect(run.code).toBe(1)
        expect(lastLine(run)).toMatch(
          /TARGET_NOT_EMPTY: .*auth\.users.*a restore never empties them, --truncate or not: restore into a new project/,
        )
        expect(await users()).toBe(before)
      })

      it("refuses a local archive the same way: the project's users are never emptied", async () => {
        const target = await liveProject()
        const before = await users()
        const folder = join(stores.full.slice('file://'.length), 'database-backups')
        const archive = join(folder, readdirSync(folder).find((name) => name.endsWith('.tar.gz'))!)
        const run = await runJobProcess(
          'restore',
          [archive, '--target', target.postgresUrl, '--truncate', '--confirm', target.database],
          {},
        )
        expect(run.code).toBe(1)
        expect(lastLine(run)).toMatch(/TARGET_NOT_EMPTY: .*auth\.users.*a restore never empties them/)
        expect(await users()).toBe(before)
      })
    })

    it('brings one dropped table back into a live project without handing back grants revoked since', async () => {
      const live = await newProject(`variants_live${major}`)
      expect((await restoreLatest(stores.full, live.postgresUrl)).code).toBe(0)
      await sql(live.adminUrl, `REVOKE ALL ON ${APP.messages}, ${APP.profiles} FROM anon`)
      await sql(live.adminUrl, `DROP TABLE ${APP.staffAudit}`)
      const acls = `SELECT relname::text, relacl::text[] AS acl FROM pg_class
                    WHERE oid IN ('${APP.messages}'::regclass, '${APP.profiles}'::regclass) ORDER BY 1`
      const before = (await sql(live.adminUrl, acls)).rows

      const run = await restoreLatest(stores.full, live.postgresUrl, [
        '--create-schema',
        '-t',
        APP.staffAudit,
      ])
      expect(run.code, lastLine(run)).toBe(0)
      expect((await sql(live.adminUrl, acls)).rows).toEqual(before)
      const { rows } = await sql(
        live.adminUrl,
        `SELECT has_table_privilege('anon', '${APP.staffAudit}', 'SELECT') AS anon_reads,
                has_table_privilege('anon', '${APP.messages}', 'SELECT') AS anon_reads_messages`,
      )
      expect(rows[0]).toEqual({ anon_reads: false, anon_reads_messages: false })
    })
  })
})
