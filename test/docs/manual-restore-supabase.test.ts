// runbooks/manual-restore.md into a NEW Supabase project, on PostgreSQL 15 (schema.sql from
// pg_dump) and 17 (from the catalogs): `npx zx runbooks/manual-restore.md --yes`, every
// tested block as a person pastes them, as the project's postgres role (not a superuser),
// from a backup the real backup job made of a Supabase-shaped project with an app. Then the
// rows equal the source's, anon still cannot read what the source revoked from it, owners,
// grants (the app's on Auth's and Storage's tables too) and Realtime membership are the
// source's, and a new sign-up gets its profile.
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PostgresMajor } from '../../lib/adapters/postgres/throwaway.ts'
import { SUPABASE_MANAGED_SCHEMAS } from '../../lib/core/supabase-platform.ts'
import { newSupabaseProject } from '../helpers/clusters.ts'
import { sql } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { baseEnv, run, tail } from '../helpers/runbook-session.ts'
import { signingEnv, TEST_KEYS } from '../helpers/signing.ts'
import { APP, createSupabaseApp, signUp } from '../helpers/supabase/app.ts'
import { type SupabaseCluster, startSupabaseCluster } from '../helpers/supabase/cluster.ts'
import { createSupabaseProject, type SupabaseProject } from '../helpers/supabase/project.ts'
import {
  asApiRole,
  grantsHeldBy,
  ownersIn,
  publicationTables,
  relationGrants,
  tableFingerprint,
} from '../integration/supabase-restore-fixtures.ts'

const RUNBOOK = 'runbooks/manual-restore.md'
const SESSION_TIMEOUT_MS = 6 * 60_000
const COMPARED_TABLES = [
  'auth.users',
  'auth.identities',
  'auth.sessions',
  'auth.refresh_tokens',
  'storage.buckets',
  'storage.objects',
  APP.profiles,
  APP.messages,
  APP.attachments,
  APP.privateNotes,
  APP.staffAudit,
  APP.invoices,
]

let parent: string
let keep = false

beforeAll(async () => {
  await mkdir(resolve('.tmp'), { recursive: true })
  parent = await mkdtemp(join(resolve('.tmp'), 'manual-supabase-'))
})
afterAll(async () => {
  if (keep) console.warn(`runbook sessions kept in ${parent}`)
  else await rm(parent, { recursive: true, force: true })
})

it('the runbook’s list of managed schemas is the one the restore uses (lib/core/supabase-platform.ts)', async () => {
  const { readFile } = await import('node:fs/promises')
  const text = await readFile(RUNBOOK, 'utf8')
  const list = /SELECT unnest\(ARRAY\[([^\]]+)\]\)/.exec(text)?.[1] ?? ''
  expect([...list.matchAll(/'([^']+)'/g)].map((m) => m[1])).toEqual([...SUPABASE_MANAGED_SCHEMAS])
})

describe.each([15, 17] as PostgresMajor[])(
  'runbooks/manual-restore.md into a new Supabase project, PostgreSQL %i',
  (major) => {
    let source: SupabaseProject
    // A cluster of its own: a new project has none of the source's custom roles.
    let cluster: SupabaseCluster
    let target: SupabaseProject
    let env: Record<string, string>
    let ledgersBefore: number[]

    beforeAll(async () => {
      source = await newSupabaseProject(major, { label: `manual_src${major}` })
      await createSupabaseApp(source)
      cluster = await startSupabaseCluster({ major })
      target = await createSupabaseProject(cluster, { label: `manual_tgt${major}` })
      ledgersBefore = await ledgerCounts(target)
      const work = await mkdtemp(join(parent, `pg${major}-`))
      const store = { BACKUP_STORE: `file://${join(work, 'store')}`, ...signingEnv() }
      const backup = await runJobProcess('backup', ['--json', '--quiet'], {
        ...store,
        DATABASE_URL: source.postgresUrl,
      })
      expect(backup.code, backup.stderr).toBe(0)
      env = {
        ...baseEnv(),
        ...store,
        TARGET_DATABASE_URL: target.postgresUrl,
        WORK: work,
        SIGNING_PUBLIC_KEY: TEST_KEYS.public.split('\n').find((line) => line.startsWith('RW'))!,
        LIFEBOAT_STATE_FILE: join(work, 'state', 'status.json'),
      }
    }, 120_000)
    afterAll(async () => {
      await source?.drop()
      await cluster?.stop()
    })

    it(
      'runs every tested block as postgres with exit 0; rows, access, owners and Realtime are the source’s',
      async () => {
        const result = await run('npx', ['zx', RUNBOOK, '--yes'], env, SESSION_TIMEOUT_MS - 30_000)
        if (result.code !== 0) keep = true
        expect(result.code, tail(result.output, 60)).toBe(0)
        expect(result.output).toContain('the target is: supabase')
        expect(result.output).toContain('restored every table of the manifest')

        for (const table of COMPARED_TABLES) {
          const fingerprint = await tableFingerprint(source.adminUrl, source.adminUrl, table)
          expect(typeof fingerprint === 'object' && fingerprint.rows > 0, table).toBe(true)
          expect(await tableFingerprint(source.adminUrl, target.adminUrl, table), table).toEqual(fingerprint)
        }
        // The project's migration history is its own: neither loaded over nor emptied.
        expect(await ledgerCounts(target)).toEqual(ledgersBefore)
        // The source revoked private_notes from anon: the project's defaults did not give it back.
        await expect(asApiRole(source, 'anon', `SELECT * FROM ${APP.privateNotes}`)).rejects.toThrow(
          /permission denied/,
        )
        await expect(asApiRole(target, 'anon', `SELECT * FROM ${APP.privateNotes}`)).rejects.toThrow(
          /permission denied/,
        )
        expect(await relationGrants(target.adminUrl)).toEqual(await relationGrants(source.adminUrl))
        // What the app granted its reporting role on Auth's and Storage's tables came back too.
        const reporting = await grantsHeldBy(source.adminUrl, APP.reportingRole)
        expect(reporting).toContain('auth.users (email) SELECT')
        expect(await grantsHeldBy(target.adminUrl, APP.reportingRole)).toEqual(reporting)
        expect(await ownersIn(target.adminUrl)).toEqual(await ownersIn(source.adminUrl))
        expect(await publicationTables(target.adminUrl)).toEqual(await publicationTables(source.adminUrl))
      },
      SESSION_TIMEOUT_MS,
    )

    it('the sign-up trigger on auth.users works after the load: one profile for a new user', async () => {
      const id = await signUp(target, { email: `new${major}@example.com`, fullName: 'New User' })
      const { rows } = await sql(
        target.adminUrl,
        `SELECT count(*)::int AS n FROM ${APP.profiles} WHERE id = $1`,
        [id],
      )
      expect(rows[0].n).toBe(1)
    })
  },
)

/** Rows of the services' migration ledgers in a project. */
async function ledgerCounts(project: SupabaseProject): Promise<number[]> {
  const { rows } = await sql(
    project.adminUrl,
    `SELECT (SELECT count(*) FROM auth.schema_migrations)::int AS auth,
            (SELECT count(*) FROM storage.migrations)::int AS storage`,
  )
  return [rows[0].auth, rows[0].storage]
}
