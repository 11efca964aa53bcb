// The capture on a Supabase-shaped project, taken as `postgres` (not a superuser there):
// what the manifest records of the app (revoked tables, a custom owner, the sign-up
// trigger on auth.users, Realtime membership), and roles.sql then schema.sql of a
// `-n public` backup, applied by psql as postgres into a new project on a cluster
// without the app's roles, give the same structure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PostgresMajor } from '../../lib/adapters/postgres/throwaway.ts'
import { newSupabaseProject } from '../helpers/clusters.ts'
import { sql } from '../helpers/database.ts'
import { describeStructure } from '../helpers/structure.ts'
import { generateFrom, restoreStructureByHand } from '../helpers/structure-fixture.ts'
import { APP, createSupabaseApp, signUp } from '../helpers/supabase/app.ts'
import { type SupabaseCluster, startSupabaseCluster } from '../helpers/supabase/cluster.ts'
import { createSupabaseProject, type SupabaseProject } from '../helpers/supabase/project.ts'

const ROLES = [
  APP.billingOwner,
  APP.reportingRole,
  APP.analystRole,
  'anon',
  'authenticated',
  'service_role',
  'postgres',
]

describe.each([15, 17] as PostgresMajor[])('capture on a Supabase-shaped project, PostgreSQL %i', (major) => {
  let source: SupabaseProject
  let cluster: SupabaseCluster
  let generated: Awaited<ReturnType<typeof generateFrom>>

  beforeAll(async () => {
    source = await newSupabaseProject(major, { label: 'capture_supabase' })
    await createSupabaseApp(source, { users: 2 })
    // As a user backs up: connected as postgres; -n public, since a new project has its own auth.
    generated = await generateFrom(source.postgresUrl, { schemas: ['public'] })
    cluster = await startSupabaseCluster({ major })
  })

  afterAll(async () => {
    await source?.drop()
    await cluster?.stop()
  })

  it('records the app’s access as the project has it, read as postgres', () => {
    expect(generated.source).toMatch(major === 15 ? /^pg_dump 15\./ : /^catalog$/)
    const object = (ident: string) => generated.capture.access.objects.find((o) => o.ident === ident)!
    expect(object(APP.privateNotes).acl?.some((a) => a.startsWith('anon='))).toBe(false)
    expect(object(APP.privateNotes).acl?.some((a) => a.startsWith('authenticated='))).toBe(true)
    expect(object(APP.staffAudit).acl?.some((a) => /^(anon|authenticated)=/.test(a))).toBe(false)
    expect(object(APP.invoices).owner).toBe(APP.billingOwner)
    expect(object('public.handle_new_user()').acl?.some((a) => a.startsWith('='))).toBe(false)
    expect(generated.capture.access.publications.map((p) => [p.name, p.tables.map((t) => t.table)])).toEqual([
      ['supabase_realtime', ['messages']],
    ])
    const { roles, schema } = generated.capture
    expect(roles.roles.map((r) => r.name).sort()).toEqual([
      APP.analystRole,
      APP.billingOwner,
      APP.reportingRole,
    ])
    expect(roles.skipped.map((s) => s.name)).toEqual(
      expect.arrayContaining(['anon', 'authenticated', 'postgres', 'service_role']),
    )
    expect(schema.managedTableTriggers).toEqual([
      expect.objectContaining({
        schema: 'auth',
        table: 'users',
        name: APP.signupTrigger,
        tableBackedUp: false,
      }),
    ])
    expect(schema.materializedViews).toEqual([{ schema: 'public', name: 'daily_messages', populated: true }])
    // Supabase's own event triggers come with every project: not reported as lost.
    expect(schema.omitted).toEqual([])
  })

  it('roles.sql and schema.sql by psql as postgres into a new project give the same structure', async () => {
    const target = await createSupabaseProject(cluster, { label: 'capture_target', extensions: ['citext'] })
    try {
      await restoreStructureByHand(target.postgresUrl, generated)
      const facts = (url: string) => describeStructure(url, ['public'], ROLES)
      expect(await facts(target.adminUrl)).toEqual(await facts(source.adminUrl))
      // The sign-up trigger works on the new project's own auth.users.
      const id = await signUp(target, { email: 'new@example.com', fullName: 'New User' })
      const profiles = await sql(
        target.adminUrl,
        'SELECT count(*)::int AS n FROM public.profiles WHERE id = $1',
        [id],
      )
      expect(profiles.rows[0].n).toBe(1)
    } finally {
      await target.drop()
    }
  })
})
