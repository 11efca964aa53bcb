// Specification of issue 12, "must show" 1: a Supabase project's backup restored into
// a NEW Supabase project with one command, as postgres, on PostgreSQL 15 and 17 and
// from 15 into 17, with nothing lost; in every test run. Selections, Auth versions and
// plain targets: supabase-restore-variants.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PostgresMajor } from '../../lib/adapters/postgres/throwaway.ts'
import { supabaseCluster } from '../helpers/clusters.ts'
import { sql } from '../helpers/database.ts'
import type { JobRun } from '../helpers/run-job.ts'
import { APP, createSupabaseApp, type SupabaseApp, signUp } from '../helpers/supabase/app.ts'
import { type SupabaseCluster, startSupabaseCluster } from '../helpers/supabase/cluster.ts'
import { createSupabaseProject, type SupabaseProject } from '../helpers/supabase/project.ts'
import {
  asApiRole,
  backupProject,
  folderStoreUrl,
  grantsHeldBy,
  lastLine,
  ownersIn,
  policiesIn,
  publicationTables,
  relationGrants,
  restoreLatest,
  tableFingerprint,
} from './supabase-restore-fixtures.ts'

const COMPARED_TABLES = [
  'auth.users',
  'auth.identities',
  'auth.sessions',
  'auth.refresh_tokens',
  APP.profiles,
  APP.messages,
  APP.attachments,
  APP.privateNotes,
  APP.staffAudit,
  APP.invoices,
]

/** A source project with the app on the shared Supabase-shaped cluster, and its backup. */
interface BackedUpSource {
  app: SupabaseApp
  store: string
}

const sources = new Map<PostgresMajor, BackedUpSource>()
const clusters: SupabaseCluster[] = []

async function backedUpSource(major: PostgresMajor): Promise<BackedUpSource> {
  const project = await createSupabaseProject(supabaseCluster(major), { label: `spec_src${major}` })
  const app = await createSupabaseApp(project)
  const store = folderStoreUrl(`spec-store${major}`)
  await backupProject(project, store)
  return { app, store }
}

const COMBOS = [
  { from: 15, into: 15 },
  { from: 17, into: 17 },
  { from: 15, into: 17 },
] as const

