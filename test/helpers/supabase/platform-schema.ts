// The parts of a new Supabase project's database the image itself sets up (not the
// Auth or Storage services): database grants, `public` and its default privileges,
// `extensions`, `graphql_public`, `realtime`, `vault`, `pgbouncer`, the empty
// `supabase_realtime` publication and PostgREST's schema-reload event triggers.
// Run as the bootstrap superuser inside the new database. README.md lists sources.

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** Who may connect and create in the project database (it is owned by postgres). */
export function databaseGrantsSql(database: string): string {
  const db = quoteIdent(database)
  return `
    GRANT ALL ON DATABASE ${db} TO postgres, dashboard_user;
    GRANT CREATE ON DATABASE ${db} TO supabase_auth_admin, supabase_storage_admin, supabase_realtime_admin;
  `
}

/**
 * `public` is owned by pg_database_owner (so by postgres); every new table, sequence
 * and function there is granted to the API roles, whether postgres or supabase_admin
 * creates it. This is what a restore must not let widen a source's REVOKEs.
 */
function publicSchemaSql(): string {
  const kinds = ['TABLES', 'FUNCTIONS', 'SEQUENCES']
  const defaults = ['postgres', 'supabase_admin'].flatMap((grantor) =>
    kinds.map(
      (kind) =>
        `ALTER DEFAULT PRIVILEGES FOR ROLE ${grantor} IN SCHEMA public GRANT ALL ON ${kind} TO postgres, anon, authenticated, service_role;`,
    ),
  )
  return `
    GRANT USAGE ON SCHEMA public TO postgres, anon, authenticated, service_role;
    ${defaults.join('\n    ')}
  `
}

/**
 * `extensions`, owned by postgres (the image created it while postgres was still a
 * superuser). uuid-ossp and pgcrypto are trusted extensions, so creating them as
 * postgres gives them postgres as owner, as in a project; pg_stat_statements is not,
 * so the superuser creates it (supautils would do the same on postgres's behalf).
 */
function extensionsSchemaSql(extra: readonly string[]): string {
  const untrusted = ['pg_stat_statements', ...extra]
    .map((name) => `CREATE EXTENSION IF NOT EXISTS ${quoteIdent(name)} WITH SCHEMA extensions;`)
    .join('\n    ')
  return `
    CREATE SCHEMA extensions AUTHORIZATION postgres;
    GRANT USAGE ON SCHEMA extensions TO postgres, anon, authenticated, service_role;
    GRANT ALL ON SCHEMA extensions TO dashboard_user;
    SET ROLE postgres;
    CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA extensions;
    CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA extensions;
    RESET ROLE;
    ${untrusted}
    ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA extensions
      GRANT ALL ON TABLES TO postgres WITH GRANT OPTION;
    ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA extensions
      GRANT ALL ON ROUTINES TO postgres WITH GRANT OPTION;
    ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA extensions
      GRANT ALL ON SEQUENCES TO postgres WITH GRANT OPTION;
  `
}

/**
 * `graphql_public` with the placeholder entry point that answers while pg_graphql is
 * off (pg_graphql itself is not in the embedded binaries).
 */
function graphqlPublicSql(): string {
  return `
    CREATE SCHEMA graphql_public AUTHORIZATION supabase_admin;
    GRANT USAGE ON SCHEMA graphql_public TO postgres, anon, authenticated, service_role;
    ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA graphql_public
      GRANT ALL ON TABLES TO postgres, anon, authenticated, service_role;
    ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA graphql_public
      GRANT ALL ON FUNCTIONS TO postgres, anon, authenticated, service_role;
    ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA graphql_public
      GRANT ALL ON SEQUENCES TO postgres, anon, authenticated, service_role;
    CREATE FUNCTION graphql_public.graphql(
      "operationName" text DEFAULT NULL, query text DEFAULT NULL,
      variables jsonb DEFAULT NULL, extensions jsonb DEFAULT NULL)
    RETURNS jsonb LANGUAGE sql AS $fn$
      SELECT jsonb_build_object('errors',
        jsonb_build_array(jsonb_build_object('message', 'GraphQL is off in this project')))
    $fn$;
  `
}

