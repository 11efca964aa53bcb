// The rules an app writes for its files are policies on storage.objects, a table the
// Storage service owns: a restore into a new project brings them back where the project
// lets postgres create them (Supabase's supautils `policy_grants`), and says so, never
// silently, where it does not. On PostgreSQL 15 and 17.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PostgresMajor } from '../../lib/adapters/postgres/throwaway.ts'
import { MAJORS, newSupabaseProject } from '../helpers/clusters.ts'
import { sql } from '../helpers/database.ts'
import { type SupabaseCluster, startSupabaseCluster } from '../helpers/supabase/cluster.ts'
import { createSupabaseProject, type SupabaseProject } from '../helpers/supabase/project.ts'
import {
  backupProject,
  folderStoreUrl,
  lastLine,
  policiesIn,
  restoreLatest,
} from './supabase-restore-fixtures.ts'

const POLICIES = `
  CREATE POLICY "Users read own files" ON storage.objects FOR SELECT TO authenticated
    USING (bucket_id = 'avatars' AND owner_id = (SELECT auth.uid())::text);
  CREATE POLICY "Users upload to own folder" ON storage.objects FOR INSERT TO authenticated
    WITH CHECK (bucket_id = 'avatars' AND (storage.foldername(name))[1] = (SELECT auth.uid())::text);
`

describe.each(MAJORS)('policies on storage.objects, PostgreSQL %i', (major: PostgresMajor) => {
  const projects: SupabaseProject[] = []
  let source: SupabaseProject
  let store: string
  // A cluster of its own, where postgres may manage Storage's tables: the role
  // membership stands in for supautils' policy_grants and must not reach other tests.
  let granting: SupabaseCluster

  beforeAll(async () => {
    const started = startSupabaseCluster({ major })
    source = await newSupabaseProject(major, { label: `storage_policies_src${major}` })
    projects.push(source)
    // The superuser stands in for policy_grants on the source, as the app's migration ran there.
    await sql(source.adminUrl, POLICIES)
    await sql(source.postgresUrl, 'CREATE TABLE public.notes (id integer PRIMARY KEY, body text)')
    store = folderStoreUrl('storage-policies')
    await backupProject(source, store)
    granting = await started
    await sql(granting.adminUrl, 'GRANT supabase_storage_admin TO postgres')
  }, 180_000)
  afterAll(async () => {
    await Promise.all(projects.map((project) => project.drop()))
    await granting?.stop()
  })

  it('brings the policies back where the project lets postgres create them', async () => {
    const target = await createSupabaseProject(granting, { label: `storage_policies_granted${major}` })
    projects.push(target)
    const run = await restoreLatest(store, target.postgresUrl)
    expect(run.code, lastLine(run)).toBe(0)
    expect(await policiesIn(target.adminUrl, 'storage')).toEqual(await policiesIn(source.adminUrl, 'storage'))
    expect(run.stderr).not.toContain('not reproduced')
  })

  it('says which policy it could not create where the project refuses, and restores the rest', async () => {
    const target = await newSupabaseProject(major, { label: `storage_policies_refused${major}` })
    projects.push(target)
    const run = await restoreLatest(store, target.postgresUrl)
    expect(run.code, lastLine(run)).toBe(0)
    expect(run.stderr).toContain(
      'not reproduced: policy "Users read own files" on storage.objects: must be owner of table objects',
    )
    expect(run.stderr).toContain('not reproduced: policy "Users upload to own folder" on storage.objects')
    expect(await policiesIn(target.adminUrl, 'storage')).toEqual([])
  })
})