describe('restore into a new Supabase project (issue 12)', () => {
  beforeAll(async () => {
    const [s15, s17] = await Promise.all([backedUpSource(15), backedUpSource(17)])
    sources.set(15, s15)
    sources.set(17, s17)
  }, 180_000)
  afterAll(async () => {
    await Promise.all([...sources.values()].map((source) => source.app.project.drop()))
    await Promise.all(clusters.map((cluster) => cluster.stop()))
  })

  describe.each(COMBOS)('from PostgreSQL $from into a new project on $into', ({ from, into }) => {
    // A cluster of its own: a new project has none of the source's custom roles.
    let cluster: SupabaseCluster
    let restored: Promise<{ target: SupabaseProject; run: JobRun }> | undefined
    const source = () => sources.get(from)!
    const src = () => source().app.project

    beforeAll(async () => {
      cluster = await startSupabaseCluster({ major: into })
      clusters.push(cluster)
    })

    /** One restore per combination, shared by the tests; each asserts one behaviour of it. */
    async function restoredTarget(): Promise<SupabaseProject> {
      restored ??= (async () => {
        const target = await createSupabaseProject(cluster, { label: `spec_tgt${from}_${into}` })
        return { target, run: await restoreLatest(source().store, target.postgresUrl) }
      })()
      const { target, run } = await restored
      expect(run.code, lastLine(run)).toBe(0)
      return target
    }

    it('restores with one command as postgres and exits 0', async () => {
      await restoredTarget()
    })

    it('brings back every table identical: row counts and content', async () => {
      const target = await restoredTarget()
      for (const table of COMPARED_TABLES) {
        const want = await tableFingerprint(src().adminUrl, src().adminUrl, table)
        expect(await tableFingerprint(src().adminUrl, target.adminUrl, table), table).toEqual(want)
      }
    })

    it('keeps the table revoked from anon unreadable by anon', async () => {
      const target = await restoredTarget()
      await expect(asApiRole(target, 'anon', `SELECT * FROM ${APP.privateNotes}`)).rejects.toMatchObject({
        code: '42501',
      })
    })

    it('keeps the staff table unreadable by authenticated', async () => {
      const target = await restoredTarget()
      await expect(
        asApiRole(target, 'authenticated', `SELECT * FROM ${APP.staffAudit}`),
      ).rejects.toMatchObject({ code: '42501' })
    })

    // PostgreSQL 17 gives every owner MAINTAIN; anyone else holds on 17 exactly what it
    // held on 15 (a 15 GRANT ALL never becomes MAINTAIN for anon: lib/archive/acl-diff.ts).
    it("keeps every grant on the app's tables, views and sequences as the source had it", async () => {
      const target = await restoredTarget()
      const owners = await ownersIn(target.adminUrl)
      const ownMaintain = (grant: string) => {
        const [relation, grantee, privilege] = grant.split(' ')
        return privilege === 'MAINTAIN' && owners[`relation ${relation}`] === grantee
      }
      const restored = (await relationGrants(target.adminUrl)).filter((g) => from === into || !ownMaintain(g))
      expect(restored).toEqual(await relationGrants(src().adminUrl))
    })

    it("keeps what the app granted its reporting role on Storage's and Auth's own tables, columns included", async () => {
      const target = await restoredTarget()
      const source = await grantsHeldBy(src().adminUrl, APP.reportingRole)
      expect(source).toContain('auth.users (email) SELECT')
      expect(source).toContain('storage.objects SELECT')
      expect(await grantsHeldBy(target.adminUrl, APP.reportingRole)).toEqual(source)
    })

    it('keeps the owners of tables, views, sequences, functions and types', async () => {
      const target = await restoredTarget()
      expect(await ownersIn(target.adminUrl)).toEqual(await ownersIn(src().adminUrl))
    })

    it('creates the custom roles and their membership on the new cluster', async () => {
      await restoredTarget()
      const { rows } = await sql(
        cluster.adminUrl,
        `SELECT count(*)::int AS roles,
                bool_and(pg_has_role('${APP.analystRole}', '${APP.reportingRole}', 'MEMBER')) AS member
         FROM pg_roles WHERE rolname IN ('${APP.billingOwner}', '${APP.reportingRole}', '${APP.analystRole}')`,
      )
      expect(rows[0]).toEqual({ roles: 3, member: true })
    })

    it('keeps the row level security policies', async () => {
      const target = await restoredTarget()
      expect(await policiesIn(target.adminUrl)).toEqual(await policiesIn(src().adminUrl))
    })

    it('keeps row level security enabled on the same tables', async () => {
      const target = await restoredTarget()
      const enabled = `SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace
                       AND relrowsecurity ORDER BY 1`
      expect((await sql(target.adminUrl, enabled)).rows).toEqual((await sql(src().adminUrl, enabled)).rows)
    })

    it('keeps the Realtime table in the supabase_realtime publication', async () => {
      const target = await restoredTarget()
      expect(await publicationTables(target.adminUrl)).toEqual([APP.messages])
    })

    it('populates the materialized view with the source rows', async () => {
      const target = await restoredTarget()
      const want = await tableFingerprint(src().adminUrl, src().adminUrl, APP.dailyMessages)
      expect(await tableFingerprint(src().adminUrl, target.adminUrl, APP.dailyMessages)).toEqual(want)
    })

    it('restores the view over the custom aggregate', async () => {
      const target = await restoredTarget()
      const want = await tableFingerprint(src().adminUrl, src().adminUrl, APP.invoiceGrowth)
      expect(await tableFingerprint(src().adminUrl, target.adminUrl, APP.invoiceGrowth)).toEqual(want)
    })

    it('leaves exactly one profile per user', async () => {
      const target = await restoredTarget()
      const { rows } = await sql(
        target.adminUrl,
        `SELECT (SELECT count(*)::int FROM auth.users) AS users,
                (SELECT count(*)::int FROM auth.users u JOIN ${APP.profiles} p USING (id)) AS matched,
                (SELECT count(*)::int FROM ${APP.profiles}) AS profiles`,
      )
      expect(rows[0]).toEqual({ users: 3, matched: 3, profiles: 3 })
    })

    it('gives a new sign-up exactly one profile afterwards (the trigger on auth.users works)', async () => {
      const target = await restoredTarget()
      const id = await signUp(target, {
        email: `after-restore-${from}-${into}@example.com`,
        fullName: 'After',
      })
      const { rows } = await sql(
        target.adminUrl,
        `SELECT count(*)::int AS n FROM ${APP.profiles} WHERE id = $1`,
        [id],
      )
      expect(rows[0].n).toBe(1)
    })

    it('sets the standalone sequence of invoices.number ahead of the restored numbers', async () => {
      const target = await restoredTarget()
      const profile = source().app.userIds[0]
      const { rows } = await sql(
        target.postgresUrl,
        `INSERT INTO ${APP.invoices} (profile_id, amount) VALUES ($1, 1)
         RETURNING number > (SELECT max(number) FROM ${APP.invoices} WHERE amount <> 1) AS ahead`,
        [profile],
      )
      expect(rows[0].ahead).toBe(true)
    })

    it('sets identity sequences ahead: a new message gets a fresh id', async () => {
      const target = await restoredTarget()
      const profile = source().app.userIds[0]
      await sql(target.postgresUrl, `INSERT INTO ${APP.messages} (profile_id, body) VALUES ($1, 'after')`, [
        profile,
      ])
    })

    it('restores attachments with the storage objects they reference, foreign key included', async () => {
      const target = await restoredTarget()
      const { rows } = await sql(
        target.adminUrl,
        `SELECT (SELECT count(*)::int FROM ${APP.attachments} a JOIN storage.objects o ON o.id = a.object_id) AS linked,
                (SELECT convalidated FROM pg_constraint WHERE conname = 'attachments_object_id_fkey') AS validated`,
      )
      expect(rows[0]).toEqual({ linked: 3, validated: true })
    })

    it('keeps handle_new_user a SECURITY DEFINER function with its empty search_path', async () => {
      const target = await restoredTarget()
      const { rows } = await sql(
        target.adminUrl,
        `SELECT prosecdef, proconfig FROM pg_proc WHERE oid = '${APP.handleNewUser}()'::regprocedure`,
      )
      expect(rows[0]).toEqual({ prosecdef: true, proconfig: ['search_path=""'] })
    })

    it('keeps the comments on tables, columns and types', async () => {
      const target = await restoredTarget()
      const comments = `SELECT classoid::regclass::text AS catalog, objsubid, description FROM pg_description
                        WHERE description LIKE '%' AND objoid IN (SELECT oid FROM pg_class
                          WHERE relnamespace = 'public'::regnamespace UNION SELECT oid FROM pg_type
                          WHERE typnamespace = 'public'::regnamespace) ORDER BY 1, 2, 3`
      expect((await sql(target.adminUrl, comments)).rows).toEqual((await sql(src().adminUrl, comments)).rows)
    })

    it('warns of nothing it could not reproduce: the project has pg_stat_statements already', async () => {
      await restoredTarget()
      const { run } = await restored!
      expect(run.stderr).not.toContain('not reproduced')
    })

    it('creates the extension the app uses (citext) in extensions', async () => {
      const target = await restoredTarget()
      const { rows } = await sql(
        target.adminUrl,
        `SELECT extnamespace::regnamespace::text AS schema FROM pg_extension WHERE extname = 'citext'`,
      )
      expect(rows).toEqual([{ schema: 'extensions' }])
    })
  })
})
