// The structure around the sample rows that a restore must bring back too: roles and
// memberships, owners, table, column and schema privileges, default privileges, RLS
// policies, an aggregate and the views over it, materialized views, a standalone
// sequence, a publication, extensions, comments, and the trigger on auth.users that
// feeds public.profiles. Applied after SAMPLE_SCHEMA_SQL; role names carry a prefix
// because roles are cluster-wide.

export interface SampleRoles {
  /** Owns the `app` schema, some tables and the SECURITY DEFINER trigger function. */
  owner: string
  /** Reads: SELECT with grant option on buildings, some columns of devices. */
  reader: string
  /** Member of reader (WITH ADMIN); writes some tables. */
  writer: string
  /** A login role, member of writer, with a connection limit and an expiry. */
  login: string
  /** Stands for Supabase's anon: default privileges give it every new table in public. */
  api: string
}

export function sampleRoles(prefix: string): SampleRoles {
  return {
    owner: `${prefix}_owner`,
    reader: `${prefix}_reader`,
    writer: `${prefix}_writer`,
    login: `${prefix}_login`,
    api: `${prefix}_api`,
  }
}

/** Roles and memberships (cluster-wide: create once per cluster). */
export function sampleRolesSql(r: SampleRoles): string {
  return `
CREATE ROLE ${r.owner} NOLOGIN;
CREATE ROLE ${r.reader} NOLOGIN NOINHERIT;
CREATE ROLE ${r.writer} NOLOGIN CREATEDB;
CREATE ROLE ${r.login} LOGIN CONNECTION LIMIT 5 VALID UNTIL '2030-01-01 00:00:00+00';
CREATE ROLE ${r.api} NOLOGIN;
GRANT ${r.reader} TO ${r.writer} WITH ADMIN OPTION;
GRANT ${r.writer} TO ${r.login};
ALTER ROLE ${r.login} SET search_path TO "$user", public;
COMMENT ON ROLE ${r.owner} IS 'owns the application';
`
}

/**
 * Default privileges first, as a Supabase project has them (so the sample tables get
 * them at CREATE); run before SAMPLE_SCHEMA_SQL.
 */
export function sampleDefaultPrivilegesSql(r: SampleRoles): string {
  return `
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO ${r.api};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO ${r.api};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO ${r.api};
`
}

/** Everything else, on top of SAMPLE_SCHEMA_SQL. */
export function sampleStructureSql(r: SampleRoles): string {
  return `${sampleAccessSql(r)}\n${sampleAuthSql(r)}`
}

