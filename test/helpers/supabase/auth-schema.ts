// The `auth` schema of a new project as Supabase Auth (GoTrue) leaves it: tables
// owned by supabase_auth_admin with RLS on, the helper functions, one
// `auth.schema_migrations` row per applied migration, and the grants postgres and the
// API roles get. A realistic subset of columns with the real names, types, keys,
// defaults and generated columns. Run as the bootstrap superuser; README.md has sources.
import { type AuthLevel, authMigrationVersions } from './migration-history.ts'

/** The schema and who may use it, before the service creates anything. */
function authSchemaGrantsSql(): string {
  return `
    CREATE SCHEMA auth AUTHORIZATION supabase_admin;
    GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role, postgres, supabase_realtime_admin;
    GRANT ALL ON SCHEMA auth TO supabase_auth_admin, dashboard_user;
    -- What the Auth service creates is granted to postgres (so apps can read users and
    -- put triggers on them) and to the dashboard; never to the API roles.
    ALTER DEFAULT PRIVILEGES FOR ROLE supabase_auth_admin IN SCHEMA auth GRANT ALL ON TABLES TO postgres, dashboard_user;
    ALTER DEFAULT PRIVILEGES FOR ROLE supabase_auth_admin IN SCHEMA auth GRANT ALL ON SEQUENCES TO postgres, dashboard_user;
    ALTER DEFAULT PRIVILEGES FOR ROLE supabase_auth_admin IN SCHEMA auth GRANT ALL ON ROUTINES TO postgres, dashboard_user;
  `
}

/** auth.users columns in Auth's order; `older` lacks is_anonymous, `newer` adds ours. */
function usersColumns(level: AuthLevel): string[] {
  return [
    'instance_id uuid',
    'id uuid NOT NULL PRIMARY KEY',
    'aud varchar(255)',
    'role varchar(255)',
    'email varchar(255)',
    'encrypted_password varchar(255)',
    'email_confirmed_at timestamptz',
    'invited_at timestamptz',
    'confirmation_token varchar(255)',
    'confirmation_sent_at timestamptz',
    'recovery_token varchar(255)',
    'recovery_sent_at timestamptz',
    'email_change_token_new varchar(255)',
    'email_change varchar(255)',
    'email_change_sent_at timestamptz',
    'last_sign_in_at timestamptz',
    'raw_app_meta_data jsonb',
    'raw_user_meta_data jsonb',
    'is_super_admin boolean',
    'created_at timestamptz',
    'updated_at timestamptz',
    'phone text DEFAULT NULL',
    'phone_confirmed_at timestamptz',
    "phone_change text DEFAULT ''",
    "phone_change_token varchar(255) DEFAULT ''",
    'phone_change_sent_at timestamptz',
    'confirmed_at timestamptz GENERATED ALWAYS AS (LEAST(email_confirmed_at, phone_confirmed_at)) STORED',
    "email_change_token_current varchar(255) DEFAULT ''",
    'email_change_confirm_status smallint DEFAULT 0 CHECK (email_change_confirm_status BETWEEN 0 AND 2)',
    'banned_until timestamptz',
    "reauthentication_token varchar(255) DEFAULT ''",
    'reauthentication_sent_at timestamptz',
    'is_sso_user boolean NOT NULL DEFAULT false',
    'deleted_at timestamptz',
    ...(level === 'older' ? [] : ['is_anonymous boolean NOT NULL DEFAULT false']),
    ...(level === 'newer' ? ['locale text'] : []),
  ]
}

function usersTableSql(level: AuthLevel): string {
  return `
    CREATE TABLE auth.users (
      ${usersColumns(level).join(',\n      ')}
    );
    CREATE UNIQUE INDEX users_email_partial_key ON auth.users (email) WHERE is_sso_user = false;
    CREATE INDEX users_instance_id_idx ON auth.users (instance_id);
    COMMENT ON TABLE auth.users IS 'Auth: one row per user account, kept by the Auth service.';
  `
}

function identityAndSessionTablesSql(): string {
  return `
    CREATE TABLE auth.identities (
      provider_id text NOT NULL,
      user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
      identity_data jsonb NOT NULL,
      provider text NOT NULL,
      last_sign_in_at timestamptz,
      created_at timestamptz,
      updated_at timestamptz,
      email text GENERATED ALWAYS AS (lower(identity_data ->> 'email')) STORED,
      id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
      CONSTRAINT identities_provider_id_provider_unique UNIQUE (provider_id, provider)
    );
    CREATE INDEX identities_user_id_idx ON auth.identities (user_id);
    CREATE TABLE auth.sessions (
      id uuid NOT NULL PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
      created_at timestamptz,
      updated_at timestamptz,
      factor_id uuid,
      aal auth.aal_level,
      not_after timestamptz,
      refreshed_at timestamp without time zone,
      user_agent text,
      ip inet,
      tag text
    );
    CREATE TABLE auth.refresh_tokens (
      instance_id uuid,
      id bigserial PRIMARY KEY,
      token varchar(255) CONSTRAINT refresh_tokens_token_unique UNIQUE,
      user_id varchar(255),
      revoked boolean,
      created_at timestamptz,
      updated_at timestamptz,
      parent varchar(255),
      session_id uuid REFERENCES auth.sessions (id) ON DELETE CASCADE
    );
    CREATE TABLE auth.mfa_amr_claims (
      session_id uuid NOT NULL REFERENCES auth.sessions (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      authentication_method text NOT NULL,
      id uuid NOT NULL PRIMARY KEY,
      CONSTRAINT mfa_amr_claims_session_id_authentication_method_pkey UNIQUE (session_id, authentication_method)
    );
  `
}