/** `realtime` (the Realtime service's schema) with its migration bookkeeping table. */
function realtimeSql(): string {
  return `
    CREATE SCHEMA realtime AUTHORIZATION supabase_admin;
    GRANT USAGE ON SCHEMA realtime TO postgres WITH GRANT OPTION;
    GRANT USAGE ON SCHEMA realtime TO anon, authenticated, service_role;
    GRANT ALL ON SCHEMA realtime TO supabase_realtime_admin WITH GRANT OPTION;
    SET ROLE supabase_realtime_admin;
    CREATE TABLE realtime.schema_migrations (
      version bigint PRIMARY KEY,
      inserted_at timestamp(0) without time zone
    );
    INSERT INTO realtime.schema_migrations (version, inserted_at)
    VALUES (20211116024918, '2024-01-01'), (20211116045059, '2024-01-01'), (20211116050929, '2024-01-01');
    RESET ROLE;
  `
}

/** The empty publication Realtime reads; owned by postgres so apps add their tables. */
function publicationSql(): string {
  return `
    CREATE PUBLICATION supabase_realtime;
    ALTER PUBLICATION supabase_realtime OWNER TO postgres;
  `
}

/**
 * `vault` and `pgbouncer`: stand-ins for the supabase_vault extension's table and the
 * pooler's auth lookup, so the schemas and their owners exist as in a project.
 */
function vaultAndPgbouncerSql(): string {
  return `
    CREATE SCHEMA vault AUTHORIZATION supabase_admin;
    CREATE TABLE vault.secrets (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text UNIQUE,
      description text NOT NULL DEFAULT '',
      secret text NOT NULL,
      key_id uuid,
      nonce bytea,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    -- supabase_vault's install script: postgres may read and delete secrets, not write them.
    GRANT USAGE ON SCHEMA vault TO postgres WITH GRANT OPTION;
    GRANT SELECT, DELETE ON vault.secrets TO postgres WITH GRANT OPTION;
    CREATE SCHEMA pgbouncer AUTHORIZATION pgbouncer;
    CREATE FUNCTION pgbouncer.get_auth(p_usename text) RETURNS TABLE (username text, password text)
    LANGUAGE sql SECURITY DEFINER SET search_path = '' AS $fn$
      SELECT usename::text, passwd::text FROM pg_catalog.pg_shadow WHERE usename = p_usename
    $fn$;
    REVOKE ALL ON FUNCTION pgbouncer.get_auth(text) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION pgbouncer.get_auth(text) TO pgbouncer;
  `
}

/**
 * PostgREST reloads its schema cache on NOTIFY pgrst; the image installs event
 * triggers that send it after DDL. They fire during every restore's DDL, as in a project.
 */
export function schemaReloadTriggersSql(): string {
  return `
    CREATE FUNCTION extensions.pgrst_ddl_watch() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF EXISTS (SELECT FROM pg_event_trigger_ddl_commands() AS c
                 WHERE c.schema_name IS DISTINCT FROM 'pg_temp') THEN
        NOTIFY pgrst, 'reload schema';
      END IF;
    END $fn$;
    CREATE FUNCTION extensions.pgrst_drop_watch() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF EXISTS (SELECT FROM pg_event_trigger_dropped_objects() AS o WHERE NOT o.is_temporary) THEN
        NOTIFY pgrst, 'reload schema';
      END IF;
    END $fn$;
    CREATE EVENT TRIGGER pgrst_ddl_watch ON ddl_command_end EXECUTE FUNCTION extensions.pgrst_ddl_watch();
    CREATE EVENT TRIGGER pgrst_drop_watch ON sql_drop EXECUTE FUNCTION extensions.pgrst_drop_watch();
  `
}

/** Everything above except the event triggers, which go last (after auth and storage). */
export function platformSchemaSql(extraExtensions: readonly string[]): string {
  return [
    publicSchemaSql(),
    extensionsSchemaSql(extraExtensions),
    graphqlPublicSql(),
    realtimeSql(),
    publicationSql(),
    vaultAndPgbouncerSql(),
  ].join('\n')
}
