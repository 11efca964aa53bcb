// The marker lines a Supabase backup's schema.sql carries for the by-hand restore
// (runbooks/manual-restore.md step 7): dropping the marked blocks as the runbook's sed does
// leaves exactly the statements the automated restore runs into a new project.
import { describe, expect, it } from 'vitest'
import { appStatementFilter } from '../../lib/restore/supabase/schema-filter.ts'
import {
  MANAGED_BEGIN,
  MANAGED_END,
  markManagedStatements,
  NEW_PROJECT,
} from '../../lib/restore/supabase/sql-markers.ts'
import { inspectSchemaSql } from '../../lib/trust/inspect-schema-sql.ts'
import { POST_DATA_MARKER } from '../../lib/trust/schema-statements.ts'

const SCHEMA_SQL = `--
-- a Supabase project's schema.sql, in small
--
SET client_min_messages = warning;
SELECT pg_catalog.set_config('search_path', '', false);

CREATE SCHEMA IF NOT EXISTS auth;

CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA extensions;

CREATE TYPE auth.aal_level AS ENUM ('aal1', 'aal2');

-- Name: users; Type: TABLE; Schema: auth
CREATE TABLE auth.users (
    id uuid NOT NULL,
    email text
);

ALTER TABLE auth.users OWNER TO supabase_auth_admin;

CREATE FUNCTION public.handle_new_user() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    AS $$
    BEGIN
      INSERT INTO public.profiles (id) VALUES (NEW.id);

      RETURN NEW;
    END $$;

CREATE TABLE public.profiles (id uuid NOT NULL);

${POST_DATA_MARKER}

ALTER TABLE ONLY auth.users ADD CONSTRAINT users_pkey PRIMARY KEY (id);

CREATE TRIGGER on_auth_user_created AFTER INSERT ON auth.users FOR EACH ROW EXECUTE FUNCTION public.handle_new_user();

CREATE TRIGGER users_touch BEFORE UPDATE ON auth.users FOR EACH ROW EXECUTE FUNCTION auth.touch();

ALTER TABLE ONLY public.profiles ADD CONSTRAINT profiles_id_fkey FOREIGN KEY (id) REFERENCES auth.users(id);

REVOKE ALL ON TABLE auth.users FROM PUBLIC, anon CASCADE;

GRANT SELECT ON TABLE auth.users TO postgres;

REVOKE ALL ON TABLE public.profiles FROM PUBLIC, anon CASCADE;

GRANT SELECT ON TABLE public.profiles TO authenticated;

CREATE PUBLICATION supabase_realtime WITH (publish = 'insert, update, delete, truncate');

ALTER PUBLICATION supabase_realtime ADD TABLE ONLY public.profiles;
`

/** What the runbook's `sed '/^BEGIN/,/^END/d'` leaves. */
function sedDelete(text: string): string {
  const out: string[] = []
  let inside = false
  for (const line of text.split('\n')) {
    if (!inside && line.startsWith(MANAGED_BEGIN)) inside = true
    else if (inside && line.startsWith(MANAGED_END)) inside = false
    else if (!inside) out.push(line)
  }
  return out.join('\n')
}

const texts = async (sql: string) => (await inspectSchemaSql(sql)).statements.map((s) => s.text)

describe('schema.sql marked for a new Supabase project', () => {
  it('sed over the marked file keeps exactly the statements the automated restore keeps', async () => {
    const marked = await markManagedStatements(SCHEMA_SQL)
    expect(marked.unmarked).toEqual([])
    const automated = (await inspectSchemaSql(SCHEMA_SQL)).statements
      .filter(appStatementFilter(NEW_PROJECT))
      .map((s) => s.text)
    expect(await texts(sedDelete(marked.text))).toEqual(automated)
    // What a person gets: the app's objects, its trigger on auth.users, Realtime membership.
    expect(automated.join('\n')).toContain('CREATE TRIGGER on_auth_user_created')
    expect(automated.join('\n')).toContain(
      'ALTER PUBLICATION supabase_realtime ADD TABLE ONLY public.profiles',
    )
    expect(automated.join('\n')).not.toMatch(
      /auth\.aal_level|CREATE TABLE auth|CREATE PUBLICATION|users_touch/,
    )
  })

  it('changes no statement: the marked file parses to the same statements, the post-data line kept', async () => {
    const marked = await markManagedStatements(SCHEMA_SQL)
    expect(await texts(marked.text)).toEqual(await texts(SCHEMA_SQL))
    expect((await inspectSchemaSql(marked.text)).markerLine).toBeGreaterThan(0)
    expect(sedDelete(marked.text)).toContain(`\n${POST_DATA_MARKER}\n`)
    // Runs split at the post-data line: the auth table's key after it is a block of its own.
    expect(marked.blocks).toBeGreaterThanOrEqual(4)
  })

  it('marks nothing in a plain database’s schema.sql', async () => {
    const plain = 'CREATE TABLE public.t (id int);\n\nGRANT SELECT ON TABLE public.t TO reader;\n'
    expect(await markManagedStatements(plain)).toEqual({ text: plain, blocks: 0, unmarked: [] })
  })

  it('leaves unmarked (and says so) a statement sharing its line with one that stays', async () => {
    const shared = 'CREATE TABLE public.t (id int); CREATE TABLE auth.x (id int);\n'
    const marked = await markManagedStatements(shared)
    expect(marked).toEqual({
      text: shared,
      blocks: 0,
      unmarked: ['line 1: it shares a line with a statement that stays'],
    })
  })

  it('marks nothing when a line of the file already looks like a marker (sed would cut there)', async () => {
    const body = `CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS $$\n${MANAGED_END}\nSELECT 1 $$;\n\nCREATE TABLE auth.x (id int);\n`
    const marked = await markManagedStatements(body)
    expect(marked.text).toBe(body)
    expect(marked.blocks).toBe(0)
    expect(marked.unmarked).toHaveLength(1)
  })
})