function factorAndFlowTablesSql(): string {
  return `
    CREATE TABLE auth.mfa_factors (
      id uuid NOT NULL PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
      friendly_name text,
      factor_type auth.factor_type NOT NULL,
      status auth.factor_status NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      secret text
    );
    CREATE TABLE auth.mfa_challenges (
      id uuid NOT NULL PRIMARY KEY,
      factor_id uuid NOT NULL REFERENCES auth.mfa_factors (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL,
      verified_at timestamptz,
      ip_address inet NOT NULL
    );
    CREATE TABLE auth.flow_state (
      id uuid NOT NULL PRIMARY KEY,
      user_id uuid,
      auth_code text NOT NULL,
      code_challenge_method auth.code_challenge_method NOT NULL,
      code_challenge text NOT NULL,
      provider_type text NOT NULL,
      provider_access_token text,
      provider_refresh_token text,
      created_at timestamptz,
      updated_at timestamptz,
      authentication_method text NOT NULL
    );
    CREATE TABLE auth.sso_providers (
      id uuid NOT NULL PRIMARY KEY,
      resource_id text CHECK (resource_id IS NULL OR char_length(resource_id) > 0),
      created_at timestamptz,
      updated_at timestamptz
    );
    CREATE TABLE auth.sso_domains (
      id uuid NOT NULL PRIMARY KEY,
      sso_provider_id uuid NOT NULL REFERENCES auth.sso_providers (id) ON DELETE CASCADE,
      domain text NOT NULL CHECK (char_length(domain) > 0),
      created_at timestamptz,
      updated_at timestamptz
    );
    CREATE TABLE auth.instances (
      id uuid NOT NULL PRIMARY KEY, uuid uuid, raw_base_config text, created_at timestamptz, updated_at timestamptz
    );
    CREATE TABLE auth.audit_log_entries (
      instance_id uuid, id uuid NOT NULL PRIMARY KEY, payload json, created_at timestamptz,
      ip_address varchar(64) NOT NULL DEFAULT ''
    );
    CREATE TABLE auth.schema_migrations (version varchar(255) NOT NULL PRIMARY KEY);
  `
}

/** Tables of later Auth releases: one_time_tokens (2024), and ours for "newer". */
function laterTablesSql(level: AuthLevel): string {
  const oneTimeTokens = `
    CREATE TYPE auth.one_time_token_type AS ENUM ('confirmation_token', 'reauthentication_token',
      'recovery_token', 'email_change_token_new', 'email_change_token_current', 'phone_change_token');
    CREATE TABLE auth.one_time_tokens (
      id uuid NOT NULL PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
      token_type auth.one_time_token_type NOT NULL,
      token_hash text NOT NULL CHECK (char_length(token_hash) > 0),
      relates_to text NOT NULL,
      created_at timestamp without time zone NOT NULL DEFAULT now(),
      updated_at timestamp without time zone NOT NULL DEFAULT now()
    );
  `
  const trustedDevices = `
    CREATE TABLE auth.trusted_devices (
      id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
      label text,
      created_at timestamptz NOT NULL DEFAULT now()
    );
  `
  return (level === 'older' ? '' : oneTimeTokens) + (level === 'newer' ? trustedDevices : '')
}

/** auth.uid(), auth.role(), auth.email(), auth.jwt(): read PostgREST's JWT claim settings. */
function helperFunctionsSql(): string {
  const claim = (name: string, cast: string) => `
    CREATE FUNCTION auth.${name === 'sub' ? 'uid' : name}() RETURNS ${cast} LANGUAGE sql STABLE AS $fn$
      SELECT coalesce(
        nullif(current_setting('request.jwt.claim.${name}', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> '${name}'
      )::${cast}
    $fn$;`
  return `
    ${claim('sub', 'uuid')}
    ${claim('role', 'text')}
    ${claim('email', 'text')}
    CREATE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $fn$
      SELECT coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
      )::jsonb
    $fn$;
  `
}

/** As the Auth service (supabase_auth_admin): types, tables, functions, RLS, history. */
function serviceMigrationsSql(level: AuthLevel): string {
  const versions = authMigrationVersions(level)
    .map((version) => `('${version}')`)
    .join(', ')
  return `
    SET ROLE supabase_auth_admin;
    CREATE TYPE auth.aal_level AS ENUM ('aal1', 'aal2', 'aal3');
    CREATE TYPE auth.factor_type AS ENUM ('totp', 'webauthn', 'phone');
    CREATE TYPE auth.factor_status AS ENUM ('unverified', 'verified');
    CREATE TYPE auth.code_challenge_method AS ENUM ('s256', 'plain');
    ${usersTableSql(level)}
    ${identityAndSessionTablesSql()}
    ${factorAndFlowTablesSql()}
    ${laterTablesSql(level)}
    ${helperFunctionsSql()}
    INSERT INTO auth.schema_migrations (version) VALUES ${versions};
    DO $rls$
    DECLARE t regclass;
    BEGIN
      FOR t IN SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'auth'::regnamespace AND c.relkind = 'r' LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
      END LOOP;
    END $rls$;
    GRANT SELECT ON ALL TABLES IN SCHEMA auth TO postgres WITH GRANT OPTION;
    RESET ROLE;
  `
}

/** The whole `auth` set-up for a project at the given Auth release level. */
export function authSchemaSql(level: AuthLevel): string {
  return `
    ${authSchemaGrantsSql()}
    ${serviceMigrationsSql(level)}
    -- The image keeps postgres and the dashboard from writing Auth's migration history.
    REVOKE ALL ON auth.schema_migrations FROM postgres, dashboard_user;
    GRANT SELECT ON auth.schema_migrations TO postgres WITH GRANT OPTION;
    REVOKE CREATE ON SCHEMA auth FROM postgres;
    GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA auth TO supabase_realtime_admin;
  `
}