/** Extensions, the app schema, privileges, a sequence, an aggregate and materialized views. */
function sampleAccessSql(r: SampleRoles): string {
  return `
CREATE SCHEMA IF NOT EXISTS extensions;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA extensions;
CREATE INDEX devices_serial_trgm ON public.devices USING gin (serial_number extensions.gin_trgm_ops);

CREATE SCHEMA app AUTHORIZATION ${r.owner};
COMMENT ON SCHEMA app IS 'owned by the application role';
GRANT USAGE ON SCHEMA app TO ${r.reader};
ALTER DEFAULT PRIVILEGES FOR ROLE ${r.owner} IN SCHEMA app GRANT SELECT ON TABLES TO ${r.reader};
ALTER DEFAULT PRIVILEGES FOR ROLE ${r.owner} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
CREATE TABLE app.settings (key text PRIMARY KEY, value jsonb NOT NULL);
ALTER TABLE app.settings OWNER TO ${r.owner};
GRANT SELECT ON app.settings TO ${r.reader};

-- A table revoked from the role default privileges gave it.
REVOKE ALL ON public.permissions FROM ${r.api};
-- Column privileges, a grant option and a grant made by another grantor.
GRANT SELECT (id, serial_number, status), UPDATE (status) ON public.devices TO ${r.writer};
GRANT SELECT ON public.buildings TO ${r.reader} WITH GRANT OPTION;
SET ROLE ${r.reader};
GRANT SELECT ON public.buildings TO ${r.login};
RESET ROLE;
ALTER TABLE public.suppliers OWNER TO ${r.owner};
REVOKE USAGE ON TYPE public.device_status FROM PUBLIC;
GRANT USAGE ON TYPE public.device_status TO ${r.reader}, ${r.api};

-- A standalone sequence a default calls.
CREATE SEQUENCE public.ticket_seq AS bigint START 1000;
ALTER TABLE public.purchase_orders ADD COLUMN ticket bigint DEFAULT nextval('public.ticket_seq');
GRANT USAGE ON SEQUENCE public.ticket_seq TO ${r.writer};

-- An aggregate, a view over it, a materialized view over that view, one left unpopulated.
CREATE AGGREGATE public.kwh_total(numeric) (SFUNC = numeric_add, STYPE = numeric, INITCOND = '0');
COMMENT ON AGGREGATE public.kwh_total(numeric) IS 'energy summed, zero for none';
CREATE VIEW public.device_energy AS
  SELECT device_id, public.kwh_total(energy_kwh) AS kwh FROM public.metrics GROUP BY device_id;
CREATE MATERIALIZED VIEW public.building_energy AS
  SELECT d.building_id, sum(e.kwh) AS kwh FROM public.device_energy e JOIN public.devices d ON d.id = e.device_id
  GROUP BY d.building_id;
CREATE MATERIALIZED VIEW public.energy_ranking AS
  SELECT building_id, rank() OVER (ORDER BY kwh DESC) AS position FROM public.building_energy;
CREATE MATERIALIZED VIEW public.never_filled AS SELECT count(*) AS n FROM public.parts WITH NO DATA;
COMMENT ON MATERIALIZED VIEW public.building_energy IS 'refresh after loading';
GRANT SELECT ON public.building_energy TO ${r.reader};
`
}

/** Profiles fed by a trigger on auth.users, row level security, statistics, a rule and a publication. */
function sampleAuthSql(r: SampleRoles): string {
  return `
-- Profiles fed by a SECURITY DEFINER trigger function on auth.users, owned by another role.
CREATE TABLE public.profiles (
  id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
  email text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE public.profiles IS 'one per user, made by handle_new_user';
COMMENT ON COLUMN public.profiles.email IS 'copied from auth.users';
CREATE FUNCTION public.handle_new_user() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  INSERT INTO public.profiles (id, email) VALUES (NEW.id, NEW.email);
  RETURN NEW;
END
$$;
ALTER FUNCTION public.handle_new_user() OWNER TO ${r.owner};
REVOKE EXECUTE ON FUNCTION public.handle_new_user() FROM PUBLIC, ${r.api};
GRANT INSERT ON public.profiles TO ${r.owner};
CREATE TRIGGER on_auth_user_created AFTER INSERT ON auth.users
  FOR EACH ROW EXECUTE FUNCTION public.handle_new_user();

-- Row level security.
ALTER TABLE public.profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY "profiles are readable by their owner" ON public.profiles FOR SELECT TO ${r.api}
  USING (id = (current_setting('request.jwt.claim.sub', true))::uuid);
CREATE POLICY "writers update" ON public.profiles AS RESTRICTIVE FOR UPDATE TO ${r.writer}, ${r.reader}
  USING (true) WITH CHECK (email <> '');
ALTER TABLE public.messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.messages FORCE ROW LEVEL SECURITY;
CREATE POLICY "members read" ON public.messages FOR SELECT USING (true);
CREATE POLICY "profiles made by the trigger" ON public.profiles FOR INSERT TO ${r.owner} WITH CHECK (true);

-- Extended statistics the planner relies on.
CREATE STATISTICS public.devices_kind_status (dependencies) ON kind, status FROM public.devices;
COMMENT ON STATISTICS public.devices_kind_status IS 'kind predicts status';

-- A rule, and publication membership (one table with a column list and a row filter).
CREATE RULE permissions_keep AS ON DELETE TO public.permissions DO INSTEAD NOTHING;
CREATE PUBLICATION lifeboat_sample FOR TABLE public.messages, public.conversations;
ALTER PUBLICATION lifeboat_sample ADD TABLE public.devices (id, kind, status) WHERE (kind <> 'gateway');
`
}
